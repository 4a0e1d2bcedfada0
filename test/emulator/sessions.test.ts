import type Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEmulator } from "../../src/emulator/index.js";
import { expectApiError, raw, sdk, start } from "./helpers.js";
import { type Event, fixture, history, idleEvents, idles, replies, say, waitFor } from "./sessions-helpers.js";

let emu: RunningEmulator;
let client: Anthropic;
let agentId: string;
let envId: string;

beforeAll(async () => {
  emu = await start();
  client = sdk(emu);
  ({ agentId, envId } = await fixture(client, { customTool: true }));
});
afterAll(async () => {
  await emu.close();
});

const types = (events: Event[]) => events.map((e) => e.type);

async function newSession(title?: string) {
  return client.beta.sessions.create({ agent: agentId, environment_id: envId, ...(title ? { title } : {}) });
}

describe("sessions: create, retrieve, update, list", () => {
  it("create snapshots the agent and starts idle with zero usage", async () => {
    const vault = await client.beta.vaults.create({ display_name: "creds" });
    const s = await client.beta.sessions.create({
      agent: agentId,
      environment_id: envId,
      vault_ids: [vault.id],
      title: "first",
      metadata: { ticket: "T-1" },
    });
    expect(s.id).toMatch(/^sesn_011C[0-9A-Za-z]{20}$/);
    const agent = await client.beta.agents.retrieve(agentId);
    expect(s).toMatchObject({
      type: "session",
      status: "idle",
      environment_id: envId,
      vault_ids: [vault.id],
      title: "first",
      metadata: { ticket: "T-1" },
      archived_at: null,
      budget: null,
      resources: [],
      outcome_evaluations: [],
      deployment_id: null,
      usage: { input_tokens: 0, output_tokens: 0 },
    });
    expect(s.agent).toEqual({
      type: "agent",
      id: agent.id,
      version: agent.version,
      name: agent.name,
      description: agent.description,
      system: agent.system,
      model: agent.model,
      tools: agent.tools,
      mcp_servers: agent.mcp_servers,
      skills: agent.skills,
      execution_identity: agent.execution_identity,
      multiagent: null,
    });
    const again = await client.beta.sessions.retrieve(s.id);
    expect({ ...again, stats: null }).toEqual({ ...s, stats: null });
    expect(await history(client, s.id)).toEqual([]);
  });

  it("an agent reference with a version pins that version; a missing version is a 404", async () => {
    const a = await client.beta.agents.create({ name: "versioned", model: "claude-sonnet-4-6", system: "v1" });
    await client.beta.agents.update(a.id, { system: "v2" });
    const s = await client.beta.sessions.create({
      agent: { type: "agent", id: a.id, version: 1 },
      environment_id: envId,
    });
    expect(s.agent).toMatchObject({ version: 1, system: "v1" });
    const latest = await client.beta.sessions.create({ agent: a.id, environment_id: envId });
    expect(latest.agent).toMatchObject({ version: 2, system: "v2" });
    await expectApiError(
      client.beta.sessions.create({ agent: { type: "agent", id: a.id, version: 9 }, environment_id: envId }),
      404,
      "not_found_error",
      "no version 9",
    );
  });

  it("refuses archived agents, environments and vaults, and unknown ones", async () => {
    const a = await client.beta.agents.create({ name: "old", model: "claude-sonnet-4-6" });
    await client.beta.agents.archive(a.id);
    await expectApiError(
      client.beta.sessions.create({ agent: a.id, environment_id: envId }),
      400,
      "invalid_request_error",
      "archived agents cannot start new sessions",
    );
    const e = await client.beta.environments.create({ name: "old-env" });
    await client.beta.environments.archive(e.id);
    await expectApiError(
      client.beta.sessions.create({ agent: agentId, environment_id: e.id }),
      400,
      "invalid_request_error",
      "archived",
    );
    const v = await client.beta.vaults.create({ display_name: "old-vault" });
    await client.beta.vaults.archive(v.id);
    await expectApiError(
      client.beta.sessions.create({ agent: agentId, environment_id: envId, vault_ids: [v.id] }),
      400,
      "invalid_request_error",
      "archived",
    );
    await expectApiError(
      client.beta.sessions.create({ agent: "agent_011CZkYpogX7uDKUyvBTophP", environment_id: envId }),
      404,
      "not_found_error",
    );
    await expectApiError(
      client.beta.sessions.create({ agent: agentId, environment_id: "env_011CZkZ9X2dpNyB7HsEFoRfW" }),
      404,
      "not_found_error",
    );
    await expectApiError(
      client.beta.sessions.create({
        agent: agentId,
        environment_id: envId,
        vault_ids: ["vlt_011CZkZDLs7fYzm1hXNPeRjv"],
      }),
      404,
      "not_found_error",
    );
  });

  it("update patches title and metadata, records session.updated, refuses vault_ids", async () => {
    const s = await newSession("before");
    const u = await client.beta.sessions.update(s.id, { title: "after", metadata: { a: "1" } });
    expect(u).toMatchObject({ title: "after", metadata: { a: "1" } });
    const same = await client.beta.sessions.update(s.id, { title: "after" });
    expect(same.updated_at).toBe(u.updated_at);
    const events = await history(client, s.id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: "session.updated", title: "after", metadata: { a: "1" } });
    await expectApiError(
      client.beta.sessions.update(s.id, { vault_ids: [] }),
      400,
      "invalid_request_error",
      "vault_ids",
    );
  });

  it("list filters by agent and status, pages, and orders both ways", async () => {
    const a = await client.beta.agents.create({ name: "lister", model: "claude-sonnet-4-6" });
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await client.beta.sessions.create({ agent: a.id, environment_id: envId }));
    const seen = [];
    for await (const s of client.beta.sessions.list({ agent_id: a.id, limit: 2 })) seen.push(s.id);
    expect(seen).toEqual(made.map((s) => s.id).reverse());
    const asc = [];
    for await (const s of client.beta.sessions.list({ agent_id: a.id, order: "asc", limit: 3 })) asc.push(s.id);
    expect(asc).toEqual(made.map((s) => s.id));
    const page = await client.beta.sessions.list({ agent_id: a.id, limit: 2 });
    expect(page.prev_page).toBeNull();
    const running = await client.beta.sessions.list({ agent_id: a.id, statuses: ["running", "terminated"] });
    expect(running.data).toEqual([]);
    const idle = await client.beta.sessions.list({ agent_id: a.id, statuses: ["idle"], limit: 100 });
    expect(idle.data).toHaveLength(5);
    const after = await client.beta.sessions.list({ agent_id: a.id, "created_at[gt]": made[2]?.created_at });
    expect(after.data.map((s) => s.id)).toEqual([made[4]?.id, made[3]?.id]);
  });
});

describe("the scripted agent", () => {
  it("answers a plain message after the send returns: running, agent.message, idle end_turn", async () => {
    const s = await newSession();
    const sent = await client.beta.sessions.events.send(s.id, { events: [say("hello there")] });
    expect(sent.data).toHaveLength(1);
    expect(sent.data?.[0]).toMatchObject({ type: "user.message", content: [{ type: "text", text: "hello there" }] });
    expect(sent.data?.[0]?.id).toMatch(/^sevt_011C[0-9A-Za-z]{20}$/);
    const events = await waitFor(client, s.id, idles(1));
    expect(types(events)).toEqual(["user.message", "session.status_running", "agent.message", "session.status_idle"]);
    expect(replies(events)).toEqual(["You said: hello there"]);
    expect(idleEvents(events)[0]).toMatchObject({ stop_reason: { type: "end_turn" }, stop_details: null });
    const after = await client.beta.sessions.retrieve(s.id);
    expect(after.status).toBe("idle");
    expect(after.usage.input_tokens).toBeGreaterThan(0);
    expect(after.usage.output_tokens).toBeGreaterThan(0);
    const stamps = events.map((e) => e.processed_at as string);
    expect([...stamps].sort()).toEqual(stamps);
  });

  it("an always_allow tool runs at once: tool use, result, reply, idle end_turn", async () => {
    const s = await newSession();
    await client.beta.sessions.events.send(s.id, { events: [say("please run get_job for #42")] });
    const events = await waitFor(client, s.id, idles(1));
    expect(types(events)).toEqual([
      "user.message",
      "session.status_running",
      "agent.mcp_tool_use",
      "agent.mcp_tool_result",
      "agent.message",
      "session.status_idle",
    ]);
    const use = events[2] as Extract<Event, { type: "agent.mcp_tool_use" }>;
    expect(use).toMatchObject({
      name: "get_job",
      mcp_server_name: "jobs",
      input: {},
      evaluated_permission: "allow",
      evaluation: { type: "always_allow" },
    });
    expect(events[3]).toMatchObject({ mcp_tool_use_id: use.id, is_error: false });
    expect(replies(events)[0]).toContain("get_job");
    expect(idleEvents(events)[0]?.stop_reason).toEqual({ type: "end_turn" });
  });

  it("an always_ask tool waits for a confirmation; allow runs it and replies", async () => {
    const s = await newSession();
    await client.beta.sessions.events.send(s.id, { events: [say("retry_job 42 please")] });
    const waiting = await waitFor(client, s.id, idles(1));
    expect(types(waiting)).toEqual([
      "user.message",
      "session.status_running",
      "agent.mcp_tool_use",
      "session.status_idle",
    ]);
    const use = waiting[2] as Extract<Event, { type: "agent.mcp_tool_use" }>;
    expect(use).toMatchObject({ name: "retry_job", evaluated_permission: "ask", evaluation: { type: "always_ask" } });
    expect(idleEvents(waiting)[0]?.stop_reason).toEqual({ type: "requires_action", event_ids: [use.id] });
    expect((await client.beta.sessions.retrieve(s.id)).status).toBe("idle");

    await expectApiError(
      client.beta.sessions.events.send(s.id, { events: [say("anything?")] }),
      400,
      "invalid_request_error",
      "waiting for tool calls",
      use.id,
    );
    await client.beta.sessions.events.send(s.id, {
      events: [{ type: "user.tool_confirmation", tool_use_id: use.id, result: "allow" }],
    });
    const done = await waitFor(client, s.id, idles(2));
    expect(types(done.slice(4))).toEqual([
      "user.tool_confirmation",
      "session.status_running",
      "agent.mcp_tool_result",
      "agent.message",
      "session.status_idle",
    ]);
    expect(done[6]).toMatchObject({ mcp_tool_use_id: use.id, is_error: false });
    expect(replies(done)[0]).toContain("I ran retry_job");
    expect(idleEvents(done)[1]?.stop_reason).toEqual({ type: "end_turn" });
  });

  it("deny: an error result and a reply that says so, with the deny message", async () => {
    const s = await newSession();
    await client.beta.sessions.events.send(s.id, { events: [say("cancel_job 7")] });
    const waiting = await waitFor(client, s.id, idles(1));
    const use = waiting.find((e) => e.type === "agent.mcp_tool_use") as Extract<Event, { type: "agent.mcp_tool_use" }>;
    expect(use.evaluation).toEqual({ type: "always_ask" }); // default_config of an mcp_toolset is always_ask
    await client.beta.sessions.events.send(s.id, {
      events: [{ type: "user.tool_confirmation", tool_use_id: use.id, result: "deny", deny_message: "not on friday" }],
    });
    const done = await waitFor(client, s.id, idles(2));
    const result = done.find((e) => e.type === "agent.mcp_tool_result");
    expect(result).toMatchObject({ mcp_tool_use_id: use.id, is_error: true });
    expect(replies(done)[0]).toBe("I did not run cancel_job: the user denied it (not on friday).");
  });

  it("several waiting calls: resolving one re-emits idle with the rest", async () => {
    const s = await newSession();
    await client.beta.sessions.events.send(s.id, { events: [say("cancel_job then retry_job, and get_job")] });
    const first = await waitFor(client, s.id, idles(1));
    const uses = first.filter((e) => e.type === "agent.mcp_tool_use");
    expect(uses.map((u) => (u as { name: string }).name)).toEqual(["cancel_job", "retry_job", "get_job"]);
    const [cancel, retry] = uses;
    expect(idleEvents(first)[0]?.stop_reason).toEqual({ type: "requires_action", event_ids: [cancel?.id, retry?.id] });
    await client.beta.sessions.events.send(s.id, {
      events: [{ type: "user.tool_confirmation", tool_use_id: retry?.id as string, result: "allow" }],
    });
    const second = await waitFor(client, s.id, idles(2));
    expect(idleEvents(second)[1]?.stop_reason).toEqual({ type: "requires_action", event_ids: [cancel?.id] });
    await client.beta.sessions.events.send(s.id, {
      events: [{ type: "user.tool_confirmation", tool_use_id: cancel?.id as string, result: "deny" }],
    });
    const done = await waitFor(client, s.id, idles(3));
    expect(idleEvents(done)[2]?.stop_reason).toEqual({ type: "end_turn" });
    expect(replies(done)[0]?.split("\n")).toEqual([
      "I did not run cancel_job: the user denied it.",
      "I ran retry_job: retry_job on jobs: ok (emulated result)",
      "I ran get_job: get_job on jobs: ok (emulated result)",
    ]);
  });

  it("a confirmation that matches no waiting call is refused and records nothing", async () => {
    const s = await newSession();
    await client.beta.sessions.events.send(s.id, { events: [say("retry_job")] });
    const waiting = await waitFor(client, s.id, idles(1));
    const use = waiting[2] as Event;
    await expectApiError(
      client.beta.sessions.events.send(s.id, {
        events: [{ type: "user.tool_confirmation", tool_use_id: waiting[0]?.id as string, result: "allow" }],
      }),
      400,
      "invalid_request_error",
      "events.0.tool_use_id",
    );
    await expectApiError(
      client.beta.sessions.events.send(s.id, {
        events: [{ type: "user.tool_confirmation", tool_use_id: use.id, result: "allow", deny_message: "x" }],
      }),
      400,
      "invalid_request_error",
      "deny_message",
    );
    // Valid first event, invalid second: the request is refused whole.
    await expectApiError(
      client.beta.sessions.events.send(s.id, {
        events: [
          { type: "user.tool_confirmation", tool_use_id: use.id, result: "allow" },
          { type: "user.tool_confirmation", tool_use_id: use.id, result: "allow" },
        ],
      }),
      400,
      "invalid_request_error",
      "events.1.tool_use_id",
    );
    expect(await history(client, s.id)).toEqual(waiting);
  });

  it("two racing confirmations of one call: exactly one is accepted", async () => {
    const s = await newSession();
    await client.beta.sessions.events.send(s.id, { events: [say("retry_job")] });
    const use = (await waitFor(client, s.id, idles(1)))[2] as Event;
    const confirm = () =>
      client.beta.sessions.events.send(s.id, {
        events: [{ type: "user.tool_confirmation", tool_use_id: use.id, result: "allow" }],
      });
    const results = await Promise.allSettled([confirm(), confirm(), confirm()]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const done = await waitFor(client, s.id, idles(2));
    expect(done.filter((e) => e.type === "user.tool_confirmation")).toHaveLength(1);
    expect(done.filter((e) => e.type === "agent.mcp_tool_result")).toHaveLength(1);
  });

  it("interrupt while waiting for a confirmation: idle end_turn, and the call can no longer be confirmed", async () => {
    const s = await newSession();
    await client.beta.sessions.events.send(s.id, { events: [say("retry_job")] });
    const use = (await waitFor(client, s.id, idles(1)))[2] as Event;
    await client.beta.sessions.events.send(s.id, { events: [{ type: "user.interrupt" }] });
    const done = await waitFor(client, s.id, idles(2));
    expect(types(done.slice(4))).toEqual(["user.interrupt", "session.status_idle"]);
    expect(idleEvents(done)[1]?.stop_reason).toEqual({ type: "end_turn" });
    await expectApiError(
      client.beta.sessions.events.send(s.id, {
        events: [{ type: "user.tool_confirmation", tool_use_id: use.id, result: "allow" }],
      }),
      400,
      "invalid_request_error",
      "not a tool use waiting",
    );
    // The session takes messages again.
    await client.beta.sessions.events.send(s.id, { events: [say("hi")] });
    expect(replies(await waitFor(client, s.id, idles(3)))).toEqual(["You said: hi"]);
  });

  it("interrupt stops a turn before the agent answers", async () => {
    const s = await newSession();
    await client.beta.sessions.events.send(s.id, { events: [say("get_job"), { type: "user.interrupt" }] });
    const done = await waitFor(client, s.id, idles(1));
    expect(types(done)).toEqual(["user.message", "user.interrupt", "session.status_idle"]);
    expect((await client.beta.sessions.retrieve(s.id)).status).toBe("idle");
  });

  it("messages sent while the agent runs are answered in order", async () => {
    const s = await newSession();
    await client.beta.sessions.events.send(s.id, { events: [say("one"), say("two")] });
    await client.beta.sessions.events.send(s.id, { events: [say("three")] });
    const done = await waitFor(client, s.id, idles(3));
    expect(replies(done)).toEqual(["You said: one", "You said: two", "You said: three"]);
  });

  it("a custom tool waits for user.custom_tool_result and the reply quotes it", async () => {
    const s = await newSession();
    await client.beta.sessions.events.send(s.id, { events: [say("lookup_order 1234")] });
    const waiting = await waitFor(client, s.id, idles(1));
    const use = waiting[2] as Extract<Event, { type: "agent.custom_tool_use" }>;
    expect(use).toMatchObject({ type: "agent.custom_tool_use", name: "lookup_order", input: {} });
    expect(idleEvents(waiting)[0]?.stop_reason).toEqual({ type: "requires_action", event_ids: [use.id] });
    await expectApiError(
      client.beta.sessions.events.send(s.id, {
        events: [{ type: "user.tool_confirmation", tool_use_id: use.id, result: "allow" }],
      }),
      400,
      "invalid_request_error",
      "not a tool use waiting for a confirmation",
    );
    await client.beta.sessions.events.send(s.id, {
      events: [
        { type: "user.custom_tool_result", custom_tool_use_id: use.id, content: [{ type: "text", text: "shipped" }] },
      ],
    });
    const done = await waitFor(client, s.id, idles(2));
    expect(replies(done)).toEqual(["lookup_order returned: shipped"]);
  });

  it("disabled tools and partial names are not called", async () => {
    const s = await newSession();
    await client.beta.sessions.events.send(s.id, { events: [say("purge_jobs, get_jobs, xget_job")] });
    const done = await waitFor(client, s.id, idles(1));
    expect(types(done)).toEqual(["user.message", "session.status_running", "agent.message", "session.status_idle"]);
  });

  it("<server>.<tool> names any tool of a toolset, under its config or the toolset's default_config", async () => {
    const s = await newSession();
    await client.beta.sessions.events.send(s.id, {
      events: [say("try jobs.list_queues and jobs.purge_jobs, jobs.get_job")],
    });
    const waiting = await waitFor(client, s.id, idles(1));
    const uses = waiting.filter(
      (e): e is Extract<Event, { type: "agent.mcp_tool_use" }> => e.type === "agent.mcp_tool_use",
    );
    expect(uses.map((u) => [u.name, u.evaluated_permission])).toEqual([
      ["list_queues", "ask"],
      ["get_job", "allow"],
    ]);
    expect(idleEvents(waiting)[0]?.stop_reason).toEqual({ type: "requires_action", event_ids: [uses[0]?.id] });
  });

  it("emulator:terminate ends the session: session.error, terminated, no more events", async () => {
    const s = await newSession();
    await client.beta.sessions.events.send(s.id, { events: [say("please emulator:terminate")] });
    const done = await waitFor(client, s.id, (ev) => ev.some((e) => e.type === "session.status_terminated"));
    expect(types(done)).toEqual([
      "user.message",
      "session.status_running",
      "session.error",
      "session.status_terminated",
    ]);
    expect(done[2]).toMatchObject({ error: { type: "unknown_error", retry_status: { type: "terminal" } } });
    expect((await client.beta.sessions.retrieve(s.id)).status).toBe("terminated");
    await expectApiError(
      client.beta.sessions.events.send(s.id, { events: [say("hello?")] }),
      400,
      "invalid_request_error",
      "terminated",
    );
  });

  it("initial_events are answered like a send", async () => {
    const s = await client.beta.sessions.create({
      agent: agentId,
      environment_id: envId,
      initial_events: [say("get_job at start")],
    });
    const done = await waitFor(client, s.id, idles(1));
    expect(types(done)).toContain("agent.mcp_tool_result");
  });

  it("rejects malformed and unsupported events with located errors", async () => {
    const s = await newSession();
    await expectApiError(
      client.beta.sessions.events.send(s.id, {
        events: [{ type: "user.message", content: [{ type: "text", text: 5 as unknown as string }] }],
      }),
      400,
      "invalid_request_error",
      "events.0.content.0.text",
    );
    await expectApiError(
      client.beta.sessions.events.send(s.id, { events: [{ type: "user.message", content: [] }] }),
      400,
      "invalid_request_error",
      "events.0.content",
    );
    await expectApiError(
      client.beta.sessions.events.send(s.id, {
        events: [{ type: "user.define_outcome", description: "x", rubric: { type: "text", content: "y" } }],
      }),
      400,
      "invalid_request_error",
      "not supported by the emulator",
    );
    expect(await history(client, s.id)).toEqual([]);
  });
});

describe("events: pagination and filters", () => {
  it("pages through the history in order, both ways, and filters by type and time", async () => {
    const s = await newSession();
    await client.beta.sessions.events.send(s.id, { events: [say("get_job")] });
    const all = await waitFor(client, s.id, idles(1));
    expect(all).toHaveLength(6);
    const paged: Event[] = [];
    for await (const e of client.beta.sessions.events.list(s.id, { limit: 2 })) paged.push(e);
    expect(paged).toEqual(all);
    const first = await client.beta.sessions.events.list(s.id, { limit: 4 });
    expect(first.data).toEqual(all.slice(0, 4));
    expect(first.hasNextPage()).toBe(true);
    const second = await first.getNextPage();
    expect(second.data).toEqual(all.slice(4));
    expect(second.hasNextPage()).toBe(false);
    const desc: Event[] = [];
    for await (const e of client.beta.sessions.events.list(s.id, { limit: 4, order: "desc" })) desc.push(e);
    expect(desc).toEqual([...all].reverse());
    const onlyTools = await client.beta.sessions.events.list(s.id, {
      types: ["agent.mcp_tool_use", "agent.mcp_tool_result"],
    });
    expect(types(onlyTools.data)).toEqual(["agent.mcp_tool_use", "agent.mcp_tool_result"]);
    const later = await client.beta.sessions.events.list(s.id, { "created_at[gt]": all[3]?.processed_at as string });
    expect(later.data).toEqual(all.slice(4));
  });

  it("a cursor stays valid while events are appended (no skips, no repeats)", async () => {
    const s = await newSession();
    await client.beta.sessions.events.send(s.id, { events: [say("hello")] });
    await waitFor(client, s.id, idles(1));
    const first = await client.beta.sessions.events.list(s.id, { limit: 3 });
    await client.beta.sessions.events.send(s.id, { events: [say("again")] });
    await waitFor(client, s.id, idles(2));
    const rest: Event[] = [];
    for await (const e of await first.getNextPage()) rest.push(e);
    const all = await history(client, s.id);
    expect([...first.data, ...rest]).toEqual(all);
  });

  it("limit accepts up to 1000 (the SDK's tool runner asks for 1000) and refuses more", async () => {
    const s = await newSession();
    await client.beta.sessions.events.list(s.id, { limit: 1000 });
    await expectApiError(
      client.beta.sessions.events.list(s.id, { limit: 1001 }),
      400,
      "invalid_request_error",
      "limit",
    );
  });
});

describe("workspaces, not found, archive, delete, environments in use", () => {
  it("404 for unknown ids and for another workspace's session", async () => {
    const unknown = "sesn_011CZkZAtmR3yMPDzynEDxu7";
    await expectApiError(client.beta.sessions.retrieve(unknown), 404, "not_found_error", unknown);
    await expectApiError(client.beta.sessions.events.list(unknown), 404, "not_found_error");
    await expectApiError(client.beta.sessions.events.send(unknown, { events: [say("x")] }), 404, "not_found_error");
    await expectApiError(client.beta.sessions.events.stream(unknown), 404, "not_found_error");
    await expectApiError(client.beta.sessions.archive(unknown), 404, "not_found_error");
    await expectApiError(client.beta.sessions.delete(unknown), 404, "not_found_error");

    const mine = await newSession();
    const other = { workspace_id: "wrkspc_sessions_other" };
    await expectApiError(client.beta.sessions.retrieve(mine.id, other), 404, "not_found_error");
    await expectApiError(client.beta.sessions.events.list(mine.id, other), 404, "not_found_error");
    await expectApiError(
      client.beta.sessions.events.send(mine.id, { events: [say("x")], ...other }),
      404,
      "not_found_error",
    );
    await expectApiError(client.beta.sessions.delete(mine.id, other), 404, "not_found_error");
    expect((await client.beta.sessions.list(other)).data).toEqual([]);
    // The other workspace cannot use this workspace's agent or environment either.
    await expectApiError(
      client.beta.sessions.create({ agent: agentId, environment_id: envId, ...other }),
      404,
      "not_found_error",
    );
  });

  it("archive hides a session from the list and makes it read-only; delete removes it", async () => {
    const s = await newSession("to archive");
    const archived = await client.beta.sessions.archive(s.id);
    expect(archived.archived_at).not.toBeNull();
    expect((await client.beta.sessions.archive(s.id)).archived_at).toBe(archived.archived_at);
    const ids = async (include: boolean) => {
      const out: string[] = [];
      for await (const x of client.beta.sessions.list({ include_archived: include, agent_id: agentId, limit: 100 }))
        out.push(x.id);
      return out;
    };
    expect(await ids(false)).not.toContain(s.id);
    expect(await ids(true)).toContain(s.id);
    await expectApiError(
      client.beta.sessions.events.send(s.id, { events: [say("x")] }),
      400,
      "invalid_request_error",
      "archived",
    );
    await expectApiError(client.beta.sessions.update(s.id, { title: "x" }), 400, "invalid_request_error", "archived");
    expect(await client.beta.sessions.delete(s.id)).toEqual({ id: s.id, type: "session_deleted" });
    await expectApiError(client.beta.sessions.retrieve(s.id), 404, "not_found_error");
  });

  it("a running session cannot be archived", async () => {
    const slow = await start({ sessionStepMs: 2000 });
    try {
      const c = sdk(slow);
      const f = await fixture(c);
      const s = await c.beta.sessions.create({ agent: f.agentId, environment_id: f.envId });
      await c.beta.sessions.events.send(s.id, { events: [say("hello")] });
      await waitFor(c, s.id, (ev) => ev.some((e) => e.type === "session.status_running"));
      await expectApiError(c.beta.sessions.archive(s.id), 409, "conflict_error", "user.interrupt");
    } finally {
      await slow.close();
    }
  });

  it("an environment used by a session cannot be deleted until the session is", async () => {
    const env = await client.beta.environments.create({ name: "in-use" });
    const s = await client.beta.sessions.create({ agent: agentId, environment_id: env.id });
    await client.beta.sessions.archive(s.id);
    await expectApiError(client.beta.environments.delete(env.id), 409, "conflict_error", s.id, "delete those sessions");
    await client.beta.sessions.delete(s.id);
    expect(await client.beta.environments.delete(env.id)).toEqual({ id: env.id, type: "environment_deleted" });
  });

  it("the raw API answers with the error envelope and the beta header rules", async () => {
    const s = await newSession();
    const res = await raw(emu, "GET", `/v1/sessions/${s.id}/events/stream`, { headers: { "anthropic-beta": null } });
    expect(res.status).toBe(400);
  });
});
