import type { IncomingMessage, ServerResponse } from "node:http";
import type {
  BetaManagedAgentsSessionEvent,
  BetaManagedAgentsStreamSessionEvents,
} from "@anthropic-ai/sdk/resources/beta/sessions/events.js";
import { newId } from "./ids.js";
import { busy, planTurn } from "./session-script.js";
import type { SessionRecord, Store, Workspace } from "./store.js";

/**
 * Runs sessions in time: appends events to a session's history, applies their effect on the session object
 * (status, usage, `stats`), fans them out to open event streams, and emits the scripted agent's planned events
 * (`session-script.ts`) one at a time, `stepMs` apart, starting `stepMs` after the request that planned them. So the
 * response to `events.send` always comes before the agent's first event, and a client that opens the stream after
 * sending must read the history (`events.list`) to see what it missed: the race real clients must handle.
 *
 * Each emitted event is persisted (state file) before the next one, and the plan itself is persisted with the
 * session, so an emulator restarted mid-turn resumes the turn where it stopped. Event ids are chosen when the turn is
 * planned: if the process dies after emitting an event but before persisting it, the event is emitted again after
 * the restart with the same id, so clients that de-duplicate by id see it once.
 */

type SessionEvent = BetaManagedAgentsSessionEvent;

/** Receives the live events of one session (an open SSE stream). */
export interface SessionListener {
  /** Called with each new event, in order. */
  send(event: BetaManagedAgentsStreamSessionEvents): void;
  /** Called when the stream must end (session deleted, emulator stopping). */
  end(): void;
}

/** Options of a `SessionRuntime`. */
export interface SessionRuntimeOptions {
  store: Store;
  /** The emulator's clock: RFC 3339 timestamps, strictly increasing. */
  now(): string;
  /** Delay before each scripted agent event, in milliseconds (> 0). */
  stepMs: number;
  /** Interval of `ping` messages on open event streams, in milliseconds. */
  heartbeatMs: number;
  /** Receives a line when persisting an emitted event fails (the turn stops there). */
  log?: (line: string) => void;
}

/** Rough token count of a text (4 characters a token, at least 1 for non-empty text); deterministic. */
export function tokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** The text of a message: its text blocks joined by newlines. */
export function textOf(content: readonly { type: string; text?: unknown }[]): string {
  return content
    .filter((b) => b.type === "text" && typeof b.text === "string")
    .map((b) => b.text as string)
    .join("\n");
}

/** Seconds between two epoch-millisecond times, rounded to milliseconds. */
function seconds(fromMs: number, toMs: number): number {
  return Math.max(0, Math.round(toMs - fromMs) / 1000);
}

/** The live runtime of every session of a store (one per emulator). */
export class SessionRuntime {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly listeners = new Map<string, Set<SessionListener>>();
  private stopped = false;

  constructor(private readonly options: SessionRuntimeOptions) {}

  /** Interval of `ping` messages on open event streams, in milliseconds. */
  get heartbeatMs(): number {
    return this.options.heartbeatMs;
  }

  /** Schedules the pending work of every stored session (after a restart). */
  resume(): void {
    for (const [, ws] of this.options.store.entries()) {
      for (const rec of ws.sessions.values()) this.schedule(ws, rec);
    }
  }

  /**
   * Appends `event` (complete, with `processed_at`) to the session's history, applies its effect on the session
   * object and sends it to the session's open streams.
   */
  append(rec: SessionRecord, event: SessionEvent): void {
    rec.events.push(event);
    const s = rec.session;
    const nowMs = Date.now();
    switch (event.type) {
      case "session.status_running":
        s.status = "running";
        s.updated_at = event.processed_at;
        rec.running_since = nowMs;
        break;
      case "session.status_idle":
      case "session.status_terminated":
        s.status = event.type === "session.status_idle" ? "idle" : "terminated";
        s.updated_at = event.processed_at;
        if (rec.running_since !== null) {
          const active = seconds(rec.running_since, nowMs);
          s.stats.active_seconds = (s.stats.active_seconds ?? 0) + active;
          s.usage.active_seconds = (s.usage.active_seconds ?? 0) + active;
          rec.running_since = null;
        }
        if (s.status === "terminated") s.stats.duration_seconds = seconds(Date.parse(s.created_at), nowMs);
        break;
      case "user.message":
        s.usage.input_tokens = (s.usage.input_tokens ?? 0) + tokens(textOf(event.content));
        break;
      case "agent.message":
        s.usage.output_tokens = (s.usage.output_tokens ?? 0) + tokens(textOf(event.content));
        break;
    }
    for (const listener of this.listeners.get(s.id) ?? []) listener.send(event);
  }

  /**
   * Starts the next step of `rec` if it has planned events (or a queued message and nothing in progress) and no
   * step is already scheduled.
   */
  schedule(ws: Workspace, rec: SessionRecord): void {
    const id = rec.session.id;
    if (this.stopped || this.timers.has(id)) return;
    const { script } = rec;
    if (script.queue.length === 0 && (busy(script) || script.inbox.length === 0)) return;
    const timer = setTimeout(() => {
      this.timers.delete(id);
      this.step(ws, id);
    }, this.options.stepMs);
    timer.unref();
    this.timers.set(id, timer);
  }

  /** Emits the next planned event of session `id` (planning the next queued message first if needed). */
  private step(ws: Workspace, id: string): void {
    const rec = ws.sessions.get(id);
    if (!rec || this.stopped) return;
    const { script } = rec;
    if (script.queue.length === 0 && !busy(script)) {
      const text = script.inbox.shift();
      if (text !== undefined) script.queue.push(...planTurn(script, rec.session.agent, text));
    }
    const planned = script.queue.shift();
    if (planned) this.append(rec, { ...planned, processed_at: this.options.now() } as SessionEvent);
    try {
      this.options.store.persist();
    } catch (err) {
      this.options.log?.(`session ${id}: cannot persist the emulator state (${(err as Error).message}); turn stopped`);
      return;
    }
    this.schedule(ws, rec);
  }

  /** Registers a live listener for session `id`; returns the function that removes it. */
  subscribe(id: string, listener: SessionListener): () => void {
    let set = this.listeners.get(id);
    if (!set) {
      set = new Set();
      this.listeners.set(id, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(id);
    };
  }

  /** Stops session `id` for good (it was deleted): cancels its steps, sends `session.deleted`, ends its streams. */
  deleted(id: string, now: string): void {
    const timer = this.timers.get(id);
    if (timer) clearTimeout(timer);
    this.timers.delete(id);
    const listeners = this.listeners.get(id) ?? new Set<SessionListener>();
    this.listeners.delete(id);
    for (const listener of listeners) {
      listener.send({ id: newId("sevt"), type: "session.deleted", processed_at: now });
      listener.end();
    }
  }

  /** Cancels every scheduled step and ends every stream (emulator shutdown). Planned events stay persisted. */
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const set of this.listeners.values()) for (const listener of set) listener.end();
    this.listeners.clear();
  }
}

/**
 * A response the route handler does not serialize as JSON: the server hands it the raw Node response
 * (`reply.hijack()`), with the headers already set on the reply (`request-id`, `anthropic-workspace-id`).
 */
export interface RawResponse {
  readonly raw: true;
  write(
    req: IncomingMessage,
    res: ServerResponse,
    headers: Record<string, string | number | string[] | undefined>,
  ): void;
}

/** True for a `RawResponse` returned by a route handler. */
export function isRawResponse(v: unknown): v is RawResponse {
  return typeof v === "object" && v !== null && (v as { raw?: unknown }).raw === true && "write" in v;
}

/**
 * The SSE stream of one session (`GET /v1/sessions/:id/events/stream`), as the SDK's `Stream.fromSSEResponse`
 * reads it: one `event: <type>` + `data: <event JSON>` message per event, live events only (no history: read it
 * with `events.list` and de-duplicate by `id`). A comment line is written at once, so the SDK's `stream()` promise
 * resolves as soon as the listener is registered; `event: ping` messages (which the SDK skips) keep idle
 * connections open every `heartbeatMs`. The stream ends when the client disconnects, the session is deleted (after
 * a `session.deleted` event) or the emulator stops.
 */
export function sessionEventStream(runtime: SessionRuntime, sessionId: string, heartbeatMs: number): RawResponse {
  return {
    raw: true,
    write(req, res, headers) {
      const inherited = Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)) as Record<
        string,
        string | number | string[]
      >;
      res.writeHead(200, {
        ...inherited,
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        connection: "keep-alive",
      });
      let open = true;
      const heartbeat = setInterval(() => res.write('event: ping\ndata: {"type":"ping"}\n\n'), heartbeatMs);
      heartbeat.unref();
      const close = () => {
        if (!open) return;
        open = false;
        clearInterval(heartbeat);
        unsubscribe();
        res.end();
      };
      const unsubscribe = runtime.subscribe(sessionId, {
        send(event) {
          if (open) res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
        },
        end: close,
      });
      req.on("close", close);
      res.on("close", close);
      res.write(": stream open\n\n");
    },
  };
}
