import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Anthropic from "@anthropic-ai/sdk";
import type { DeploymentCreateParams } from "@anthropic-ai/sdk/resources/beta/deployments.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEmulator } from "../../src/emulator/index.js";
import { expectApiError, raw, sdk, start } from "./helpers.js";

let emu: RunningEmulator;
let client: Anthropic;
let agentId: string;
let envId: string;
let vaultId: string;

const MESSAGE = [
  { type: "user.message" as const, content: [{ type: "text" as const, text: "Run the nightly check." }] },
];

/** Create params for a deployment of the shared agent and environment, with `extra` on top. */
function params(extra: Partial<DeploymentCreateParams> = {}): DeploymentCreateParams {
  return { name: "nightly", agent: agentId, environment_id: envId, initial_events: MESSAGE, ...extra };
}

beforeAll(async () => {
  emu = await start();
  client = sdk(emu);
  const agent = await client.beta.agents.create({ name: "ops", model: "claude-sonnet-4-6" });
  await client.beta.agents.update(agent.id, { version: 1, system: "second version" });
  agentId = agent.id;
  envId = (await client.beta.environments.create({ name: "ops" })).id;
  vaultId = (await client.beta.vaults.create({ display_name: "ops" })).id;
});
afterAll(async () => {
  await emu.close();
});

describe("deployments: create and read", () => {
  it("create answers the SDK's shape: the agent id resolved to the latest version, active, no schedule", async () => {
    const d = await client.beta.deployments.create(params({ metadata: { team: "platform" } }));
    expect(d.id).toMatch(/^depl_011C[0-9A-Za-z]{20}$/);
    const { id, created_at, updated_at, ...rest } = d;
    expect(rest).toEqual({
      type: "deployment",
      name: "nightly",
      description: null,
      agent: { type: "agent", id: agentId, version: 2 },
      environment_id: envId,
      vault_ids: [],
      resources: [],
      initial_events: MESSAGE,
      schedule: null,
      metadata: { team: "platform" },
      status: "active",
      paused_reason: null,
      archived_at: null,
    });
    expect(updated_at).toBe(created_at);
    expect(await client.beta.deployments.retrieve(id)).toEqual(d);
  });

  it("an agent object pins the version it names; a version that does not exist is a 404", async () => {
    const d = await client.beta.deployments.create(params({ agent: { type: "agent", id: agentId, version: 1 } }));
    expect(d.agent).toEqual({ type: "agent", id: agentId, version: 1 });
    await expectApiError(
      client.beta.deployments.create(params({ agent: { type: "agent", id: agentId, version: 9 } })),
      404,
      "not_found_error",
      "has no version 9",
    );
  });

  it("references must exist: agent, environment, vault (404); an archived agent is a 400", async () => {
    await expectApiError(client.beta.deployments.create(params({ agent: "agent_nope" })), 404, "not_found_error");
    await expectApiError(
      client.beta.deployments.create(params({ environment_id: "env_nope" })),
      404,
      "not_found_error",
      "environment 'env_nope'",
    );
    await expectApiError(
      client.beta.deployments.create(params({ vault_ids: [vaultId, "vlt_nope"] })),
      404,
      "not_found_error",
      "vault 'vlt_nope'",
    );
    const old = await client.beta.agents.create({ name: "old", model: "claude-sonnet-4-6" });
    await client.beta.agents.archive(old.id);
    await expectApiError(
      client.beta.deployments.create(params({ agent: old.id })),
      400,
      "invalid_request_error",
      "archived",
    );
  });

  it("initial_events: at least one, of the three event types, with text blocks", async () => {
    await expectApiError(
      client.beta.deployments.create(params({ initial_events: [] })),
      400,
      "invalid_request_error",
      "initial_events",
    );
    await expectApiError(
      client.beta.deployments.create(params({ initial_events: [{ type: "user.interrupt" } as never] })),
      400,
      "invalid_request_error",
      "initial_events.0.type",
    );
    const events = [
      { type: "system.message" as const, content: [{ type: "text" as const, text: "You run unattended." }] },
      {
        type: "user.define_outcome" as const,
        description: "A short incident note",
        rubric: { type: "text" as const, content: "Names the likely cause" },
        max_iterations: 2,
      },
    ];
    const d = await client.beta.deployments.create(params({ initial_events: events }));
    expect(d.initial_events).toEqual(events);
  });

  it("a missing required field is a 400 naming it", async () => {
    const { name: _name, ...noName } = params();
    await expectApiError(
      client.beta.deployments.create(noName as never),
      400,
      "invalid_request_error",
      "name: Field required",
    );
    await expectApiError(
      client.beta.deployments.create({ ...params(), extra: 1 } as never),
      400,
      "invalid_request_error",
      "extra: Extra inputs are not permitted",
    );
  });

  it("schedule: the expression and the time zone are checked; upcoming_runs_at lists the next 5 fires", async () => {
    const before = Date.now();
    const d = await client.beta.deployments.create(
      params({ schedule: { type: "cron", expression: "30 2 * * *", timezone: "Asia/Tokyo" } }),
    );
    expect(d.schedule).toMatchObject({
      type: "cron",
      expression: "30 2 * * *",
      timezone: "Asia/Tokyo",
      last_run_at: null,
    });
    const upcoming = d.schedule?.upcoming_runs_at ?? [];
    expect(upcoming).toHaveLength(5);
    for (const [i, at] of upcoming.entries()) {
      // 02:30 in Tokyo (UTC+9, no daylight saving) is 17:30 UTC the day before.
      expect(at).toMatch(/T17:30:00\.000Z$/);
      expect(Date.parse(at)).toBeGreaterThan(before);
      if (i > 0) expect(Date.parse(at) - Date.parse(upcoming[i - 1] as string)).toBe(86_400_000);
    }
    for (const expression of ["0 0 * * * *", "@daily", "0 0 L * *", "0 0 ? * *", "0 0 * * 1#2", "61 * * * *"]) {
      await expectApiError(
        client.beta.deployments.create(params({ schedule: { type: "cron", expression, timezone: "UTC" } })),
        400,
        "invalid_request_error",
        "schedule.expression",
      );
    }
    for (const timezone of ["Mars/Olympus", "+01:00", "europe/paris"]) {
      await expectApiError(
        client.beta.deployments.create(params({ schedule: { type: "cron", expression: "0 0 * * *", timezone } })),
        400,
        "invalid_request_error",
        "schedule.timezone",
      );
    }
  });

  it("budget: the SDK's limit shape, omitted from the answer when not set", async () => {
    const budget = { type: "limit" as const, max_list_cost: { amount: "2500", currency: "USD" as const } };
    const d = await client.beta.deployments.create(params({ budget }));
    expect(d.budget).toEqual(budget);
    await expectApiError(
      client.beta.deployments.create(
        params({ budget: { ...budget, max_list_cost: { amount: "25.00", currency: "USD" } } }),
      ),
      400,
      "invalid_request_error",
      "budget.max_list_cost.amount",
    );
    const plain = await client.beta.deployments.create(params());
    expect("budget" in plain).toBe(false);
  });

  it("memory store resources: defaults filled, echoed in order; a run fails once the store is archived", async () => {
    const notes = await client.beta.memoryStores.create({ name: "ops-notes" });
    const runbooks = await client.beta.memoryStores.create({ name: "runbooks" });
    const d = await client.beta.deployments.create(
      params({
        resources: [
          { type: "memory_store", memory_store_id: runbooks.id, access: "read_only", instructions: "Read first." },
          { type: "memory_store", memory_store_id: notes.id },
        ],
      }),
    );
    expect(d.resources).toEqual([
      { type: "memory_store", memory_store_id: runbooks.id, access: "read_only", instructions: "Read first." },
      { type: "memory_store", memory_store_id: notes.id, access: "read_write", instructions: null },
    ]);
    await client.beta.memoryStores.archive(notes.id);
    const run = await client.beta.deployments.run(d.id);
    expect(run.session_id).toBeNull();
    expect(run.error).toMatchObject({ type: "memory_store_archived_error" });
  });

  it("memory store resources must name a memory store of the workspace; other resource types are not emulated", async () => {
    await expectApiError(
      client.beta.deployments.create(
        params({ resources: [{ type: "memory_store", memory_store_id: "memstore_nope" }] }),
      ),
      404,
      "not_found_error",
      "memstore_nope",
    );
    await expectApiError(
      client.beta.deployments.create(params({ resources: [{ type: "file", file_id: "file_x" }] })),
      400,
      "invalid_request_error",
      "resources.0",
    );
  });
});

describe("deployments: update", () => {
  it("omitted fields are kept; description and schedule clear with null; a no-op keeps updated_at", async () => {
    const d = await client.beta.deployments.create(
      params({
        description: "nightly check",
        vault_ids: [vaultId],
        schedule: { type: "cron", expression: "0 2 * * *", timezone: "UTC" },
        metadata: { a: "1", b: "2" },
      }),
    );
    const same = await client.beta.deployments.update(d.id, { name: "nightly", vault_ids: [vaultId] });
    expect(same.updated_at).toBe(d.updated_at);
    const next = await client.beta.deployments.update(d.id, {
      description: null,
      schedule: null,
      metadata: { a: null, c: "3" },
    });
    expect(next).toMatchObject({
      description: null,
      schedule: null,
      vault_ids: [vaultId],
      metadata: { b: "2", c: "3" },
      initial_events: MESSAGE,
    });
    expect(next.updated_at > d.updated_at).toBe(true);
    const cleared = await client.beta.deployments.update(d.id, { vault_ids: null });
    expect(cleared.vault_ids).toEqual([]);
  });

  it("the agent re-pins: an id string to the latest version, an object to its version", async () => {
    const d = await client.beta.deployments.create(params({ agent: { type: "agent", id: agentId, version: 1 } }));
    expect((await client.beta.deployments.update(d.id, { agent: agentId })).agent.version).toBe(2);
    const back = await client.beta.deployments.update(d.id, { agent: { type: "agent", id: agentId, version: 1 } });
    expect(back.agent.version).toBe(1);
  });

  it("name, agent, environment_id and initial_events cannot be cleared", async () => {
    const d = await client.beta.deployments.create(params());
    for (const field of ["name", "agent", "environment_id", "initial_events"]) {
      await expectApiError(
        client.beta.deployments.update(d.id, { [field]: null } as never),
        400,
        "invalid_request_error",
        `${field}: cannot be cleared`,
      );
    }
    await expectApiError(client.beta.deployments.update("depl_nope", {}), 404, "not_found_error");
  });
});

describe("deployments: pause, unpause, archive, list", () => {
  it("pause sets status and a manual paused_reason; unpause clears both; both are idempotent", async () => {
    const d = await client.beta.deployments.create(params());
    const paused = await client.beta.deployments.pause(d.id);
    expect(paused).toMatchObject({ status: "paused", paused_reason: { type: "manual" } });
    expect((await client.beta.deployments.pause(d.id)).updated_at).toBe(paused.updated_at);
    const active = await client.beta.deployments.unpause(d.id);
    expect(active).toMatchObject({ status: "active", paused_reason: null });
    expect((await client.beta.deployments.unpause(d.id)).updated_at).toBe(active.updated_at);
  });

  it("archive: reported active with archived_at, no upcoming runs, cannot be paused, left out of lists", async () => {
    const d = await client.beta.deployments.create(
      params({ name: "to-archive", schedule: { type: "cron", expression: "0 2 * * *", timezone: "UTC" } }),
    );
    await client.beta.deployments.pause(d.id);
    const archived = await client.beta.deployments.archive(d.id);
    expect(archived).toMatchObject({ status: "active", paused_reason: null });
    expect(archived.archived_at).not.toBeNull();
    expect(archived.schedule?.upcoming_runs_at).toEqual([]);
    await expectApiError(client.beta.deployments.pause(d.id), 400, "invalid_request_error", "archived");
    const ids = async (query: Record<string, unknown>) => {
      const out: string[] = [];
      for await (const x of client.beta.deployments.list(query)) out.push(x.id);
      return out;
    };
    expect(await ids({})).not.toContain(d.id);
    expect(await ids({ include_archived: true })).toContain(d.id);
  });

  it("lists newest first and filters by status and agent; status with include_archived is a 400", async () => {
    const other = await client.beta.agents.create({ name: "other", model: "claude-sonnet-4-6" });
    const a = await client.beta.deployments.create(params({ agent: other.id, name: "a" }));
    const b = await client.beta.deployments.create(params({ agent: other.id, name: "b" }));
    await client.beta.deployments.pause(b.id);
    const list = async (query: Record<string, unknown>) => {
      const out: string[] = [];
      for await (const x of client.beta.deployments.list({ ...query, agent_id: other.id })) out.push(x.id);
      return out;
    };
    expect(await list({})).toEqual([b.id, a.id]);
    expect(await list({ status: "paused" })).toEqual([b.id]);
    expect(await list({ status: "active" })).toEqual([a.id]);
    await expectApiError(
      client.beta.deployments.list({ status: "active", include_archived: false }),
      400,
      "invalid_request_error",
      "cannot be combined",
    );
  });
});

describe("deployment runs", () => {
  it("run starts a session with the deployment's agent version, environment and first message; paused too", async () => {
    const d = await client.beta.deployments.create(
      params({ agent: { type: "agent", id: agentId, version: 1 }, vault_ids: [vaultId] }),
    );
    await client.beta.deployments.pause(d.id);
    const run = await client.beta.deployments.run(d.id);
    expect(run).toMatchObject({
      type: "deployment_run",
      deployment_id: d.id,
      agent: { type: "agent", id: agentId, version: 1 },
      trigger_context: { type: "manual" },
      error: null,
    });
    expect(run.id).toMatch(/^drun_011C[0-9A-Za-z]{20}$/);
    const session = await client.beta.sessions.retrieve(run.session_id as string);
    expect(session).toMatchObject({ deployment_id: d.id, environment_id: envId, vault_ids: [vaultId] });
    expect(session.agent.version).toBe(1);
    const events = await client.beta.sessions.events.list(session.id);
    expect(events.data[0]).toMatchObject({ type: "user.message", content: MESSAGE[0]?.content });
    expect(await client.beta.deploymentRuns.retrieve(run.id)).toEqual(run);
  });

  it("a run whose session cannot start records the error instead of a session", async () => {
    const env = await client.beta.environments.create({ name: "gone" });
    const d = await client.beta.deployments.create(params({ environment_id: env.id }));
    await client.beta.environments.archive(env.id);
    const run = await client.beta.deployments.run(d.id);
    expect(run.session_id).toBeNull();
    expect(run.error).toMatchObject({ type: "environment_archived_error" });
  });

  it("runs list newest first, filtered by deployment, error and trigger; an unknown deployment lists nothing", async () => {
    const d = await client.beta.deployments.create(params({ name: "listed" }));
    const first = await client.beta.deployments.run(d.id);
    const second = await client.beta.deployments.run(d.id);
    const ids = async (query: Record<string, unknown>) => {
      const out: string[] = [];
      for await (const run of client.beta.deploymentRuns.list(query)) out.push(run.id);
      return out;
    };
    expect(await ids({ deployment_id: d.id })).toEqual([second.id, first.id]);
    expect(await ids({ deployment_id: d.id, has_error: true })).toEqual([]);
    expect(await ids({ deployment_id: d.id, trigger_type: "manual", limit: 1 })).toEqual([second.id, first.id]);
    expect(await ids({ deployment_id: "depl_unknown" })).toEqual([]);
    await expectApiError(client.beta.deployments.run("depl_nope"), 404, "not_found_error");
    await expectApiError(client.beta.deploymentRuns.retrieve("drun_nope"), 404, "not_found_error");
  });

  it("every deployment route requires the managed-agents beta the SDK sends", async () => {
    const res = await raw(emu, "GET", "/v1/deployments", { headers: { "anthropic-beta": null } });
    expect(res.status).toBe(400);
    const runs = await raw(emu, "GET", "/v1/deployment_runs", {
      headers: { "anthropic-beta": "files-api-2025-04-14" },
    });
    expect(runs.status).toBe(400);
  });
});

describe("deployments: persistence", () => {
  it("deployments and their runs survive a restart of a file-backed emulator", async () => {
    const dir = await mkdtemp(join(tmpdir(), "emulator-deployments-"));
    try {
      const file = join(dir, "state.json");
      const first = await start({ stateFile: file });
      const c1 = sdk(first);
      const agent = await c1.beta.agents.create({ name: "ops", model: "claude-sonnet-4-6" });
      const env = await c1.beta.environments.create({ name: "ops" });
      const d = await c1.beta.deployments.create({
        name: "kept",
        agent: agent.id,
        environment_id: env.id,
        initial_events: MESSAGE,
        schedule: { type: "cron", expression: "0 2 * * *", timezone: "Europe/Paris" },
      });
      await c1.beta.deployments.pause(d.id);
      const run = await c1.beta.deployments.run(d.id);
      await first.close();
      const second = await start({ stateFile: file });
      const c2 = sdk(second);
      expect(await c2.beta.deployments.retrieve(d.id)).toMatchObject({ status: "paused", name: "kept" });
      expect(await c2.beta.deploymentRuns.retrieve(run.id)).toEqual(run);
      await second.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
