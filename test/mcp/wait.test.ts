/**
 * `wait_for_idle` and the event stream: the SDK's `client.beta.sessions.events.stream` works against the emulator;
 * a turn that finished before the wait started is read from the history (never missed); a turn in progress is
 * followed on the stream without duplicates; the timeout is a real timer and the cursor resumes; the client's
 * cancellation stops the wait; progress notifications flow while it waits.
 */
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCursor } from "../../src/mcp/events.js";
import { waitForIdle } from "../../src/mcp/wait.js";
import { AuditRecorder, call, connectHttp, type Fixture, fleetFixture, newClient, startHttp } from "./helpers.js";

const STEP_MS = 150;

let fix: Fixture;
let sdk: Anthropic;
let agentId: string;
let environmentId: string;
const audit = new AuditRecorder();
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  fix = await fleetFixture({ sessionStepMs: STEP_MS });
  sdk = fix.sdk;
  const agents = (await sdk.beta.agents.list()).data;
  agentId = agents.find((a) => a.metadata["reconcile/name"] === "export-support")?.id as string;
  const envs = (await sdk.beta.environments.list()).data;
  environmentId = envs.find((e) => e.metadata["reconcile/name"] === "export-sandbox")?.id as string;
}, 120_000);

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => {});
  await fix?.close();
});

const newSession = async () => (await sdk.beta.sessions.create({ agent: agentId, environment_id: environmentId })).id;
const message = (text: string) => ({
  events: [{ type: "user.message" as const, content: [{ type: "text" as const, text }] }],
});

describe("the event stream through the SDK", () => {
  it("delivers the turn's events, in order, ending with idle", async () => {
    const id = await newSession();
    const stream = await sdk.beta.sessions.events.stream(id);
    await sdk.beta.sessions.events.send(id, message("hello there"));
    const types: string[] = [];
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === "session.status_idle") break;
    }
    stream.controller.abort();
    expect(types).toEqual(["user.message", "session.status_running", "agent.message", "session.status_idle"]);
  }, 30_000);
});

describe("waitForIdle", () => {
  it("reads a turn that ended before the wait began from the history", async () => {
    const id = await newSession();
    await sdk.beta.sessions.events.send(id, message("get_latest_export_job for customer 7"));
    await expect
      .poll(async () => (await sdk.beta.sessions.events.list(id)).data.some((e) => e.type === "session.status_idle"), {
        timeout: 30_000,
        interval: 50,
      })
      .toBe(true);
    const result = await waitForIdle(sdk, id, { cursor: null, cursorText: null, timeoutMs: 30_000 });
    expect(result.status).toBe("idle");
    expect(result.reply).toContain("I ran get_latest_export_job");
    expect(result.tool_activity.map((e) => e.type)).toEqual(["agent.mcp_tool_use", "agent.mcp_tool_result"]);
    expect(result.cursor).not.toBeNull();
  }, 60_000);

  it("follows a turn already under way on the stream, each event once", async () => {
    const id = await newSession();
    const sent = await sdk.beta.sessions.events.send(id, message("get_latest_export_job and get_export_download_url"));
    await expect
      .poll(async () => (await sdk.beta.sessions.events.list(id)).data.length, { timeout: 30_000, interval: 20 })
      .toBeGreaterThanOrEqual(3);
    const seen: string[] = [];
    const result = await waitForIdle(sdk, id, {
      cursor: null,
      cursorText: null,
      timeoutMs: 30_000,
      onEvent: (summary) => seen.push(summary.id),
    });
    expect(result.status).toBe("idle");
    expect(new Set(seen).size).toBe(seen.length);
    const ids = result.tool_activity.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(result.tool_activity.filter((e) => e.type === "agent.mcp_tool_use").map((e) => e.tool)).toEqual([
      "get_latest_export_job",
      "get_export_download_url",
    ]);
    // Everything after the message, and nothing before it.
    const all = (await sdk.beta.sessions.events.list(id)).data.map((e) => e.id);
    expect(seen).toEqual(all.slice(all.indexOf(sent.data?.[0]?.id as string) + 1));
  }, 60_000);

  it("returns `timeout` at the deadline with its cursor, which then resumes with the next turn", async () => {
    const id = await newSession();
    await sdk.beta.sessions.events.send(id, message("hello"));
    const first = await waitForIdle(sdk, id, { cursor: null, cursorText: null, timeoutMs: 30_000 });
    expect(first.status).toBe("idle");
    // A cursor that says "the user just spoke" after the last event: nothing will come until the next message.
    const waitingText = Buffer.from(JSON.stringify({ ...parseCursor(String(first.cursor)), user: true })).toString(
      "base64url",
    );
    const started = Date.now();
    const timedOut = await waitForIdle(sdk, id, {
      cursor: parseCursor(waitingText),
      cursorText: waitingText,
      timeoutMs: 300,
    });
    expect(timedOut.status).toBe("timeout");
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(timedOut.cursor).toBe(waitingText);
    await sdk.beta.sessions.events.send(id, message("retry_export_job please"));
    const second = await waitForIdle(sdk, id, {
      cursor: parseCursor(String(timedOut.cursor)),
      cursorText: timedOut.cursor,
      timeoutMs: 30_000,
    });
    expect(second.status).toBe("requires_action");
    expect(second.pending_approvals.map((p) => p.tool)).toEqual(["retry_export_job"]);
    expect(second.reply).toBe("");
    // Waiting again past the end of that turn reports the state at once (still waiting) instead of hanging.
    const again = await waitForIdle(sdk, id, {
      cursor: second.cursor ? parseCursor(second.cursor) : null,
      cursorText: second.cursor,
      timeoutMs: 30_000,
    });
    expect(again.status).toBe("requires_action");
    expect(again.pending_approvals).toEqual(second.pending_approvals);
  }, 60_000);

  it("opens the stream before reading the history, and counts an event seen on both once", async () => {
    const id = await newSession();
    await sdk.beta.sessions.events.send(id, message("hello"));
    const first = await waitForIdle(sdk, id, { cursor: null, cursorText: null, timeoutMs: 30_000 });
    const cursorText = Buffer.from(JSON.stringify({ ...parseCursor(String(first.cursor)), user: true })).toString(
      "base64url",
    );
    // A client whose history read starts a turn and waits until part of it is in the history, so the stream (opened
    // before) delivers those events too.
    const spy = new Anthropic({ apiKey: "test-key", baseURL: fix.emulator.url, maxRetries: 0 });
    const events = spy.beta.sessions.events;
    const order: string[] = [];
    const stream = events.stream.bind(events);
    const list = events.list.bind(events);
    let raced = false;
    events.stream = ((...args: Parameters<typeof stream>) => {
      order.push("stream");
      return stream(...args);
    }) as typeof events.stream;
    events.list = ((...args: Parameters<typeof list>) => {
      order.push("list");
      if (raced) return list(...args);
      raced = true;
      return {
        async *[Symbol.asyncIterator]() {
          await sdk.beta.sessions.events.send(id, message("second turn"));
          await expect
            .poll(
              async () =>
                (await sdk.beta.sessions.events.list(id)).data.some(
                  (e) => e.type === "agent.message" && JSON.stringify(e).includes("second turn"),
                ),
              { timeout: 30_000, interval: 5 },
            )
            .toBe(true);
          yield* list(...args);
        },
      } as unknown as ReturnType<typeof list>;
    }) as typeof events.list;
    const seen: string[] = [];
    const result = await waitForIdle(spy, id, {
      cursor: parseCursor(cursorText),
      cursorText,
      timeoutMs: 30_000,
      onEvent: (summary) => seen.push(summary.id),
    });
    expect(order.slice(0, 2)).toEqual(["stream", "list"]);
    expect(result.status).toBe("idle");
    expect(result.reply).toBe("You said: second turn");
    expect(new Set(seen).size).toBe(seen.length);
  }, 60_000);

  it("returns at once for a session that was never sent anything", async () => {
    const id = await newSession();
    const result = await waitForIdle(sdk, id, { cursor: null, cursorText: null, timeoutMs: 30_000 });
    expect(result.status).toBe("idle");
    expect(result.reply).toBe("");
  });

  it("stops when the caller's signal aborts", async () => {
    const id = await newSession();
    await sdk.beta.sessions.events.send(id, message("retry_export_job please"));
    const controller = new AbortController();
    const waiting = waitForIdle(sdk, id, {
      cursor: null,
      cursorText: null,
      timeoutMs: 60_000,
      signal: controller.signal,
      onEvent: () => controller.abort(),
    });
    const result = await waiting;
    expect(result.status).toBe("cancelled");
  }, 60_000);
});

describe("wait_for_idle over MCP", () => {
  it("sends progress notifications while it waits, and stops when the client cancels", async () => {
    const http = await startHttp(fix, audit);
    closers.push(() => http.close());
    const client = newClient();
    closers.push(() => client.close());
    await connectHttp(client, http.url);
    const started = await call(client, "session_start", {
      agent: "export-support",
      environment: "export-sandbox",
      message: "get_ticket then get_latest_export_job",
    });
    const sessionId = started.structured.session_id as string;
    const progress: number[] = [];
    const result = await client.callTool(
      { name: "wait_for_idle", arguments: { session_id: sessionId, timeout_seconds: 60 } },
      undefined,
      { onprogress: (p) => progress.push(p.progress), timeout: 60_000 },
    );
    expect((result.structuredContent as { status: string }).status).toBe("idle");
    expect(progress.length).toBeGreaterThan(0);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);

    // Cancel a wait that nothing else would end for 300 s (a cursor saying the user just spoke, on a session whose
    // turn is over): the server stops waiting and writes the audit line long before the timeout.
    const last = parseCursor(String((result.structuredContent as { cursor: string }).cursor));
    const hanging = Buffer.from(JSON.stringify({ ...last, user: true })).toString("base64url");
    const controller = new AbortController();
    const cancelled = client.callTool(
      { name: "wait_for_idle", arguments: { session_id: sessionId, cursor: hanging, timeout_seconds: 300 } },
      undefined,
      { signal: controller.signal, timeout: 300_000 },
    );
    const before = audit.records.filter((r) => r.tool === "wait_for_idle").length;
    await new Promise((resolve) => setTimeout(resolve, 500)); // let the call reach the server (not a sync point)
    controller.abort();
    await expect(cancelled).rejects.toThrow();
    await expect
      .poll(() => audit.records.filter((r) => r.tool === "wait_for_idle").length, { timeout: 30_000 })
      .toBe(before + 1);
    expect(audit.records.filter((r) => r.tool === "wait_for_idle").at(-1)?.duration_ms).toBeLessThan(60_000);
  }, 120_000);
});
