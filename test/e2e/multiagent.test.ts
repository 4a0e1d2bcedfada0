/**
 * Agents complete (issue 11 item 5), end to end: the real CLI against the emulator.
 *
 * - A fresh fleet where agent `lead` calls agent `triage` plans `(known after apply)` for lead's reference, applies
 *   triage before lead, then plans zero changes.
 * - Changing triage's system prompt updates triage and repoints lead to triage's new version in the same apply; an
 *   apply killed between the two writes converges on the next one.
 * - A console-set `execution_identity` (or `multiagent`) is not drift while the spec says nothing, survives an update
 *   of another field, and is drift once the spec says otherwise.
 * - Exporting a console agent named "Triage Bot" (and one calling it, with an IAM role) adopts without a rename or
 *   any other field change (the caller's reference follows the adopted agent's new version), and plans zero changes
 *   after the adopting apply.
 */
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parse } from "yaml";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { removeDir, runCli } from "./helpers.js";

// Each test runs the CLI several times; a loaded 2-core machine makes one run take seconds.
vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

const V1 = "apiVersion: reconcile/v1";
const ROLE = "arn:aws:iam::123456789012:role/agent-runner";

interface PlanJson {
  actions: Array<{
    address: string;
    action: string;
    changes: Array<{ path: string; after?: unknown; unknown?: boolean }>;
  }>;
}

let emulator: RunningEmulator;
let sdk: Anthropic;
const dirs: string[] = [];

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  sdk = new Anthropic({ apiKey: "test-key", baseURL: emulator.url, maxRetries: 0 });
});

afterAll(async () => {
  await emulator.close();
  for (const dir of dirs) await removeDir(dir);
});

async function repo(stack: string, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "reconcile-multiagent-"));
  dirs.push(dir);
  await writeFile(join(dir, "reconcile.yaml"), `stack: ${stack}\nsecret_env: []\n`);
  for (const [file, text] of Object.entries(files)) {
    await mkdir(join(dir, file, ".."), { recursive: true });
    await writeFile(join(dir, file), text);
  }
  return dir;
}

const agentYaml = (name: string, ...more: string[]) =>
  [V1, "kind: Agent", `name: ${name}`, "model: claude-haiku-4-5", ...more, ""].join("\n");

function cli(dir: string, args: string[]) {
  return runCli([...args, "--dir", dir], { ANTHROPIC_API_KEY: "test-key", ANTHROPIC_BASE_URL: emulator.url });
}

async function plan(dir: string): Promise<PlanJson> {
  const run = await cli(dir, ["plan", "--json"]);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as PlanJson;
}

async function apply(dir: string): Promise<string> {
  const run = await cli(dir, ["apply", "--auto-approve"]);
  expect(run.code, run.stderr + run.stdout).toBe(0);
  return run.stdout;
}

async function liveAgent(stack: string, name: string) {
  const all = (await sdk.beta.agents.list({ limit: 100 })).data;
  const found = all.find((a) => a.metadata["reconcile/stack"] === stack && a.metadata["reconcile/name"] === name);
  if (!found) throw new Error(`no live agent ${stack}/${name}`);
  return found;
}

describe("an agent that calls another", () => {
  let dir: string;
  const stack = "calls";

  beforeAll(async () => {
    dir = await repo(stack, {
      "agents/lead.yaml": agentYaml("lead", "system: Lead.", "multiagent:", "  agents: [triage]"),
      "agents/triage.yaml": agentYaml("triage", "system: Triage v1."),
    });
  });

  it("plans (known after apply) for the reference, applies the called agent first, then plans zero changes", async () => {
    const first = await plan(dir);
    const lead = first.actions.find((a) => a.address === "agent.lead");
    expect(lead?.action).toBe("create");
    const multiagent = lead?.changes.find((c) => c.path === "multiagent");
    expect(multiagent?.unknown).toBe(true);
    expect(JSON.stringify(multiagent?.after)).toContain("(known after apply)");
    const text = await cli(dir, ["plan"]);
    expect(text.stdout).toContain("(known after apply)");

    const out = await apply(dir);
    expect(out.indexOf("✓ agent.triage")).toBeGreaterThanOrEqual(0);
    expect(out.indexOf("✓ agent.triage")).toBeLessThan(out.indexOf("✓ agent.lead"));

    const triage = await liveAgent(stack, "triage");
    const live = await liveAgent(stack, "lead");
    expect(live.multiagent).toEqual({
      type: "multiagent_20261001",
      advisor: { type: "disabled" },
      subagents: {
        type: "enabled",
        inline_agents: { type: "enabled" },
        predefined_agents: [{ type: "agent", id: triage.id, version: triage.version }],
      },
      workflows: { type: "enabled", inline_agents: { type: "enabled" }, predefined_agents: [] },
    });
    expect((await plan(dir)).actions).toEqual([]);
  });

  it("repoints the caller to the called agent's new version in the same apply", async () => {
    await writeFile(join(dir, "agents/triage.yaml"), agentYaml("triage", "system: Triage v2."));
    const before = await liveAgent(stack, "lead");
    const changed = await plan(dir);
    expect(changed.actions.map((a) => `${a.action} ${a.address}`).sort()).toEqual([
      "update agent.lead",
      "update agent.triage",
    ]);
    const repoint = changed.actions.find((a) => a.address === "agent.lead")?.changes ?? [];
    expect(repoint.map((c) => c.path)).toEqual(['multiagent.subagents.predefined_agents["0"].version']);
    expect(repoint[0]?.unknown).toBe(true);

    const out = await apply(dir);
    expect(out.indexOf("✓ agent.triage")).toBeLessThan(out.indexOf("✓ agent.lead"));
    const triage = await liveAgent(stack, "triage");
    const lead = await liveAgent(stack, "lead");
    expect(triage.version).toBe(2);
    expect(lead.version).toBe(before.version + 1);
    const roster = lead.multiagent?.type === "multiagent_20261001" ? lead.multiagent.subagents : undefined;
    expect(roster).toMatchObject({ predefined_agents: [{ id: triage.id, version: 2 }] });
    expect((await plan(dir)).actions).toEqual([]);
  });

  it("converges after an apply that died between the called agent's update and the repoint", async () => {
    await writeFile(join(dir, "agents/triage.yaml"), agentYaml("triage", "system: Triage v3."));
    const triage = await liveAgent(stack, "triage");
    // What a kill -9 right after the first write leaves: triage updated, lead still on the old version.
    const updated = await sdk.beta.agents.update(triage.id, { version: triage.version, system: "Triage v3." });
    const resumed = await plan(dir);
    expect(resumed.actions.map((a) => `${a.action} ${a.address}`)).toEqual(["update agent.lead"]);
    const change = resumed.actions[0]?.changes[0];
    expect(change).toMatchObject({
      path: 'multiagent.subagents.predefined_agents["0"].version',
      before: triage.version,
      after: updated.version,
    });
    expect(change?.unknown).toBeUndefined();
    await apply(dir);
    expect((await plan(dir)).actions).toEqual([]);
  });
});

describe("values the console sets", () => {
  let dir: string;
  const stack = "console";

  beforeAll(async () => {
    dir = await repo(stack, {
      "agents/runner.yaml": agentYaml("runner", "system: Run."),
      "agents/helper.yaml": agentYaml("helper"),
    });
    await apply(dir);
  });

  it("are not drift while the spec says nothing, and an update of another field keeps them", async () => {
    const runner = await liveAgent(stack, "runner");
    const helper = await liveAgent(stack, "helper");
    await sdk.beta.agents.update(runner.id, {
      version: runner.version,
      execution_identity: { type: "aws_role", role_arn: ROLE },
      multiagent: { type: "multiagent_20261001", subagents: { type: "enabled", predefined_agents: [helper.id] } },
    });
    expect((await plan(dir)).actions).toEqual([]);

    await writeFile(join(dir, "agents/runner.yaml"), agentYaml("runner", "system: Run faster."));
    const changed = await plan(dir);
    expect(changed.actions.map((a) => a.changes.map((c) => c.path))).toEqual([["system"]]);
    await apply(dir);
    const after = await liveAgent(stack, "runner");
    expect(after.system).toBe("Run faster.");
    expect(after.execution_identity).toEqual({ type: "aws_role", role_arn: ROLE });
    expect(after.multiagent).not.toBeNull();
  });

  it("are drift once the spec says otherwise, and apply writes the spec's value", async () => {
    const other = "arn:aws:iam::123456789012:role/other-runner";
    await writeFile(
      join(dir, "agents/runner.yaml"),
      agentYaml(
        "runner",
        "system: Run faster.",
        `execution_identity: {type: aws_role, role_arn: '${other}'}`,
        "multiagent: {agents: [helper], workflows: false}",
      ),
    );
    const changed = await plan(dir);
    expect(changed.actions.map((a) => a.address)).toEqual(["agent.runner"]);
    const paths = changed.actions[0]?.changes.map((c) => c.path) ?? [];
    expect(paths).toContain("execution_identity.role_arn");
    expect(paths).toContain("multiagent.workflows.enabled");
    expect(paths.every((p) => p === "execution_identity.role_arn" || p.startsWith("multiagent.workflows."))).toBe(true);
    const drift = await cli(dir, ["drift"]);
    expect(drift.code).toBe(2);
    await apply(dir);
    const helper = await liveAgent(stack, "helper");
    let after = await liveAgent(stack, "runner");
    expect(after.execution_identity).toEqual({ type: "aws_role", role_arn: other });
    expect(after.multiagent).toEqual({
      type: "multiagent_20261001",
      advisor: { type: "disabled" },
      subagents: {
        type: "enabled",
        inline_agents: { type: "enabled" },
        predefined_agents: [{ type: "agent", id: helper.id, version: helper.version }],
      },
      workflows: { type: "disabled" },
    });
    expect((await plan(dir)).actions).toEqual([]);

    await writeFile(
      join(dir, "agents/runner.yaml"),
      agentYaml("runner", "system: Run faster.", "execution_identity: {type: service_account}", "multiagent: false"),
    );
    const reset = await plan(dir);
    expect(reset.actions[0]?.changes.map((c) => c.path).sort()).toEqual([
      "execution_identity.role_arn",
      "execution_identity.type",
      "multiagent",
    ]);
    await apply(dir);
    after = await liveAgent(stack, "runner");
    expect(after.execution_identity).toEqual({ type: "service_account" });
    expect(after.multiagent).toBeNull();
    expect((await plan(dir)).actions).toEqual([]);
  });
});

describe("export of console agents", () => {
  it("keeps the console name as display_name and the roster by spec name: nothing to change but ownership", async () => {
    const bot = await sdk.beta.agents.create({ name: "Triage Bot", model: "claude-haiku-4-5", system: "Sort." });
    await sdk.beta.agents.create({
      name: "Front Desk",
      model: "claude-haiku-4-5",
      execution_identity: { type: "aws_role", role_arn: ROLE },
      multiagent: {
        type: "multiagent_20261001",
        advisor: { type: "enabled", model: "claude-opus-4-6" },
        subagents: { type: "enabled", inline_agents: { type: "disabled" }, predefined_agents: [bot.id] },
      },
    });
    const dir = await repo("exported", {});
    const run = await cli(dir, ["export"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout + run.stderr).not.toContain("renames");
    const spec = parse(await readFile(join(dir, "agents/triage-bot.yaml"), "utf8"));
    expect(spec).toMatchObject({ name: "triage-bot", display_name: "Triage Bot" });
    const desk = parse(await readFile(join(dir, "agents/front-desk.yaml"), "utf8"));
    expect(desk).toMatchObject({
      name: "front-desk",
      display_name: "Front Desk",
      execution_identity: { type: "aws_role", role_arn: ROLE },
      multiagent: { agents: ["triage-bot"], inline_agents: false, advisor: "claude-opus-4-6" },
    });

    const adopting = await plan(dir);
    const ours = adopting.actions.filter((a) => ["agent.triage-bot", "agent.front-desk"].includes(a.address));
    // No rename, no field change; adopting triage-bot writes its ownership (a new version), so front-desk's
    // reference follows it in the same apply.
    expect(ours.map((a) => [a.address, a.action, a.changes.map((c) => c.path)])).toEqual([
      ["agent.front-desk", "adopt", ['multiagent.subagents.predefined_agents["0"].version']],
      ["agent.triage-bot", "adopt", []],
    ]);
    expect(ours[0]?.changes[0]?.unknown).toBe(true);
    await apply(dir);
    expect((await plan(dir)).actions.filter((a) => a.address.startsWith("agent."))).toEqual([]);
  });
});
