/**
 * The CLI end to end, as a user runs it: the real `bin/reconcile` against the emulator, on a copy of the example
 * fleet. Covers issue 2's promises: apply then zero-change plan, a prompt edit shown as a diff, drift from an
 * out-of-band SDK edit, secrets never printed, and confirmation never awaited on a non-terminal stdin.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { type CliResult, copyFleet, removeDir, runCli } from "./helpers.js";

const CANARY = "canary-secret-3b9c5e71d2";

let emulator: RunningEmulator;
let dir: string;
let env: Record<string, string>;
const outputs: CliResult[] = [];

async function cli(args: string[], extra: Record<string, string> = {}): Promise<CliResult> {
  const result = await runCli([...args, "--dir", dir], { ...env, ...extra });
  outputs.push(result);
  return result;
}

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  dir = await copyFleet();
  env = { ANTHROPIC_API_KEY: "test-key", ANTHROPIC_BASE_URL: emulator.url, WORKSPACE_MCP_TOKEN: CANARY };
});

afterAll(async () => {
  await emulator.close();
  await removeDir(dir);
});

describe("reconcile CLI against the emulator", () => {
  it("refuses to apply without confirmation when stdin is not a terminal, and changes nothing", async () => {
    const result = await cli(["apply"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("stdin is not a terminal");
    expect(result.stderr).toContain("--auto-approve");
    const client = new Anthropic({ apiKey: "test-key", baseURL: emulator.url, maxRetries: 0 });
    expect((await client.beta.agents.list()).data).toEqual([]);
  });

  it("applies the example fleet, one line per resource", async () => {
    const result = await cli(["apply", "--auto-approve"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Plan: \d+ to create, 0 to update, 0 to replace, 0 to archive\./);
    for (const address of [
      "agent.export-support",
      "agent.email-meeting-manager",
      "agent.ops-agent",
      "environment.export-sandbox",
      "vault.email-meeting-manager",
    ]) {
      expect(result.stdout).toMatch(new RegExp(`✓ ${address.replace(".", "\\.")}: created \\(`));
    }
    expect(result.stdout).toMatch(/✓ credential\.email-meeting-manager\/[a-z0-9-]+: created/);
    expect(result.stdout).toContain("Apply complete:");
  });

  it("plans zero changes right after apply (exit 0 with --detailed-exitcode)", async () => {
    const result = await cli(["plan", "--detailed-exitcode"]);
    expect(result.stdout).toContain("No changes. Live state matches the specs.");
    expect(result.code).toBe(0);
  });

  it("shows an edited system prompt as one update with a text diff (exit 2)", async () => {
    const prompt = join(dir, "prompts", "export-support.md");
    const before = await readFile(prompt, "utf8");
    await writeFile(prompt, `${before.trimEnd()}\nAlways include the export job id in your reply.\n`);
    const result = await cli(["plan", "--detailed-exitcode"]);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain("~ agent.export-support");
    expect(result.stdout).toContain("~ system:");
    expect(result.stdout).toMatch(/^\s+\+Always include the export job id in your reply\.$/m);
    expect(result.stdout).toContain("Plan: 0 to create, 1 to update, 0 to replace, 0 to archive.");
    const applied = await cli(["apply", "--auto-approve"]);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/✓ agent\.export-support: updated/);
    expect((await cli(["plan", "--detailed-exitcode"])).code).toBe(0);
  });

  it("detects drift made out of band with the official SDK", async () => {
    const client = new Anthropic({ apiKey: "test-key", baseURL: emulator.url, maxRetries: 0 });
    const agents = [];
    for await (const agent of client.beta.agents.list()) agents.push(agent);
    const ops = agents.find((a) => a.name === "ops-agent");
    if (!ops) throw new Error("ops-agent was not applied");
    await client.beta.agents.update(ops.id, {
      version: ops.version,
      system: "Do whatever the user says.",
      metadata: { tier: "dev" },
    });
    const result = await cli(["plan", "--detailed-exitcode"]);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain("~ agent.ops-agent");
    expect(result.stdout).toContain("~ system:");
    expect(result.stdout).toContain('~ metadata.tier: "dev" → "production"');
    const repaired = await cli(["apply", "--auto-approve"]);
    expect(repaired.code).toBe(0);
    expect((await cli(["plan", "--detailed-exitcode"])).code).toBe(0);
  });

  it("plans a rotated secret as a masked change and applies it", async () => {
    const result = await cli(["plan", "--detailed-exitcode"], { WORKSPACE_MCP_TOKEN: `${CANARY}-rotated` });
    expect(result.code).toBe(2);
    expect(result.stdout).toContain('~ secret: "(sensitive)" → "(sensitive)"');
    expect((await cli(["apply", "--auto-approve"], { WORKSPACE_MCP_TOKEN: `${CANARY}-rotated` })).code).toBe(0);
    expect((await cli(["plan", "--detailed-exitcode"], { WORKSPACE_MCP_TOKEN: `${CANARY}-rotated` })).code).toBe(0);
  });

  it("prints no colour codes when output is not a terminal", () => {
    for (const { stdout, stderr } of outputs) expect(`${stdout}${stderr}`).not.toContain("\u001b[");
  });

  it("never printed the secret canary in any output", () => {
    expect(outputs.length).toBeGreaterThan(8);
    for (const { stdout, stderr } of outputs) {
      expect(stdout).not.toContain(CANARY);
      expect(stderr).not.toContain(CANARY);
    }
  });
});
