/**
 * No destructive step before a step that is known to fail, end to end against an emulator server (not `--local`,
 * which fills unset secrets with placeholders). A credential replace is archive-first: with its secret unset, apply
 * writes nothing at all and lists the problem; `--skip-unready` applies everything else. A replace whose create
 * fails after the archive for a reason no preflight can know says which resource is now missing, and the next
 * plan shows it as `+ create`.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { copyFleet, removeDir, runCli } from "./helpers.js";

const CANARY = "canary-preflight-7a21";
const V2 = "https://workspace-mcp-v2.example.com/mcp";

let emulator: RunningEmulator;
let dir: string;
let env: Record<string, string>;
let unset: Record<string, string>;
let client: Anthropic;

async function listAll<T>(pages: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of pages) out.push(item);
  return out;
}

const vaultId = async () => (await listAll(client.beta.vaults.list()))[0]?.id ?? "";
const credentials = async () => listAll(client.beta.vaults.credentials.list(await vaultId()));
const agentVersion = async (name: string) =>
  (await listAll(client.beta.agents.list())).find((a) => a.name === name)?.version;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  dir = await copyFleet();
  unset = { ANTHROPIC_API_KEY: "k", ANTHROPIC_BASE_URL: emulator.url };
  env = { ...unset, WORKSPACE_MCP_TOKEN: CANARY };
  client = new Anthropic({ apiKey: "k", baseURL: emulator.url, maxRetries: 0 });
  expect((await runCli(["apply", "--auto-approve", "--dir", dir], env)).code).toBe(0);
  // Two changes: a credential replace (archive-first, needs the secret) and an agent prompt update (does not).
  const vault = join(dir, "vaults", "email-meeting-manager.yaml");
  await writeFile(
    vault,
    (await readFile(vault, "utf8")).replace("toolset: workspace-mail-calendar", `mcp_server_url: ${V2}`),
  );
  const prompt = join(dir, "prompts", "export-support.md");
  await writeFile(prompt, `${await readFile(prompt, "utf8")}\nBe concise.\n`);
});

afterAll(async () => {
  await emulator.close();
  await removeDir(dir);
});

describe("preflight", () => {
  it("writes nothing when a replace needs an unset secret, and says what to do", async () => {
    const before = await credentials();
    const version = await agentVersion("export-support");
    const applied = await runCli(["apply", "--auto-approve", "--dir", dir], unset);
    expect(applied.code).toBe(1);
    expect(applied.stderr).toContain("Error: apply would fail part-way; nothing was applied:");
    expect(applied.stderr).toContain(
      "  - credential.email-meeting-manager/workspace-mcp: this replace sends ${env:WORKSPACE_MCP_TOKEN}, which is not set",
    );
    expect(applied.stderr).toContain("--skip-unready");
    expect(applied.stdout).not.toContain("✓");
    expect(await credentials()).toEqual(before);
    expect(await agentVersion("export-support")).toBe(version);
  });

  it("refuses a saved plan the same way when the secret is unset at apply time", async () => {
    const file = join(dir, "unready.plan.json");
    expect((await runCli(["plan", "--out", file, "--dir", dir], unset)).code).toBe(0);
    const before = await credentials();
    const applied = await runCli(["apply", file, "--dir", dir], unset);
    expect(applied.code).toBe(1);
    expect(applied.stderr).toContain("nothing was applied");
    expect(await credentials()).toEqual(before);
  });

  it("with --skip-unready applies the rest, and the next plan still shows what was skipped", async () => {
    const before = await credentials();
    const version = await agentVersion("export-support");
    const applied = await runCli(["apply", "--auto-approve", "--skip-unready", "--dir", dir], unset);
    expect(applied.code).toBe(0);
    expect(applied.stderr).toContain("Skipping 1 resource (--skip-unready):");
    expect(applied.stdout).toMatch(/✓ agent\.export-support: updated/);
    expect(applied.stdout).toContain("- credential.email-meeting-manager/workspace-mcp: skipped (--skip-unready)");
    expect(applied.stdout).toContain("1 skipped as not ready; the next plan still shows them.");
    expect(await agentVersion("export-support")).toBe((version ?? 0) + 1);
    expect(await credentials()).toEqual(before);
    const plan = await runCli(["plan", "--dir", dir], env);
    expect(plan.stdout).toContain("-/+ credential.email-meeting-manager/workspace-mcp");
    expect(plan.stdout).toContain("Plan: 0 to create, 0 to update, 1 to replace, 0 to archive.");
  });

  it("names the resource an interrupted archive-first replace left missing; the next plan creates it", async () => {
    const [old] = await credentials();
    // A token over the API's size limit: the archive succeeds, the create is refused (400) after it.
    const oversized = { ...env, WORKSPACE_MCP_TOKEN: `${CANARY}${"x".repeat(17_000)}` };
    const applied = await runCli(["apply", "--auto-approve", "--dir", dir], oversized);
    expect(applied.code).toBe(1);
    expect(applied.stdout).toContain(
      `credential.email-meeting-manager/workspace-mcp is now missing: its old resource ${old?.id} was archived and the new one was not created; the next plan shows it as + create.`,
    );
    expect(applied.stdout).not.toContain(CANARY);
    const plan = await runCli(["plan", "--dir", dir], env);
    expect(plan.stdout).toContain("+ credential.email-meeting-manager/workspace-mcp");
    expect(plan.stdout).toContain("Plan: 1 to create, 0 to update, 0 to replace, 0 to archive.");
    expect((await runCli(["apply", "--auto-approve", "--dir", dir], env)).code).toBe(0);
    expect((await runCli(["plan", "--detailed-exitcode", "--dir", dir], env)).code).toBe(0);
  });
});
