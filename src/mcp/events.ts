/**
 * Session events as the MCP tools show them: a compact summary per event (long texts, tool inputs and tool results
 * trimmed), and the opaque cursor that resumes after an event. Event shapes are the SDK's
 * `BetaManagedAgentsSessionEvent` union (resources/beta/sessions/events.d.ts), which is open: unknown types are
 * summarised by id and type only.
 */
import type Anthropic from "@anthropic-ai/sdk";
import type { BetaManagedAgentsSessionEvent } from "@anthropic-ai/sdk/resources/beta/sessions/events.js";
import { ToolError } from "./tool.js";

/** A session event (history or stream). */
export type SessionEvent = BetaManagedAgentsSessionEvent | { id: string; type: string; processed_at?: string };

/** Longest text a summary keeps (characters); longer texts end with `… (N more characters)`. */
export const MAX_TEXT = 2000;
/** Longest tool input or tool result a summary keeps (characters of its JSON or text). */
export const MAX_TOOL_IO = 500;

/** The compact form of one event. */
export interface EventSummary {
  id: string;
  type: string;
  processed_at: string | null;
  /** Message text (user.message, agent.message) or error message (session.error). */
  text?: string;
  /** Tool name of a tool use. */
  tool?: string;
  /** MCP server of an MCP tool use. */
  server?: string;
  /** A tool use's input as JSON, trimmed. */
  input?: string;
  /** A tool result's content as text, trimmed. */
  result?: string;
  is_error?: boolean;
  /** The tool use a result or confirmation answers. */
  tool_use_id?: string;
  /** `allow` / `ask` / `deny` on tool uses; `allow` / `deny` on confirmations. */
  permission?: string;
  /** session.status_idle's stop reason type. */
  stop_reason?: string;
  /** The tool use ids a `requires_action` idle waits on. */
  waiting_on?: string[];
}

/** `text` cut to `max` characters with a note saying how much was left out. */
export function trim(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

type Obj = Record<string, unknown>;

/** The text blocks of a `content` array, joined by newlines (other blocks become `[type]`). */
export function contentText(content: unknown): string {
  if (!Array.isArray(content)) return "";
  return content
    .map((block: Obj) =>
      block.type === "text" && typeof block.text === "string" ? block.text : `[${String(block.type)}]`,
    )
    .join("\n");
}

/** The tool use types: they carry `name` and `input`, and can wait for a confirmation. */
export const TOOL_USE_TYPES = ["agent.tool_use", "agent.mcp_tool_use", "agent.custom_tool_use"] as const;

/** The compact summary of `event`. */
export function summarize(event: SessionEvent): EventSummary {
  const e = event as Obj;
  const out: EventSummary = {
    id: String(e.id),
    type: String(e.type),
    processed_at: typeof e.processed_at === "string" ? e.processed_at : null,
  };
  switch (out.type) {
    case "user.message":
    case "agent.message":
      out.text = trim(contentText(e.content), MAX_TEXT);
      break;
    case "agent.tool_use":
    case "agent.mcp_tool_use":
    case "agent.custom_tool_use":
      out.tool = String(e.name);
      if (typeof e.mcp_server_name === "string") out.server = e.mcp_server_name;
      out.input = trim(JSON.stringify(e.input ?? {}), MAX_TOOL_IO);
      if (typeof e.evaluated_permission === "string") out.permission = e.evaluated_permission;
      break;
    case "agent.tool_result":
    case "agent.mcp_tool_result":
      out.tool_use_id = String(e.tool_use_id ?? e.mcp_tool_use_id ?? "");
      out.result = trim(contentText(e.content), MAX_TOOL_IO);
      out.is_error = e.is_error === true;
      break;
    case "user.tool_confirmation":
      out.tool_use_id = String(e.tool_use_id);
      out.permission = String(e.result);
      break;
    case "session.status_idle": {
      const reason = (e.stop_reason ?? {}) as Obj;
      out.stop_reason = String(reason.type ?? "unknown");
      if (Array.isArray(reason.event_ids)) out.waiting_on = reason.event_ids.map(String);
      break;
    }
    case "session.error":
      out.text = trim(String((e.error as Obj | undefined)?.message ?? ""), MAX_TEXT);
      break;
  }
  return out;
}

/** Where a reader stopped: after the event `id` processed at `t`; `user` when that event was sent by the user. */
export interface Cursor {
  t: string;
  id: string;
  user: boolean;
}

/** The opaque cursor string after `event`. */
export function cursorAfter(event: SessionEvent): string {
  const e = event as Obj;
  const cursor: Cursor = {
    t: String(e.processed_at ?? ""),
    id: String(e.id),
    user: String(e.type).startsWith("user."),
  };
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

/**
 * Reads a cursor string.
 * @throws ToolError when it is not one this server made
 */
export function parseCursor(text: string): Cursor {
  try {
    const value = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as Partial<Cursor>;
    if (typeof value.t === "string" && typeof value.id === "string" && typeof value.user === "boolean") {
      return { t: value.t, id: value.id, user: value.user };
    }
  } catch {
    // fall through
  }
  throw new ToolError("the cursor is not one this server returned; pass a cursor from an earlier result, or none");
}

/**
 * The session's events after `cursor` (all of them without one), oldest first, up to `limit`; filtered by `types`.
 * Reads `created_at[gte]` the cursor's time and skips up to the cursor's event, so events with equal timestamps are
 * neither lost nor repeated.
 */
export async function eventsAfter(
  client: Anthropic,
  sessionId: string,
  cursor: Cursor | null,
  options: { limit?: number; types?: string[]; signal?: AbortSignal } = {},
): Promise<SessionEvent[]> {
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const out: SessionEvent[] = [];
  let passed = cursor === null || cursor.t === "";
  const params: Record<string, unknown> = { order: "asc", limit: 100 };
  if (cursor && cursor.t !== "") params["created_at[gte]"] = cursor.t;
  for await (const event of client.beta.sessions.events.list(sessionId, params as never, { signal: options.signal })) {
    const e = event as SessionEvent;
    if (!passed) {
      if (e.id === cursor?.id) passed = true;
      else if (e.processed_at && cursor && e.processed_at > cursor.t) passed = true;
      else continue;
      if (e.id === cursor?.id) continue;
    }
    if (options.types && !options.types.includes(e.type)) continue;
    out.push(e);
    if (out.length >= limit) break;
  }
  return out;
}
