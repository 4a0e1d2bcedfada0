/**
 * Replacement end to end: what the API cannot change in place plans as `-/+`, and apply orders it by the kind's
 * rule. An environment's config type is replaced create-first (the new one exists before the old is archived); a
 * credential's MCP server URL archive-first (a vault holds one active credential per server URL). Either way the
 * next plan is empty and exactly one live resource holds the address.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { copyFleet, removeDir, runCli } from "./helpers.js";

let emulator: RunningEmulator;
let dir: string;
let env: Record<string, string>;
let client: Anthropic;

async function listAll<T>(pages: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of pages) out.push(item);
  return out;
}

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  dir = await copyFleet();
  env = { ANTHROPIC_API_KEY: "k", ANTHROPIC_BASE_URL: emulator.url, WORKSPACE_MCP_TOKEN: "token" };
  client = new Anthropic({ apiKey: "k", baseURL: emulator.url, maxRetries: 0 });
  expect((await runCli(["apply", "--auto-approve", "--dir", dir], env)).code).toBe(0);
});

afterAll(async () => {
  await emulator.close();
  await removeDir(dir);
});

describe("replace", () => {
  it("replaces an environment whose config type changes: new one created, old one archived", async () => {
    const before = (await listAll(client.beta.environments.list())).find((e) => e.name === "export-sandbox");
    await writeFile(
      join(dir, "environments", "export-sandbox.yaml"),
      "apiVersion: reconcile/v1\nkind: Environment\nname: export-sandbox\nconfig:\n  type: self_hosted\nmetadata:\n  team: support\n",
    );
    const plan = await runCli(["plan", "--dir", dir], env);
    expect(plan.stdout).toContain("-/+ environment.export-sandbox  (config.type cannot change in place)");
    expect(plan.stdout).toContain('~ config.type: "cloud" → "self_hosted"');
    expect(plan.stdout).toContain("Plan: 0 to create, 0 to update, 1 to replace, 0 to archive.");
    const applied = await runCli(["apply", "--auto-approve", "--dir", dir], env);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/✓ environment\.export-sandbox: replaced \(env_\w+\)/);
    const sandboxes = (await listAll(client.beta.environments.list())).filter((e) => e.name === "export-sandbox");
    expect(sandboxes).toHaveLength(1);
    expect(sandboxes[0]?.id).not.toBe(before?.id);
    expect(sandboxes[0]?.config.type).toBe("self_hosted");
    expect((await client.beta.environments.retrieve(before?.id ?? "")).archived_at).not.toBeNull();
    expect((await runCli(["plan", "--detailed-exitcode", "--dir", dir], env)).code).toBe(0);
  });

  it("replaces a credential whose MCP server URL changes, archiving the old one first", async () => {
    const [vault] = await listAll(client.beta.vaults.list());
    const [before] = await listAll(client.beta.vaults.credentials.list(vault?.id ?? ""));
    const file = join(dir, "vaults", "email-meeting-manager.yaml");
    await writeFile(
      file,
      (await readFile(file, "utf8")).replace(
        "toolset: workspace-mail-calendar",
        "mcp_server_url: https://workspace-mcp-v2.example.com/mcp",
      ),
    );
    const plan = await runCli(["plan", "--dir", dir], env);
    expect(plan.stdout).toContain(
      "-/+ credential.email-meeting-manager/workspace-mcp  (auth.mcp_server_url cannot change in place)",
    );
    const applied = await runCli(["apply", "--auto-approve", "--dir", dir], env);
    expect(applied.stderr).toBe("");
    expect(applied.code).toBe(0);
    const after = await listAll(client.beta.vaults.credentials.list(vault?.id ?? ""));
    expect(after).toHaveLength(1);
    expect(after[0]?.id).not.toBe(before?.id);
    expect(after[0]?.auth).toMatchObject({
      type: "static_bearer",
      mcp_server_url: "https://workspace-mcp-v2.example.com/mcp",
    });
    expect((await runCli(["plan", "--detailed-exitcode", "--dir", dir], env)).code).toBe(0);
  });
});
