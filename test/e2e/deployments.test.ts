/**
 * Deployments end to end: the real CLI against the emulator on a copy of the test fleet plus a nightly deployment of
 * `ops-agent`. Apply then plan is zero changes; the plan prints the schedule's next three run times; an invalid cron
 * expression and time zone are located errors and no request reaches the API; pausing is an in-place update made
 * through the pause call; an agent change repoints the deployment in the same apply, after the agent; `deploy run`
 * then `deploy runs` shows the run.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { copyFleet, removeDir, runCli } from "./helpers.js";

const SPEC = [
  "apiVersion: reconcile/v1",
  "kind: Deployment",
  "name: ops-nightly",
  "description: Nightly review of production alerts by the ops agent.",
  "agent: ops-agent",
  "environment: ops",
  "message: Review the alerts of the last 24 hours and write a short incident note for each one that fired.",
  "schedule:",
  '  cron: "0 2 * * *"',
  "  timezone: Europe/Paris",
  "metadata:",
  "  team: platform",
  "",
].join("\n");

const FILE = join("deployments", "ops-nightly.yaml");

interface Setup {
  emulator: RunningEmulator;
  dir: string;
  env: Record<string, string>;
  sdk: Anthropic;
  /** Request lines the emulator logged (`req_… METHOD /path?beta=true 200 …`), in order. */
  log: string[];
  cli: (...args: string[]) => ReturnType<typeof runCli>;
}

const setups: Setup[] = [];

/** Each test runs the CLI several times; a loaded machine takes seconds per run. */
const SLOW = 240_000;

/** An emulator that logs every request, and a copy of the test fleet with the deployment spec. */
async function setup(spec = SPEC): Promise<Setup> {
  const log: string[] = [];
  const emulator = await startEmulator({ port: 0, log: (line) => log.push(line) });
  const dir = await copyFleet();
  await mkdir(join(dir, "deployments"), { recursive: true });
  await writeFile(join(dir, FILE), spec);
  const env = { ANTHROPIC_API_KEY: "test-key", ANTHROPIC_BASE_URL: emulator.url, WORKSPACE_MCP_TOKEN: "token-x" };
  const sdk = new Anthropic({ apiKey: "test-key", baseURL: emulator.url, maxRetries: 0 });
  const s: Setup = { emulator, dir, env, sdk, log, cli: (...args) => runCli([...args, "--dir", dir], env) };
  setups.push(s);
  return s;
}

afterAll(async () => {
  for (const s of setups) {
    await s.emulator.close();
    await removeDir(s.dir);
  }
});

/** The writes (`POST`) the emulator logged since `from`, as `POST /path` without the query. */
function writes(log: readonly string[], from = 0): string[] {
  return log
    .slice(from)
    .map((line) => /^\S+ (POST) (\S+?)(?:\?\S*)? /.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => `${m[1]} ${m[2]}`);
}

async function deploymentOf(sdk: Anthropic) {
  const all = [];
  for await (const d of sdk.beta.deployments.list()) all.push(d);
  const found = all.filter((d) => d.metadata["reconcile/name"] === "ops-nightly");
  expect(found).toHaveLength(1);
  return found[0] as (typeof all)[0];
}

async function agentOf(sdk: Anthropic, name: string) {
  const all = [];
  for await (const a of sdk.beta.agents.list()) all.push(a);
  return all.find((a) => a.metadata["reconcile/name"] === name) as (typeof all)[0];
}

describe("deployments: apply, plan, schedule", () => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup();
  }, SLOW);

  it(
    "a fresh plan shows the references as known after apply and the next three run times in the zone",
    async () => {
      const plan = await s.cli("plan", "--no-color");
      expect(plan.stderr).toBe("");
      expect(plan.code).toBe(0);
      const block = plan.stdout.slice(plan.stdout.indexOf("+ deployment.ops-nightly"));
      expect(block).toContain('environment_id: "(known after apply)"');
      expect(block).toMatch(/agent:\n\s+id: \(known after apply\)\n\s+version: \(known after apply\)/);
      const runs = block.match(/# {3}\d{4}-\d{2}-\d{2} 02:00 Europe\/Paris \(0[01]:00 UTC\)/g) ?? [];
      expect(runs).toHaveLength(3);
      expect(block).toContain('# next runs of "0 2 * * *":');
      const json = JSON.parse((await s.cli("plan", "--json")).stdout);
      expect(json.annotations["deployment.ops-nightly"]).toHaveLength(4);
      const markdown = await s.cli("plan", "--markdown");
      expect(markdown.stdout).toMatch(/02:00 Europe\/Paris/);
    },
    SLOW,
  );

  it(
    "apply then plan is zero changes; the live deployment pins the agent version apply produced",
    async () => {
      const applied = await s.cli("apply", "--auto-approve", "--no-color");
      expect(applied.code).toBe(0);
      expect(applied.stdout).toMatch(/deployment\.ops-nightly: created \(depl_/);
      const plan = await s.cli("plan", "--no-color");
      expect(plan.stdout).toContain("No changes. Live state matches the specs.");
      const deployment = await deploymentOf(s.sdk);
      const agent = await agentOf(s.sdk, "ops-agent");
      expect(deployment.agent).toEqual({ type: "agent", id: agent.id, version: agent.version });
      expect(deployment.schedule).toMatchObject({ expression: "0 2 * * *", timezone: "Europe/Paris" });
      expect(deployment.schedule?.upcoming_runs_at).toHaveLength(5);
      expect(deployment.status).toBe("active");
    },
    SLOW,
  );

  it(
    "pausing is an in-place update through the pause call; unpausing goes back the same way",
    async () => {
      await writeFile(join(s.dir, FILE), `${SPEC}paused: true\n`);
      const plan = await s.cli("plan", "--no-color");
      expect(plan.stdout).toContain("~ deployment.ops-nightly");
      expect(plan.stdout).not.toContain("-/+ deployment.ops-nightly");
      expect(plan.stdout).toContain("~ paused: false → true");
      expect(plan.stdout).toContain("Plan: 0 to create, 1 to update, 0 to replace, 0 to archive.");
      const { id } = await deploymentOf(s.sdk);
      const from = s.log.length;
      const applied = await s.cli("apply", "--auto-approve");
      expect(applied.code).toBe(0);
      const deploymentWrites = writes(s.log, from).filter((w) => w.includes("/v1/deployments/"));
      // The pause first, then one update that carries only reconcile's applied stamp (metadata).
      expect(deploymentWrites).toEqual([`POST /v1/deployments/${id}/pause`, `POST /v1/deployments/${id}`]);
      expect(await deploymentOf(s.sdk)).toMatchObject({ id, status: "paused", paused_reason: { type: "manual" } });
      expect((await s.cli("plan")).stdout).toContain("No changes.");

      await writeFile(join(s.dir, FILE), SPEC.replace("team: platform", "team: ops"));
      const back = s.log.length;
      expect((await s.cli("apply", "--auto-approve")).code).toBe(0);
      // Unpaused last, once the rest is written.
      expect(writes(s.log, back).filter((w) => w.includes("/v1/deployments/"))).toEqual([
        `POST /v1/deployments/${id}`,
        `POST /v1/deployments/${id}/unpause`,
      ]);
      expect(await deploymentOf(s.sdk)).toMatchObject({ id, status: "active", metadata: { team: "ops" } });
      await writeFile(join(s.dir, FILE), SPEC);
      expect((await s.cli("apply", "--auto-approve")).code).toBe(0);
    },
    SLOW,
  );

  it(
    "an agent change repoints its deployment in the same apply, after the agent",
    async () => {
      const agentFile = join(s.dir, "agents", "ops-agent.yaml");
      await writeFile(agentFile, (await readFile(agentFile, "utf8")).replace("tier: production", "tier: critical"));
      const before = await agentOf(s.sdk, "ops-agent");
      const plan = await s.cli("plan", "--no-color");
      expect(plan.stdout).toContain("~ agent.ops-agent");
      expect(plan.stdout).toContain(`~ agent.version: ${before.version} → "(known after apply)"`);
      expect(plan.stdout).toContain("Plan: 0 to create, 2 to update, 0 to replace, 0 to archive.");
      const { id } = await deploymentOf(s.sdk);
      const from = s.log.length;
      const applied = await s.cli("apply", "--auto-approve", "--no-color");
      expect(applied.code).toBe(0);
      const order = writes(s.log, from).filter(
        (w) => w === `POST /v1/agents/${before.id}` || w === `POST /v1/deployments/${id}`,
      );
      expect(order).toEqual([`POST /v1/agents/${before.id}`, `POST /v1/deployments/${id}`]);
      const lines = applied.stdout.split("\n");
      const agentLine = lines.findIndex((l) => l.includes("agent.ops-agent: updated"));
      const deploymentLine = lines.findIndex((l) => l.includes("deployment.ops-nightly: updated"));
      expect(agentLine).toBeGreaterThanOrEqual(0);
      expect(deploymentLine).toBeGreaterThan(agentLine);
      const after = await agentOf(s.sdk, "ops-agent");
      expect(after.version).toBe(before.version + 1);
      expect((await deploymentOf(s.sdk)).agent).toEqual({ type: "agent", id: after.id, version: after.version });
      expect((await s.cli("plan")).stdout).toContain("No changes.");
    },
    SLOW,
  );

  it(
    "deploy run starts a run and prints its id; deploy runs lists it with its session",
    async () => {
      const run = await s.cli("deploy", "run", "ops-nightly");
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      const id = /Run (drun_\w+) of deployment\.ops-nightly \(depl_\w+\) started session (sesn_\w+)/.exec(run.stdout);
      expect(id).not.toBeNull();
      const json = await s.cli("deploy", "run", "ops-nightly", "--json");
      const second = JSON.parse(json.stdout);
      expect(second.deployment.name).toBe("ops-nightly");
      expect(second.run.id).toMatch(/^drun_/);
      const runs = await s.cli("deploy", "runs", "ops-nightly", "--no-color");
      expect(runs.code).toBe(0);
      const rows = runs.stdout.trim().split("\n");
      expect(rows[0]).toMatch(/^RUN\s+CREATED\s+TRIGGER\s+AGENT\s+OUTCOME$/);
      expect(rows[1]).toContain(second.run.id);
      expect(rows[2]).toContain(id?.[1]);
      expect(rows[2]).toContain(`session ${id?.[2]}`);
      expect(rows[2]).toMatch(/manual\s+version \d+/);
      const limited = JSON.parse((await s.cli("deploy", "runs", "ops-nightly", "--limit", "1", "--json")).stdout);
      expect(limited.runs.map((r: { id: string }) => r.id)).toEqual([second.run.id]);
    },
    SLOW,
  );

  it(
    "an unknown name says which deployments the stack has; a bad --limit is a usage error",
    async () => {
      const unknown = await s.cli("deploy", "runs", "nightly");
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain(
        'no deployment "nightly" on stack example-fleet, target default; the stack\'s deployments: ops-nightly',
      );
      const json = await s.cli("deploy", "run", "nightly", "--json");
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout).ok).toBe(false);
      const limit = await s.cli("deploy", "runs", "ops-nightly", "--limit", "0");
      expect(limit.code).toBe(1);
      expect(limit.stderr).toContain("expected a whole number from 1 to 100");
    },
    SLOW,
  );
});

describe("deployments: checked before any API call", () => {
  it(
    "an invalid cron expression and an invalid time zone are errors at their locations, and no request is sent",
    async () => {
      const bad = SPEC.replace('cron: "0 2 * * *"', 'cron: "0 0 2 * * *"').replace("Europe/Paris", "Europe/Pariss");
      const s = await setup(bad);
      const plan = await s.cli("plan");
      expect(plan.code).toBe(1);
      expect(plan.stderr).toContain(
        "deployments/ops-nightly.yaml:9:9: Deployment/ops-nightly: schedule.cron: must have exactly 5 fields",
      );
      expect(plan.stderr).toContain(
        'deployments/ops-nightly.yaml:10:13: Deployment/ops-nightly: schedule.timezone: "Europe/Pariss" is not in the IANA time zone database',
      );
      const apply = await s.cli("apply", "--auto-approve");
      expect(apply.code).toBe(1);
      expect(apply.stderr).toContain("schedule.cron");
      expect(s.log).toEqual([]);
    },
    SLOW,
  );

  it(
    "deploy run of a declared deployment that was never applied says to apply first",
    async () => {
      const s = await setup();
      const run = await s.cli("deploy", "run", "ops-nightly");
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('deployment "ops-nightly" is declared but does not exist');
      expect(writes(s.log)).toEqual([]);
    },
    SLOW,
  );
});

describe("deployments: --local, two runs at once", () => {
  it(
    "two deploy run --local started together both record their run in the state file",
    async () => {
      const s = await setup();
      const local = (...args: string[]) => runCli([...args, "--local", "--dir", s.dir], { WORKSPACE_MCP_TOKEN: "t" });
      expect((await local("apply", "--auto-approve")).code).toBe(0);
      const [a, b] = await Promise.all([local("deploy", "run", "ops-nightly"), local("deploy", "run", "ops-nightly")]);
      expect([a.code, b.code], a.stderr + b.stderr).toEqual([0, 0]);
      const ids = [a.stdout, b.stdout].map((out) => /Run (drun_\w+)/.exec(out)?.[1]);
      const listed = JSON.parse((await local("deploy", "runs", "ops-nightly", "--json")).stdout);
      expect(listed.runs.map((r: { id: string }) => r.id).sort()).toEqual([...ids].sort());
      expect(s.log).toEqual([]);
    },
    SLOW,
  );
});
