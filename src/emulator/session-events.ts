import type {
  BetaManagedAgentsSendSessionEvents,
  BetaManagedAgentsSessionEvent,
} from "@anthropic-ai/sdk/resources/beta/sessions/events.js";
import { createdAtFilter, type Page, type PageRequest, paginate } from "./pagination.js";
import { parseUserEvents, submitUserEvents } from "./session-input.js";
import { type RawResponse, type SessionRuntime, sessionEventStream } from "./session-runtime.js";
import { getSession, queryList, queryOrder } from "./sessions.js";
import type { Workspace } from "./store.js";
import { arr, clone, obj, onlyKeys, required } from "./validate.js";

/**
 * Session events (`/v1/sessions/:id/events`): list (history), send, and the SSE stream, as the SDK's
 * `client.beta.sessions.events.{list,send,stream}` call them.
 */

/** The largest `limit` of an event list (the SDK's own `SessionToolRunner` reads history with `limit: 1000`). */
export const MAX_EVENTS_PAGE_SIZE = 1000;

/**
 * Lists a session's events (`GET /v1/sessions/:id/events`), oldest first unless `order=desc`. Filters: `types[]`
 * (event `type` values) and `created_at[gt|gte|lt|lte]` (compared with `processed_at`). Cursor pagination (SDK
 * `PageCursor`): the cursor holds the position in the history, so events appended between pages are never skipped
 * or repeated. `page` must come from `ctx.page(MAX_EVENTS_PAGE_SIZE)`.
 * @throws 404 unknown session; 400 bad parameter or cursor.
 */
export function listEvents(
  ws: Workspace,
  id: string,
  query: Record<string, unknown>,
  page: PageRequest,
): Page<BetaManagedAgentsSessionEvent> {
  const rec = getSession(ws, id);
  const types = queryList(query, "types");
  const inTime = createdAtFilter(query);
  const order = queryOrder(query, "asc");
  const items = rec.events
    .map((event, seq) => ({ event, seq }))
    .filter(({ event }) => types === undefined || types.includes(event.type as string))
    .filter(({ event }) => typeof event.processed_at !== "string" || inTime(event.processed_at));
  const result = paginate(items, (e) => [order === "asc" ? -e.seq : e.seq], page, `events:${id}:${order}`);
  return { data: result.data.map((e) => clone(e.event)), next_page: result.next_page };
}

/**
 * Sends events to a session (`POST /v1/sessions/:id/events`, SDK `EventSendParams`) → `{data: [recorded events]}`.
 * The scripted agent answers after the response (see `session-script.ts`).
 * @throws 404 unknown session; 400 invalid event or one the session cannot take now (nothing is recorded then).
 */
export function sendEvents(
  ws: Workspace,
  runtime: SessionRuntime,
  id: string,
  body: unknown,
  now: () => string,
): BetaManagedAgentsSendSessionEvents {
  const rec = getSession(ws, id);
  const o = obj(body ?? {}, "");
  onlyKeys(o, ["events"], "");
  const list = arr(required(o, "events", ""), "events");
  const events = parseUserEvents(list, "events");
  return { data: clone(submitUserEvents(ws, runtime, rec, events, now)) };
}

/**
 * Opens the SSE stream of a session (`GET /v1/sessions/:id/events/stream`): live events only (see
 * `sessionEventStream`). `event_deltas` is accepted and ignored: the scripted agent emits whole events only.
 * @throws 404 unknown session (as a JSON error, before the stream opens).
 */
export function streamEvents(ws: Workspace, runtime: SessionRuntime, id: string): RawResponse {
  getSession(ws, id);
  return sessionEventStream(runtime, id, runtime.heartbeatMs);
}
