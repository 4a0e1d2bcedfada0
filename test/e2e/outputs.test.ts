/**
 * `reconcile outputs` end to end: the real CLI against the emulator on a copy of the example fleet. The JSON is
 * valid against schemas/outputs.schema.json, its ids are the live ones, objects the stack does not own (a foreign
 * agent, a lock-like agent without `reconcile/name`) never appear, a spec removed from the repository shows as
 * orphaned, and no secret is printed.
 */
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { copyFleet, REPO, removeDir, runCli } from "./helpers.js";

const CANARY = "canary-secret-outputs-5d1e";

let emulator: RunningEmulator;
let dir: string;
let env: Record<string, string>;
let sdk: Anthropic;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  dir = await copyFleet();
  env = { ANTHROPIC_API_KEY: "test-key", ANTHROPIC_BASE_URL: emulator.url, WORKSPACE_MCP_TOKEN: CANARY };
  sdk = new Anthropic({ apiKey: "test-key", baseURL: emulator.url, maxRetries: 0 });
});

afterAll(async () => {
  await emulator.close();
  await removeDir(dir);
});

const cli = (args: string[]) => runCli([...args, "--dir", dir], env);

async function validator() {
  const schema = JSON.parse(await readFile(join(REPO, "schemas", "outputs.schema.json"), "utf8"));
  return new Ajv2020({ allErrors: true, strict: false }).compile(schema);
}

describe("reconcile outputs", () => {
  it("lists every declared resource as pending before the first apply", async () => {
    const result = await cli(["outputs", "--json"]);
    expect(result.code).toBe(0);
    const outputs = JSON.parse(result.stdout);
    expect(outputs.agents).toEqual({});
    expect(outputs.pending).toContain("agent.export-support");
    expect(result.stderr).toContain("Not created yet");
  });

  it("maps spec names to the live ids after apply, valid against the schema, without foreign objects", async () => {
    const applied = await cli(["apply", "--auto-approve"]);
    expect(applied.code).toBe(0);
    await sdk.beta.agents.create({ name: "payroll-bot", model: "claude-haiku-4-5" });
    const lock = await sdk.beta.agents.create({
      name: "reconcile-lock",
      model: "claude-haiku-4-5",
      metadata: { "managed-by": "reconcile", "reconcile/stack": "example-fleet", "reconcile/lock": "held" },
    });

    const result = await cli(["outputs", "--json"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    const outputs = JSON.parse(result.stdout);
    const validate = await validator();
    expect(validate(outputs), JSON.stringify(validate.errors)).toBe(true);
    expect(outputs.stack).toBe("example-fleet");
    expect(outputs.target).toBe("default");
    expect(Object.keys(outputs.agents).sort()).toEqual(["email-meeting-manager", "export-support", "ops-agent"]);
    const live = (await sdk.beta.agents.list()).data;
    for (const [name, entry] of Object.entries(outputs.agents as Record<string, { id: string; version: number }>)) {
      const agent = live.find((a) => a.id === entry.id);
      expect(agent?.metadata["reconcile/name"]).toBe(name);
      expect(entry.version).toBe(agent?.version);
    }
    expect(JSON.stringify(outputs)).not.toContain(lock.id);
    expect(Object.keys(outputs.environments).sort()).toEqual(["export-sandbox", "ops"]);
    expect(Object.keys(outputs.vaults)).toEqual(["email-meeting-manager"]);
    const [credential] = Object.values(outputs.credentials as Record<string, { vault_id: string }>);
    expect(credential?.vault_id).toBe(outputs.vaults["email-meeting-manager"].id);
    expect(outputs.pending).toEqual([]);
    expect(outputs.orphaned).toEqual([]);
    expect(result.stdout).not.toContain(CANARY);
  });

  it("prints aligned text lines with the agent versions", async () => {
    const result = await cli(["outputs"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^agent\.export-support\s+agent_\S+ {2}\(version 1\)$/m);
    expect(result.stdout).toMatch(/^environment\.ops\s+env_\S+$/m);
    expect(result.stdout).not.toContain(CANARY);
  });

  it("shows an owned resource whose spec was removed as orphaned, not as an output", async () => {
    await rm(join(dir, "agents", "ops-agent.yaml"));
    await rm(join(dir, "deployments", "ops-nightly.yaml")); // it runs ops-agent
    const result = await cli(["outputs", "--json"]);
    expect(result.code).toBe(0);
    const outputs = JSON.parse(result.stdout);
    expect(outputs.agents["ops-agent"]).toBeUndefined();
    expect(outputs.orphaned).toEqual(["agent.ops-agent", "deployment.ops-nightly"]);
    expect(result.stderr).toContain("agent.ops-agent");
  });

  it("fails with a clear error and exit 1 when the API cannot be reached", async () => {
    const result = await runCli(["outputs", "--dir", dir], { ...env, ANTHROPIC_BASE_URL: "http://127.0.0.1:9" });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Error: /m);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
