import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderRunsText } from "../../src/cli/commands/deploy.js";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { createClient } from "../../src/providers/client.js";
import {
  deploymentProvider,
  deploymentState,
  recentRuns,
  scheduleAnnotations,
  startRun,
} from "../../src/providers/deployment.js";
import { resolveRefs } from "../../src/providers/refs.js";
import type { DesiredResource, LiveResource, ProviderContext } from "../../src/providers/types.js";
import { buildDriftReport } from "../../src/reconcile/drift.js";
import { specChanges } from "../../src/reconcile/duplicates.js";
import type { LiveState } from "../../src/reconcile/observe.js";
import { buildPlan, type Plan, planAnnotations } from "../../src/reconcile/plan.js";
import { planDigest } from "../../src/reconcile/plan-digest.js";
import type { DesiredSpecs, ResolvedDeployment } from "../../src/spec/types.js";

const source = { file: "deployments/x.yaml", line: 1, col: 1 };
const ctx: ProviderContext = { stack: "s", secrets: () => undefined };

function deploymentSpec(overrides: Partial<ResolvedDeployment> = {}): ResolvedDeployment {
  return {
    kind: "Deployment",
    name: "nightly",
    description: null,
    agent: "ops",
    agent_version: "pinned",
    environment: "ops",
    vaults: ["a", "b"],
    memory_stores: [{ name: "notes", access: "read_write", instructions: null }],
    initial_events: [{ type: "user.message", content: [{ type: "text", text: "go" }] }],
    budget: null,
    schedule: { expression: "0 2 * * *", timezone: "Europe/Paris" },
    paused: false,
    metadata: { team: "ops" },
    protect: false,
    previous_names: [],
    source,
    ...overrides,
  };
}

const specs = (...deployments: ResolvedDeployment[]): DesiredSpecs => ({
  agents: [],
  environments: [],
  vaults: [],
  toolsets: [],
  deployments,
});

/** The ids and outputs references resolve to in these tests. */
const IDS: Record<string, string | number> = {
  "agent.ops.id": "agent_1",
  "agent.ops.version": 4,
  "environment.ops.id": "env_1",
  "vault.a.id": "vlt_a",
  "vault.b.id": "vlt_b",
  "memory_store.notes.id": "memstore_1",
};

function resolved(desired: DesiredResource) {
  return resolveRefs(desired.state, (address, output) => IDS[`${address}.${output}`], null).value;
}

/** What the API answers for the deployment of `deploymentSpec()`: defaults filled, computed fields, ownership. */
const apiObject = () => ({
  id: "depl_1",
  type: "deployment",
  name: "nightly",
  description: "",
  agent: { type: "agent", id: "agent_1", version: 4 },
  environment_id: "env_1",
  vault_ids: ["vlt_a", "vlt_b"],
  resources: [{ type: "memory_store", memory_store_id: "memstore_1", access: "read_write", instructions: null }],
  initial_events: [{ type: "user.message", content: [{ type: "text", text: "go" }] }],
  schedule: {
    type: "cron",
    expression: "0 2 * * *",
    timezone: "Europe/Paris",
    upcoming_runs_at: ["2026-11-27T01:00:00Z"],
    last_run_at: null,
  },
  status: "active",
  paused_reason: null,
  metadata: { team: "ops", "managed-by": "reconcile", "reconcile/stack": "s", "reconcile/name": "nightly" },
  created_at: "2026-11-26T00:00:00Z",
  updated_at: "2026-11-26T00:00:00Z",
  archived_at: null,
});

describe("deployment provider: comparable state", () => {
  it("the desired state refers to the other resources; resolved, it equals what the API answers", () => {
    const [desired] = deploymentProvider.desired(specs(deploymentSpec()), ctx);
    expect(desired?.dependsOn.sort()).toEqual([
      "agent.ops",
      "environment.ops",
      "memory_store.notes",
      "vault.a",
      "vault.b",
    ]);
    expect(desired?.state.agent).toEqual({
      id: { $ref: "agent.ops", output: "id" },
      version: { $ref: "agent.ops", output: "version" },
    });
    const live = deploymentState(apiObject());
    expect(specChanges({ ...(desired as DesiredResource), state: resolved(desired as DesiredResource) }, live)).toEqual(
      [],
    );
  });

  it("a paused deployment, an emptied description and server defaults of a memory store compare as the spec says", () => {
    const object = {
      ...apiObject(),
      status: "paused",
      paused_reason: { type: "manual" },
      resources: [{ type: "memory_store", memory_store_id: "memstore_1" }],
    };
    const state = deploymentState(object);
    expect(state.paused).toBe(true);
    expect(state.description).toBeNull();
    expect(state.resources).toEqual([
      { type: "memory_store", memory_store_id: "memstore_1", access: "read_write", instructions: null },
    ]);
    expect(state.schedule).toEqual({ expression: "0 2 * * *", timezone: "Europe/Paris" });
    expect(state.metadata).toEqual({ team: "ops" });
  });

  it("agent_version: a number pins it; latest leaves the version to the server and never diffs it", () => {
    const [pinned] = deploymentProvider.desired(specs(deploymentSpec({ agent_version: 2 })), ctx);
    expect(resolved(pinned as DesiredResource).agent).toEqual({ id: "agent_1", version: 2 });
    const changes = specChanges(
      { ...(pinned as DesiredResource), state: resolved(pinned as DesiredResource) },
      deploymentState(apiObject()),
    );
    expect(changes).toEqual([{ path: "agent.version", before: 4, after: 2 }]);

    const [latest] = deploymentProvider.desired(specs(deploymentSpec({ agent_version: "latest" })), ctx);
    expect(latest?.serverChosen).toEqual(["agent.version"]);
    expect(
      specChanges(
        { ...(latest as DesiredResource), state: resolved(latest as DesiredResource) },
        deploymentState(apiObject()),
      ),
    ).toEqual([]);
  });
});

describe("deployment provider: next run times", () => {
  it("annotations list the next three runs in the zone; a paused schedule says so; none without a schedule", () => {
    const now = new Date("2026-11-26T12:00:00Z");
    expect(scheduleAnnotations(deploymentSpec(), now)).toEqual([
      'next runs of "0 2 * * *":',
      "  2026-11-27 02:00 Europe/Paris (01:00 UTC)",
      "  2026-11-28 02:00 Europe/Paris (01:00 UTC)",
      "  2026-11-29 02:00 Europe/Paris (01:00 UTC)",
    ]);
    expect(scheduleAnnotations(deploymentSpec({ paused: true }), now)[0]).toBe(
      'next runs of "0 2 * * *" (paused: runs only when unpaused):',
    );
    expect(scheduleAnnotations(deploymentSpec({ schedule: null }), now)).toEqual([]);
  });

  it("annotations are shown for acted-on addresses only and never change the plan digest", () => {
    const [desired] = deploymentProvider.desired(specs(deploymentSpec()), ctx);
    const d = desired as DesiredResource;
    const empty: LiveState = { resources: new Map(), duplicates: [], adoptions: new Map(), adoptionErrors: new Map() };
    const options = { stack: "s", target: "default", now: () => new Date("2026-11-26T00:00:00Z") };
    // The dependencies are not declared here: the plan would refuse them, so plan the deployment alone.
    const lone = { ...d, dependsOn: [], state: resolved(d) };
    const first = buildPlan([{ ...lone, annotations: () => ["at one time"] }], empty, options);
    const second = buildPlan([{ ...lone, annotations: () => ["at another"] }], empty, options);
    expect(planDigest(first)).toBe(planDigest(second));
    expect(planAnnotations([{ ...lone, annotations: () => ["x"] }], first)).toEqual({ "deployment.nightly": ["x"] });
    expect(planAnnotations([{ ...lone, annotations: () => ["x"] }], { actions: [] })).toBeUndefined();
  });
});

describe("deployment provider: writes against the emulator", () => {
  let emulator: RunningEmulator;
  let client: Anthropic;
  const log: string[] = [];
  let live: LiveResource;
  let desired: DesiredResource;

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, log: (line) => log.push(line) });
    client = new Anthropic({ apiKey: "k", baseURL: emulator.url, maxRetries: 0 });
    const agent = await client.beta.agents.create({ name: "ops", model: "claude-sonnet-4-6" });
    const env = await client.beta.environments.create({ name: "ops" });
    const [d] = deploymentProvider.desired(specs(deploymentSpec({ vaults: [], memory_stores: [], paused: true })), ctx);
    const ids: Record<string, string | number> = {
      "agent.ops.id": agent.id,
      "agent.ops.version": agent.version,
      "environment.ops.id": env.id,
    };
    const state = resolveRefs((d as DesiredResource).state, (a, o) => ids[`${a}.${o}`], null).value;
    desired = { ...(d as DesiredResource), state };
    const created = await deploymentProvider.create(client, desired, ctx, { "managed-by": "reconcile" });
    const object = await deploymentProvider.retrieve(client, created.id);
    live = {
      type: "deployment",
      name: "nightly",
      address: "deployment.nightly",
      id: created.id,
      state: deploymentProvider.state(object),
      metadata: object.metadata ?? {},
      protected: false,
      deleteOnPrune: false,
      created_at: String(object.created_at),
    };
  });
  afterAll(async () => {
    await emulator.close();
  });

  const writes = (from: number) =>
    log
      .slice(from)
      .filter((l) => / POST /.test(l))
      .map((l) => (l.split(" ")[2] ?? "").replace(/\?.*$/, ""));

  it("create of a paused deployment creates it, then pauses it", async () => {
    expect(live.state.paused).toBe(true);
    expect(writes(0)).toEqual([
      "/v1/agents",
      "/v1/environments",
      "/v1/deployments",
      `/v1/deployments/${live.id}/pause`,
    ]);
  });

  it("a change of paused alone makes only the pause or unpause call", async () => {
    const from = log.length;
    const unpaused = { ...desired, state: { ...desired.state, paused: false } };
    await deploymentProvider.update(client, unpaused, live, { fields: ["paused"], ownership: {} }, ctx);
    expect(writes(from)).toEqual([`/v1/deployments/${live.id}/unpause`]);
  });

  it("pausing comes before the other fields are written; unpausing after them", async () => {
    let from = log.length;
    const described = { ...desired, state: { ...desired.state, description: "now paused", paused: true } };
    await deploymentProvider.update(client, described, live, { fields: ["description", "paused"], ownership: {} }, ctx);
    expect(writes(from)).toEqual([`/v1/deployments/${live.id}/pause`, `/v1/deployments/${live.id}`]);
    from = log.length;
    const active = { ...desired, state: { ...desired.state, description: "running again", paused: false } };
    await deploymentProvider.update(client, active, live, { fields: ["description", "paused"], ownership: {} }, ctx);
    expect(writes(from)).toEqual([`/v1/deployments/${live.id}`, `/v1/deployments/${live.id}/unpause`]);
    expect(await client.beta.deployments.retrieve(live.id)).toMatchObject({
      description: "running again",
      status: "active",
    });
  });

  it("archive archives; the deployment is gone from the list observe reads", async () => {
    await deploymentProvider.archive?.(client, live);
    expect((await deploymentProvider.list(client)).map((o) => o.id)).not.toContain(live.id);
  });
});

describe("deployment runs: what a hostile or broken server answers", () => {
  let server: Server;
  let url: string;
  let answer: unknown;

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(answer));
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((done) => server.close(done));
  });

  const client = () => createClient({ apiKey: "k", baseURL: url, maxRetries: 0 });

  it("a run answer without the run's fields is refused, naming the request", async () => {
    answer = { id: "drun_1" };
    await expect(startRun(client(), "depl_1")).rejects.toThrow(
      /POST \/v1\/deployments\/depl_1\/run: unexpected answer: not a deployment run/,
    );
    answer = { data: [{ id: "not-a-run" }], next_page: null };
    await expect(recentRuns(client(), "depl_1", 5)).rejects.toThrow(/item 0 is not a deployment run/);
    answer = { data: Array.from({ length: 6 }, () => ({})), next_page: null };
    await expect(recentRuns(client(), "depl_1", 5)).rejects.toThrow(/6 items on a page of at most 5/);
  });

  it("control characters and bidi overrides in a run's error print escaped", () => {
    const text = renderRunsText({ name: "nightly", id: "depl_1" }, [
      {
        type: "deployment_run",
        id: "drun_1",
        deployment_id: "depl_1",
        agent: { type: "agent", id: "agent_1", version: 2 },
        trigger_context: { type: "manual" },
        session_id: null,
        error: { type: "unknown_error", message: "boom\u001b[31m red \u202e evil\nnext" },
        created_at: "2026-11-26T01:02:03.123456Z",
      },
    ]);
    expect(text.includes("\u001b") || text.includes("\u202e")).toBe(false);
    expect(text.trimEnd().split("\n")).toHaveLength(2);
    expect(text).toContain("2026-11-26 01:02:03 UTC");
    expect(text).toContain("failed: unknown_error: boom\\u001b[31m red \\u202e evil\\u000anext");
  });
});

describe("drift of a deployment that only follows its agent", () => {
  it("an update whose every change is known after apply is not drift; a changed pin is", () => {
    const action = (address: string, changes: Plan["actions"][number]["changes"]) => ({
      address,
      type: address.split(".")[0] as "agent" | "deployment",
      name: address.split(".")[1] as string,
      action: "update" as const,
      id: `${address}-id`,
      changes,
      depends_on: [],
    });
    const plan: Plan = {
      format_version: 1,
      stack: "s",
      target: "default",
      created_at: "2026-11-26T00:00:00Z",
      options: { prune: false, allow_mass_prune: false },
      actions: [
        action("agent.ops", [{ path: "description", before: "console", after: "spec" }]),
        action("deployment.nightly", [
          { path: "agent.version", before: 4, after: "(known after apply)", unknown: true },
        ]),
        action("deployment.pinned", [{ path: "agent.version", before: 4, after: 2 }]),
      ],
      summary: { adopt: 0, create: 0, update: 3, replace: 0, archive: 0, delete: 0, keep: 0, unchanged: 0 },
      warnings: [],
      inputs: {},
    };
    const empty: LiveState = { resources: new Map(), duplicates: [], adoptions: new Map(), adoptionErrors: new Map() };
    const report = buildDriftReport(plan, empty, { clockSkewMs: 0 });
    expect(report.resources.map((r) => r.address)).toEqual(["agent.ops", "deployment.pinned"]);
  });
});
