/**
 * `reconcile drift` reports credentials due for rotation (issue 9 item 2) next to field drift: the fixture's
 * `email-meeting-manager` credential says `rotation: { max_age: 1d }`, and a secret last written two days ago makes
 * the report drifted (exit 2) with that credential under `secret_health`, never with the secret value.
 */
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { copyFleet, removeDir, runCli } from "./helpers.js";

const CANARY = "canary-drift-health-41f0";
let emulator: RunningEmulator;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  dir = await copyFleet();
  env = { ANTHROPIC_API_KEY: "k", ANTHROPIC_BASE_URL: emulator.url, WORKSPACE_MCP_TOKEN: CANARY };
  const applied = await runCli(["apply", "--auto-approve", "--dir", dir], env);
  expect(applied.code, applied.stderr).toBe(0);
}, 120_000);
afterAll(async () => {
  await emulator.close();
  await removeDir(dir);
});

describe("drift and secret health", () => {
  it("is clean right after apply, and reports a secret written longer ago than max_age as due", async () => {
    const clean = await runCli(["drift", "--json", "--dir", dir], env);
    expect(clean.code, clean.stderr).toBe(0);
    expect(JSON.parse(clean.stdout).secret_health).toEqual([]);

    // Back-date the recorded write time, as if the last rotation ran two days ago.
    const client = new Anthropic({ apiKey: "k", baseURL: emulator.url, maxRetries: 0 });
    const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000).toISOString();
    for await (const vault of client.beta.vaults.list()) {
      for await (const credential of client.beta.vaults.credentials.list(vault.id)) {
        await client.beta.vaults.credentials.update(credential.id, {
          vault_id: vault.id,
          metadata: { "reconcile/secret-written-at": twoDaysAgo },
        } as never);
      }
    }
    const due = await runCli(["drift", "--json", "--dir", dir], env);
    expect(due.code, due.stderr).toBe(2);
    const report = JSON.parse(due.stdout);
    expect(report.secret_health).toEqual([
      expect.objectContaining({ address: "credential.email-meeting-manager/workspace-mcp", status: "due" }),
    ]);
    expect(due.stdout + due.stderr).not.toContain(CANARY);
  }, 120_000);
});
