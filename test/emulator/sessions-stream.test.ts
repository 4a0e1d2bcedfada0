import type Anthropic from "@anthropic-ai/sdk";
import { betaTool } from "@anthropic-ai/sdk/helpers/beta/json-schema";
import type { BetaManagedAgentsStreamSessionEvents } from "@anthropic-ai/sdk/resources/beta/sessions/events.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEmulator } from "../../src/emulator/index.js";
import { BETA, sdk, start } from "./helpers.js";
import { type Event, fixture, history, idles, replies, say, WAIT_MS, waitFor } from "./sessions-helpers.js";

let emu: RunningEmulator;
let client: Anthropic;
let agentId: string;
let envId: string;

beforeAll(async () => {
  emu = await start({ heartbeatMs: 50 });
  client = sdk(emu);
  ({ agentId, envId } = await fixture(client));
});
afterAll(async () => {
  await emu.close();
});

type StreamEvent = BetaManagedAgentsStreamSessionEvents;

const isEndTurn = (e: { type: string; stop_reason?: { type: string } }) =>
  e.type === "session.status_idle" && e.stop_reason?.type === "end_turn";

/** Reads a stream until `stop` holds for an event (or `WAIT_MS` passes, which fails the test). */
async function readUntil(
  stream: AsyncIterable<StreamEvent> & { controller: AbortController },
  stop: (e: StreamEvent) => boolean,
): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  const timer = setTimeout(() => stream.controller.abort(), WAIT_MS);
  try {
    for await (const e of stream) {
      out.push(e);
      if (stop(e)) return out;
    }
  } finally {
    clearTimeout(timer);
  }
  throw new Error(`stream ended before the awaited event; got: ${out.map((e) => e.type).join(", ")}`);
}

describe("the SSE event stream (client.beta.sessions.events.stream)", () => {
  it("a stream opened before the send receives every event, in history order", async () => {
    const s = await client.beta.sessions.create({ agent: agentId, environment_id: envId });
    const stream = await client.beta.sessions.events.stream(s.id);
    await client.beta.sessions.events.send(s.id, { events: [say("get_job then retry_job")] });
    const first = await readUntil(stream, (e) => e.type === "session.status_idle");
    const use = first.find((e) => e.type === "agent.mcp_tool_use" && e.name === "retry_job") as Event;
    const second = await client.beta.sessions.events.stream(s.id);
    await client.beta.sessions.events.send(s.id, {
      events: [{ type: "user.tool_confirmation", tool_use_id: use.id, result: "allow" }],
    });
    const rest = await readUntil(second, isEndTurn);
    const all = await history(client, s.id);
    expect([...first, ...rest]).toEqual(all);
    expect(all.map((e) => e.type)).toEqual([
      "user.message",
      "session.status_running",
      "agent.mcp_tool_use",
      "agent.mcp_tool_use",
      "agent.mcp_tool_result",
      "session.status_idle",
      "user.tool_confirmation",
      "session.status_running",
      "agent.mcp_tool_result",
      "agent.message",
      "session.status_idle",
    ]);
    stream.controller.abort();
  });

  it("a stream opened after the send: stream, then list, de-duplicated by id, gives every event once", async () => {
    const s = await client.beta.sessions.create({ agent: agentId, environment_id: envId });
    await client.beta.sessions.events.send(s.id, { events: [say("get_job")] });
    // The late client: stream first, then history (the SDK's SessionToolRunner order), merged by event id.
    const stream = await client.beta.sessions.events.stream(s.id);
    const seen = new Map<string, Event>();
    for (const e of await history(client, s.id)) seen.set(e.id, e);
    if (![...seen.values()].some(isEndTurn)) {
      for await (const e of stream) {
        if (!("id" in e)) continue;
        seen.set(e.id, e as Event);
        if (isEndTurn(e)) break;
      }
    }
    stream.controller.abort();
    expect([...seen.values()].sort((a, b) => (a.processed_at ?? "").localeCompare(b.processed_at ?? ""))).toEqual(
      await history(client, s.id),
    );
    expect(seen.size).toBe(6);
  });

  it("a stream opened after the turn ended gets nothing old, then the next turn", async () => {
    const s = await client.beta.sessions.create({ agent: agentId, environment_id: envId });
    await client.beta.sessions.events.send(s.id, { events: [say("first")] });
    const before = await waitFor(client, s.id, idles(1));
    const stream = await client.beta.sessions.events.stream(s.id);
    await client.beta.sessions.events.send(s.id, { events: [say("second")] });
    const live = await readUntil(stream, isEndTurn);
    const ids = new Set(before.map((e) => e.id));
    expect(live.filter((e) => "id" in e && ids.has(e.id))).toEqual([]);
    expect(replies(live as Event[])).toEqual(["You said: second"]);
  });

  it("control characters and SSE framing in a message survive the stream intact", async () => {
    const s = await client.beta.sessions.create({ agent: agentId, environment_id: envId });
    const stream = await client.beta.sessions.events.stream(s.id);
    const nasty = "line1\n\nevent: error\ndata: {}\r\n\r\nid: 1\u2028\u0000 é 🚀";
    await client.beta.sessions.events.send(s.id, { events: [say(nasty)] });
    const live = await readUntil(stream, isEndTurn);
    expect(replies(live as Event[])).toEqual([`You said: ${nasty}`]);
    expect(live).toEqual(await history(client, s.id));
  });

  it("several streams on one session each get every event; heartbeats are invisible", async () => {
    const s = await client.beta.sessions.create({ agent: agentId, environment_id: envId });
    const streams = await Promise.all([1, 2, 3].map(() => client.beta.sessions.events.stream(s.id)));
    await new Promise((r) => setTimeout(r, 150)); // let a few 50 ms heartbeats through
    await client.beta.sessions.events.send(s.id, { events: [say("hi")] });
    const got = await Promise.all(streams.map((st) => readUntil(st, isEndTurn)));
    const all = await history(client, s.id);
    for (const g of got) expect(g).toEqual(all);
  });

  it("deleting the session sends session.deleted and ends the stream", async () => {
    const s = await client.beta.sessions.create({ agent: agentId, environment_id: envId });
    const stream = await client.beta.sessions.events.stream(s.id);
    await client.beta.sessions.delete(s.id);
    const got: StreamEvent[] = [];
    for await (const e of stream) got.push(e);
    expect(got.map((e) => e.type)).toEqual(["session.deleted"]);
  });

  it("the raw stream is text/event-stream with an event name per message", async () => {
    const s = await client.beta.sessions.create({ agent: agentId, environment_id: envId });
    const ac = new AbortController();
    const res = await fetch(`${emu.url}/v1/sessions/${s.id}/events/stream?beta=true`, {
      headers: { "x-api-key": "test", "anthropic-beta": BETA },
      signal: ac.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(res.headers.get("request-id")).toMatch(/^req_/);
    await client.beta.sessions.events.send(s.id, { events: [say("x")] });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = "";
    const decoder = new TextDecoder();
    while (!text.includes("event: session.status_idle\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    ac.abort();
    expect(text).toContain("event: user.message\ndata: {");
    expect(text).toContain("event: agent.message\ndata: {");
  });
});

describe("the SDK's own SessionToolRunner (events.toolRunner) against the emulator", () => {
  it("answers a custom tool call and sees the reply", async () => {
    const f = await fixture(client, { customTool: true });
    const s = await client.beta.sessions.create({ agent: f.agentId, environment_id: f.envId });
    const calls: unknown[] = [];
    const lookup = betaTool({
      name: "lookup_order",
      description: "Looks an order up",
      inputSchema: { type: "object", properties: { id: { type: "string" } } },
      run: (input) => {
        calls.push(input);
        return "delivered on Monday";
      },
    });
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), WAIT_MS);
    const runner = client.beta.sessions.events.toolRunner(s.id, { tools: [lookup], maxIdleMs: 200, signal: ac.signal });
    await client.beta.sessions.events.send(s.id, { events: [say("lookup_order 1234")] });
    const ran: string[] = [];
    for await (const call of runner) ran.push(call.name);
    clearTimeout(timer);
    expect(ran).toEqual(["lookup_order"]);
    expect(calls).toEqual([{}]);
    const all = await waitFor(client, s.id, idles(2));
    expect(all.find((e) => e.type === "user.custom_tool_result")).toMatchObject({
      content: [{ type: "text", text: "delivered on Monday" }],
    });
    expect(replies(all)).toEqual(["lookup_order returned: delivered on Monday"]);
  });
});
