/**
 * Saved plans and machine-readable plans, end to end: `plan --out` then `apply FILE` executes exactly that plan;
 * a plan gone stale (specs edited, live resource changed) is refused before anything is written; `plan --json` prints
 * only JSON that matches schemas/plan.schema.json; a 409 in the middle of an apply is reported as a conflict.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { envSecrets } from "../../src/providers/secrets.js";
import { applyPlan } from "../../src/reconcile/apply.js";
import { loadSpecs, preparePlan } from "../../src/reconcile/workflow.js";
import { schemaProblems } from "../../src/spec/validate.js";
import { copyFleet, removeDir, runCli } from "./helpers.js";

const CANARY = "canary-saved-plan-41c7";

let emulator: RunningEmulator;
let dir: string;
let env: Record<string, string>;
let client: Anthropic;

async function agentByName(name: string) {
  for await (const agent of client.beta.agents.list()) if (agent.name === name) return agent;
  throw new Error(`no agent ${name}`);
}

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  dir = await copyFleet();
  env = { ANTHROPIC_API_KEY: "k", ANTHROPIC_BASE_URL: emulator.url, WORKSPACE_MCP_TOKEN: CANARY };
  client = new Anthropic({ apiKey: "k", baseURL: emulator.url, maxRetries: 0 });
  const applied = await runCli(["apply", "--auto-approve", "--dir", dir], env);
  expect(applied.code).toBe(0);
});

afterAll(async () => {
  await emulator.close();
  await removeDir(dir);
});

const promptFile = () => join(dir, "prompts", "export-support.md");

describe("plan --json", () => {
  it("prints only a plan that matches the schema, with no secret in it", async () => {
    await writeFile(promptFile(), `${await readFile(promptFile(), "utf8")}\nBe concise.\n`);
    const result = await runCli(["plan", "--json", "--detailed-exitcode", "--dir", dir], env);
    expect(result.code).toBe(2);
    const plan = JSON.parse(result.stdout);
    expect(schemaProblems("plan.schema.json", plan)).toEqual([]);
    expect(plan).toMatchObject({ format_version: 1, stack: "example-fleet", target: "default" });
    expect(plan.summary).toMatchObject({ create: 0, update: 1, replace: 0, archive: 0 });
    expect(plan.actions[0]).toMatchObject({
      address: "agent.export-support",
      action: "update",
      changes: [{ path: "system" }],
    });
    expect(result.stdout).not.toContain(CANARY);
  });
});

describe("saved plans", () => {
  it("applies exactly the saved plan, without asking", async () => {
    const file = join(dir, "reviewed.plan.json");
    const planned = await runCli(["plan", "--out", file, "--dir", dir], env);
    expect(planned.code).toBe(0);
    expect(planned.stderr).toContain(`Saved the plan to ${file}`);
    expect(await readFile(file, "utf8")).not.toContain(CANARY);
    const before = await agentByName("export-support");
    const applied = await runCli(["apply", file, "--dir", dir], env);
    expect(applied.stderr).toBe("");
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/✓ agent\.export-support: updated/);
    expect((await agentByName("export-support")).version).toBe(before.version + 1);
    expect((await runCli(["plan", "--detailed-exitcode", "--dir", dir], env)).code).toBe(0);
  });

  it("refuses a plan whose specs changed since, and writes nothing", async () => {
    const file = join(dir, "stale-spec.plan.json");
    await writeFile(promptFile(), `${await readFile(promptFile(), "utf8")}\nMention the ticket number.\n`);
    expect((await runCli(["plan", "--out", file, "--dir", dir], env)).code).toBe(0);
    await writeFile(promptFile(), `${await readFile(promptFile(), "utf8")}\nA later edit nobody reviewed.\n`);
    const before = await agentByName("export-support");
    const applied = await runCli(["apply", file, "--dir", dir], env);
    expect(applied.code).toBe(1);
    expect(applied.stderr).toContain("the saved plan is stale; nothing was applied");
    expect(applied.stderr).toContain("agent.export-support: its spec changed");
    expect(applied.stderr).toContain("reconcile plan --out FILE");
    expect((await agentByName("export-support")).version).toBe(before.version);
  });

  it("refuses a plan whose live resource moved since (an agent's version), and writes nothing", async () => {
    const file = join(dir, "stale-live.plan.json");
    expect((await runCli(["plan", "--out", file, "--dir", dir], env)).code).toBe(0);
    const ops = await agentByName("ops-agent");
    await client.beta.agents.update(ops.id, { version: ops.version, description: "edited in the console" });
    const exportAgent = await agentByName("export-support");
    const applied = await runCli(["apply", file, "--dir", dir], env);
    expect(applied.code).toBe(1);
    expect(applied.stderr).toContain("agent.ops-agent: the live resource changed");
    expect((await agentByName("export-support")).version).toBe(exportAgent.version);
    expect((await agentByName("ops-agent")).description).toBe("edited in the console");
  });

  it("refuses a file that is not a plan, saying why", async () => {
    const file = join(dir, "not-a.plan.json");
    await writeFile(file, JSON.stringify({ format_version: 2 }));
    const applied = await runCli(["apply", file, "--dir", dir], env);
    expect(applied.code).toBe(1);
    expect(applied.stderr).toContain(`${file} is not a reconcile plan`);
    const missing = await runCli(["apply", join(dir, "no-such.plan.json"), "--dir", dir], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no-such.plan.json is not a reconcile plan:\n  - cannot be read (ENOENT)");
    expect(missing.stderr).toContain("Make it with `reconcile plan --out");
  });

  it("applies a fresh plan after a stale one was refused, and converges", async () => {
    const file = join(dir, "fresh.plan.json");
    expect((await runCli(["plan", "--out", file, "--dir", dir], env)).code).toBe(0);
    expect((await runCli(["apply", file, "--dir", dir], env)).code).toBe(0);
    expect((await runCli(["plan", "--detailed-exitcode", "--dir", dir], env)).code).toBe(0);
  });
});

describe("conflicts", () => {
  it("reports a 409 during apply as a conflict, does not retry it, and keeps the other writer's change", async () => {
    await writeFile(promptFile(), `${await readFile(promptFile(), "utf8")}\nOne more line.\n`);
    const project = await loadSpecs(dir);
    const prepared = await preparePlan({ project, client, secrets: envSecrets({ WORKSPACE_MCP_TOKEN: CANARY }) });
    expect(prepared.plan.actions.map((a) => a.address)).toEqual(["agent.export-support"]);
    const agent = await agentByName("export-support");
    await client.beta.agents.update(agent.id, { version: agent.version, description: "someone else's edit" });
    const result = await applyPlan(client, prepared.plan, prepared.desired, prepared.live, prepared.ctx, {
      retry: { minDelayMs: 1, maxDelayMs: 5 },
    });
    expect(result.failed).toBe(1);
    expect(result.outcomes[0]?.error).toMatch(/^conflict: .*run plan again/);
    expect(result.outcomes[0]?.attempts).toBe(1);
    expect((await agentByName("export-support")).description).toBe("someone else's edit");
  });
});
