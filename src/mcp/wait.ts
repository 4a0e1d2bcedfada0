/**
 * `wait_for_idle`'s engine: follow a session until its turn ends, without missing a fast turn.
 *
 * Like the SDK's SessionToolRunner it opens the event stream FIRST, then reads the history after the cursor, and
 * de-duplicates by event id, so an event emitted between the two is seen exactly once. It stops at the first
 * `session.status_idle` (end of turn, or `requires_action` with the tool uses that wait for a confirmation),
 * `session.status_terminated` or `session.deleted` after the cursor; at the deadline (a real timer, not checked only
 * when events arrive); or when the caller's signal aborts. A stream that ends early is reopened (history re-read,
 * duplicates dropped) until one of those happens.
 */
import type Anthropic from "@anthropic-ai/sdk";
import { isTransient } from "../providers/retry.js";
import {
  type Cursor,
  contentText,
  cursorAfter,
  type EventSummary,
  eventsAfter,
  MAX_TEXT,
  type SessionEvent,
  summarize,
  TOOL_USE_TYPES,
  trim,
} from "./events.js";

/** A tool call waiting for a person's approval. */
export interface PendingApproval {
  tool_use_id: string;
  tool: string;
  server: string | null;
  /** The tool input as JSON, trimmed. */
  input: string;
}

/** What `waitForIdle` found. */
export interface TurnResult {
  /** `idle` (turn ended), `requires_action` (approvals pending), `terminated`, `timeout` or `cancelled`. */
  status: "idle" | "requires_action" | "terminated" | "timeout" | "cancelled";
  stop_reason: string | null;
  /** The agent's message text of this turn, in order. */
  reply: string;
  /** Tool uses, results and confirmations of this turn, summarised (the latest `MAX_ACTIVITY`). */
  tool_activity: EventSummary[];
  pending_approvals: PendingApproval[];
  /** Resume here (`wait_for_idle` / `session_events`): after the last event seen; null when none was seen. */
  cursor: string | null;
}

/** Options of `waitForIdle`. */
export interface WaitOptions {
  /** Consider only events after this cursor; without one, events after the last user event. */
  cursor: Cursor | null;
  cursorText: string | null;
  timeoutMs: number;
  /** The MCP request's signal (client cancellation). */
  signal?: AbortSignal;
  /** Called once per new event (for progress notifications). */
  onEvent?: (summary: EventSummary, count: number) => void;
}

/** The most tool activity entries a result keeps (the latest ones). */
export const MAX_ACTIVITY = 200;

const ACTIVITY = new Set<string>([
  ...TOOL_USE_TYPES,
  "agent.tool_result",
  "agent.mcp_tool_result",
  "user.tool_confirmation",
]);

/** Accumulates one turn. */
class Turn {
  readonly seen = new Set<string>();
  readonly toolUses = new Map<string, SessionEvent>();
  readonly replies: string[] = [];
  readonly activity: EventSummary[] = [];
  last: SessionEvent | null = null;
  end: { status: TurnResult["status"]; stop_reason: string | null; waiting: string[] } | null = null;
  count = 0;

  /** Adds `event` unless seen; returns true when it was new. */
  add(event: SessionEvent, onEvent?: WaitOptions["onEvent"]): boolean {
    if (this.seen.has(event.id) || this.end) return false;
    this.seen.add(event.id);
    this.last = event;
    this.count++;
    const summary = summarize(event);
    if ((TOOL_USE_TYPES as readonly string[]).includes(event.type)) this.toolUses.set(event.id, event);
    if (event.type === "agent.message") this.replies.push(contentText((event as { content?: unknown }).content));
    if (ACTIVITY.has(event.type)) {
      this.activity.push(summary);
      if (this.activity.length > MAX_ACTIVITY) this.activity.shift();
    }
    if (event.type === "session.status_idle") {
      const reason = summary.stop_reason ?? "end_turn";
      this.end = {
        status: reason === "requires_action" ? "requires_action" : "idle",
        stop_reason: reason,
        waiting: summary.waiting_on ?? [],
      };
    } else if (event.type === "session.status_terminated" || event.type === "session.deleted") {
      this.end = { status: "terminated", stop_reason: null, waiting: [] };
    }
    onEvent?.(summary, this.count);
    return true;
  }
}

/** Reconnect delays of the event stream, in milliseconds (doubling between them). */
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 5_000;

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

function isAbort(error: unknown): boolean {
  const name = (error as { name?: string } | null)?.name;
  return name === "AbortError" || name === "APIUserAbortError";
}

/**
 * Follows session `sessionId` until its turn ends, the deadline passes or `signal` aborts (see the module comment).
 * @throws the SDK's `APIError` when the session cannot be read (404 for an unknown session)
 */
export async function waitForIdle(client: Anthropic, sessionId: string, options: WaitOptions): Promise<TurnResult> {
  const turn = new Turn();
  const stop = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    stop.abort();
  }, options.timeoutMs);
  const onCancel = () => stop.abort();
  options.signal?.addEventListener("abort", onCancel, { once: true });
  let cursor = options.cursor;
  let resumeAt = options.cursorText;
  try {
    if (cursor === null) {
      // Without a cursor the turn in question is the one after the last thing the user sent.
      const history = await eventsAfter(client, sessionId, null, { signal: stop.signal });
      const lastUser = history.findLastIndex((e) => e.type.startsWith("user."));
      const base = lastUser >= 0 ? history[lastUser] : undefined;
      if (base) {
        cursor = { t: base.processed_at ?? "", id: base.id, user: true };
        resumeAt = cursorAfter(base);
      }
      for (const [i, e] of history.entries()) {
        if ((TOOL_USE_TYPES as readonly string[]).includes(e.type)) turn.toolUses.set(e.id, e);
        if (i <= lastUser) turn.seen.add(e.id);
        else turn.add(e, options.onEvent);
      }
      if (!base && !turn.end) {
        // Nothing was ever sent: the session is idle (or ended) already, nothing to wait for.
        const session = await client.beta.sessions.retrieve(sessionId, {}, { signal: stop.signal });
        if (session.status !== "running" && session.status !== "rescheduling") {
          turn.end = {
            status: session.status === "terminated" ? "terminated" : "idle",
            stop_reason: null,
            waiting: [],
          };
        }
      }
    }
    let backoff = 0;
    while (!turn.end && !stop.signal.aborted) {
      if (backoff > 0) await sleep(backoff, stop.signal);
      try {
        // Open the stream first, then read the history: nothing emitted in between is missed.
        const stream = await client.beta.sessions.events.stream(sessionId, {}, { signal: stop.signal });
        try {
          const history = await eventsAfter(client, sessionId, cursor, { signal: stop.signal });
          for (const e of history) turn.add(e, options.onEvent);
          if (!turn.end && history.length === 0 && cursor && !cursor.user) {
            // The cursor is past the end of a turn and nothing new happened: report the state as it is.
            turn.end = await currentState(client, sessionId, stop.signal);
          }
          if (!turn.end) {
            for await (const event of stream) {
              turn.add(event as SessionEvent, options.onEvent);
              if (turn.end) break;
            }
          }
        } finally {
          stream.controller.abort();
        }
        backoff = RECONNECT_MIN_MS; // the stream ended by itself: reopen soon
      } catch (error) {
        // Like the SDK's SessionToolRunner: reconnect on 408/429/5xx and dropped connections, with backoff.
        if (isAbort(error) || !isTransient(error)) throw error;
        backoff = Math.min(Math.max(backoff * 2, RECONNECT_MIN_MS), RECONNECT_MAX_MS);
      }
      if (turn.last) cursor = parseLast(turn.last);
    }
  } catch (error) {
    if (!isAbort(error)) throw error;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onCancel);
  }
  const pending = turn.end?.waiting.length ? await pendingApprovals(client, sessionId, turn, turn.end.waiting) : [];
  const status: TurnResult["status"] = turn.end ? turn.end.status : timedOut ? "timeout" : "cancelled";
  return {
    status,
    stop_reason: turn.end?.stop_reason ?? null,
    reply: trim(turn.replies.join("\n"), MAX_TEXT * 4),
    tool_activity: turn.activity,
    pending_approvals: pending,
    cursor: turn.last ? cursorAfter(turn.last) : resumeAt,
  };
}

/**
 * The state of a session that is not running: terminated, or idle with the stop reason (and waiting tool uses) of
 * its latest idle event. Null while it runs.
 */
async function currentState(client: Anthropic, sessionId: string, signal: AbortSignal): Promise<Turn["end"]> {
  const session = await client.beta.sessions.retrieve(sessionId, {}, { signal });
  if (session.status === "terminated") return { status: "terminated", stop_reason: null, waiting: [] };
  if (session.status !== "idle") return null;
  const page = await client.beta.sessions.events.list(
    sessionId,
    { order: "desc", types: ["session.status_idle"], limit: 1 } as never,
    { signal },
  );
  const idle = page.data[0];
  const summary = idle ? summarize(idle as SessionEvent) : undefined;
  const reason = summary?.stop_reason ?? null;
  return {
    status: reason === "requires_action" ? "requires_action" : "idle",
    stop_reason: reason,
    waiting: summary?.waiting_on ?? [],
  };
}

function parseLast(event: SessionEvent): Cursor {
  return { t: event.processed_at ?? "", id: event.id, user: event.type.startsWith("user.") };
}

/** The tool uses `ids` names, from this turn or (when the wait resumed mid-turn) from the history. */
async function pendingApprovals(
  client: Anthropic,
  sessionId: string,
  turn: Turn,
  ids: string[],
): Promise<PendingApproval[]> {
  if (ids.some((id) => !turn.toolUses.has(id))) {
    for (const e of await eventsAfter(client, sessionId, null, { types: [...TOOL_USE_TYPES] })) {
      turn.toolUses.set(e.id, e);
    }
  }
  return ids.map((id) => {
    const use = turn.toolUses.get(id);
    const summary = use ? summarize(use) : undefined;
    return {
      tool_use_id: id,
      tool: summary?.tool ?? "(unknown)",
      server: summary?.server ?? null,
      input: summary?.input ?? "{}",
    };
  });
}
