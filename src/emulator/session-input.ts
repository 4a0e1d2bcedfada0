import type {
  BetaManagedAgentsUserCustomToolResultEvent,
  BetaManagedAgentsUserInterruptEvent,
  BetaManagedAgentsUserMessageEvent,
  BetaManagedAgentsUserToolConfirmationEvent,
} from "@anthropic-ai/sdk/resources/beta/sessions/events.js";
import type { BetaManagedAgentsSystemMessageEvent } from "@anthropic-ai/sdk/resources/beta/sessions/sessions.js";
import { badRequest } from "./errors.js";
import { newId } from "./ids.js";
import { type SessionRuntime, textOf } from "./session-runtime.js";
import { busy, interrupt, planTurn, resolveCall } from "./session-script.js";
import type { SessionRecord, Workspace } from "./store.js";
import { arr, at, clone, fieldError, obj, oneOf, onlyKeys, required, str, tag } from "./validate.js";

/**
 * The events a client sends to a session (SDK `BetaManagedAgentsEventParams`): validation of their shape, of the
 * session state they need (all events of one request are checked before any is recorded: a request is applied
 * whole or not at all), recording, and handing them to the scripted agent (`session-script.ts`).
 *
 * Supported: `user.message`, `user.interrupt`, `user.tool_confirmation`, `user.custom_tool_result`,
 * `system.message` (recorded; the scripted agent ignores it). Refused with a 400 that says so: `user.define_outcome`
 * (outcomes are not emulated) and `user.tool_result` (only for `self_hosted` agent toolsets, not emulated).
 */

/** A user event as recorded in the history. */
export type UserEvent =
  | BetaManagedAgentsUserMessageEvent
  | BetaManagedAgentsUserInterruptEvent
  | BetaManagedAgentsUserToolConfirmationEvent
  | BetaManagedAgentsUserCustomToolResultEvent
  | BetaManagedAgentsSystemMessageEvent;

type Omit2<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A validated event of a request, before it gets its `id` and `processed_at`. */
export type UserEventParams = Omit2<UserEvent, "id" | "processed_at">;

const MAX_EVENTS_PER_REQUEST = 100;
const BLOCK_TYPES = ["text", "image", "document", "redacted", "search_result"] as const;

type Block = UserEventParams extends infer E ? (E extends { content?: (infer B)[] } ? B : never) : never;

/** One content block: `text` is checked strictly, the others for their tag and required parts. */
function parseBlock(v: unknown, path: string, allowed: readonly (typeof BLOCK_TYPES)[number][]): Block {
  const o = obj(v, path);
  const type = tag(o, path, allowed);
  if (type === "text") {
    onlyKeys(o, ["type", "text"], path);
    return { type, text: str(required(o, "text", path), at(path, "text")) } as Block;
  }
  if (type === "image" || type === "document") obj(required(o, "source", path), at(path, "source"));
  return clone(o) as unknown as Block;
}

function parseContent(
  v: unknown,
  path: string,
  allowed: readonly (typeof BLOCK_TYPES)[number][],
  min: number,
): Block[] {
  const list = arr(v, path);
  if (list.length < min) throw fieldError(path, `List should have at least ${min} item`);
  return list.map((b, i) => parseBlock(b, at(path, i), allowed));
}

function optionalThread(o: Record<string, unknown>, path: string): void {
  if (o.session_thread_id !== undefined && o.session_thread_id !== null) {
    throw fieldError(at(path, "session_thread_id"), "this session has no threads (multiagent is not emulated)");
  }
}

/**
 * Validates the shape of each event of `list` (the `events` of `POST /v1/sessions/:id/events` or a create's
 * `initial_events`). @throws 400 naming the field (`events.0.content.1.text: …`).
 */
export function parseUserEvents(list: unknown[], path: string): UserEventParams[] {
  return list.map((v, i): UserEventParams => {
    const p = at(path, i);
    const o = obj(v, p);
    const type = tag(o, p, [
      "user.message",
      "user.interrupt",
      "user.tool_confirmation",
      "user.custom_tool_result",
      "user.define_outcome",
      "user.tool_result",
      "system.message",
    ] as const);
    switch (type) {
      case "user.message":
        onlyKeys(o, ["type", "content"], p);
        return {
          type,
          content: parseContent(required(o, "content", p), at(p, "content"), BLOCK_TYPES, 1),
        } as UserEventParams;
      case "user.interrupt":
        onlyKeys(o, ["type", "session_thread_id"], p);
        optionalThread(o, p);
        return { type };
      case "user.tool_confirmation": {
        onlyKeys(o, ["type", "tool_use_id", "result", "deny_message", "session_thread_id"], p);
        optionalThread(o, p);
        const tool_use_id = str(required(o, "tool_use_id", p), at(p, "tool_use_id"), { min: 1 });
        const result = oneOf(required(o, "result", p), at(p, "result"), ["allow", "deny"] as const);
        const out: UserEventParams = { type, tool_use_id, result };
        if (o.deny_message !== undefined && o.deny_message !== null) {
          if (result !== "deny") throw fieldError(at(p, "deny_message"), "only allowed when result is 'deny'");
          out.deny_message = str(o.deny_message, at(p, "deny_message"), { max: 10000 });
        }
        return out;
      }
      case "user.custom_tool_result": {
        onlyKeys(o, ["type", "custom_tool_use_id", "content", "is_error", "session_thread_id"], p);
        optionalThread(o, p);
        const custom_tool_use_id = str(required(o, "custom_tool_use_id", p), at(p, "custom_tool_use_id"), { min: 1 });
        const content =
          o.content === undefined || o.content === null
            ? []
            : parseContent(o.content, at(p, "content"), ["text", "image", "document", "search_result"], 0);
        const is_error = o.is_error === undefined || o.is_error === null ? false : o.is_error;
        if (typeof is_error !== "boolean") throw fieldError(at(p, "is_error"), "Input should be a valid boolean");
        return { type, custom_tool_use_id, content, is_error } as UserEventParams;
      }
      case "system.message":
        onlyKeys(o, ["type", "content"], p);
        return {
          type,
          content: parseContent(required(o, "content", p), at(p, "content"), ["text"], 1),
        } as UserEventParams;
      case "user.define_outcome":
        throw fieldError(at(p, "type"), "'user.define_outcome' (outcomes) is not supported by the emulator");
      default:
        throw fieldError(
          at(p, "type"),
          "'user.tool_result' is only valid for self_hosted agent toolsets, which the emulator does not run",
        );
    }
  });
}

/**
 * Checks that the session can take `events` in order, without changing anything.
 * @throws 400 archived or terminated session; a message while tool calls wait; a confirmation or custom tool
 * result for an event id that is not waiting for one.
 */
function checkState(rec: SessionRecord, events: readonly UserEventParams[], path: string): void {
  const s = rec.session;
  if (s.archived_at !== null) throw badRequest(`session '${s.id}' is archived; archived sessions accept no events`);
  if (s.status === "terminated") {
    throw badRequest(`session '${s.id}' is terminated; start a new session to continue`);
  }
  const pending = new Map(rec.script.turn.filter((c) => c.outcome === "pending").map((c) => [c.event_id, c.kind]));
  events.forEach((e, i) => {
    const p = at(path, i);
    if (e.type === "user.message" && pending.size > 0) {
      throw fieldError(
        p,
        `the session is waiting for tool calls to be resolved (requires_action event_ids: ${[...pending.keys()].join(", ")}); answer them with user.tool_confirmation / user.custom_tool_result, or send user.interrupt`,
      );
    }
    if (e.type === "user.interrupt") pending.clear();
    if (e.type === "user.tool_confirmation" && pending.get(e.tool_use_id) !== "mcp") {
      throw fieldError(
        at(p, "tool_use_id"),
        `event '${e.tool_use_id}' is not a tool use waiting for a confirmation in this session`,
      );
    }
    if (e.type === "user.custom_tool_result" && pending.get(e.custom_tool_use_id) !== "custom") {
      throw fieldError(
        at(p, "custom_tool_use_id"),
        `event '${e.custom_tool_use_id}' is not a custom tool use waiting for a result in this session`,
      );
    }
    if (e.type === "user.tool_confirmation") pending.delete(e.tool_use_id);
    if (e.type === "user.custom_tool_result") pending.delete(e.custom_tool_use_id);
  });
}

/**
 * Records `events` in the session's history (each with a new `sevt_` id and `processed_at`), hands them to the
 * scripted agent and schedules its answer. Returns the recorded events (the `data` of SDK
 * `BetaManagedAgentsSendSessionEvents`).
 * @throws 400 (see `checkState`) before recording anything.
 */
export function submitUserEvents(
  ws: Workspace,
  runtime: SessionRuntime,
  rec: SessionRecord,
  events: readonly UserEventParams[],
  now: () => string,
  path = "events",
): UserEvent[] {
  if (events.length > MAX_EVENTS_PER_REQUEST) {
    throw fieldError(path, `List should have at most ${MAX_EVENTS_PER_REQUEST} items`);
  }
  checkState(rec, events, path);
  const script = rec.script;
  const recorded: UserEvent[] = [];
  for (const params of events) {
    const event = { id: newId("sevt"), ...params, processed_at: now() } as UserEvent;
    runtime.append(rec, event);
    recorded.push(event);
    if (event.type === "user.message") {
      if (busy(script)) script.inbox.push(textOf(event.content));
      else script.queue.push(...planTurn(script, rec.session.agent, textOf(event.content)));
    } else if (event.type === "user.interrupt") {
      script.queue.push(...interrupt(script));
    } else if (event.type === "user.tool_confirmation") {
      script.queue.push(
        ...resolveCall(script, event.tool_use_id, {
          kind: "confirmation",
          result: event.result,
          deny_message: event.deny_message ?? null,
        }),
      );
    } else if (event.type === "user.custom_tool_result") {
      script.queue.push(
        ...resolveCall(script, event.custom_tool_use_id, { kind: "custom_result", text: textOf(event.content ?? []) }),
      );
    }
  }
  runtime.schedule(ws, rec);
  return recorded;
}
