import type {
  BetaManagedAgentsAgentCustomToolUseEvent,
  BetaManagedAgentsAgentMCPToolResultEvent,
  BetaManagedAgentsAgentMCPToolUseEvent,
  BetaManagedAgentsAgentMessageEvent,
  BetaManagedAgentsAgentToolEvaluation,
  BetaManagedAgentsSessionErrorEvent,
  BetaManagedAgentsSessionStatusIdleEvent,
  BetaManagedAgentsSessionStatusRunningEvent,
  BetaManagedAgentsSessionStatusTerminatedEvent,
} from "@anthropic-ai/sdk/resources/beta/sessions/events.js";
import type { BetaManagedAgentsSessionAgent } from "@anthropic-ai/sdk/resources/beta/sessions/sessions.js";
import { newId } from "./ids.js";

/**
 * The emulator's scripted agent: a deterministic stand-in for the model, so sessions can be driven end to end
 * (approval gates included) without credits. Pure planning: given the session's agent snapshot and what the user
 * sent, it returns the events the agent will emit, in order; `session-runtime.ts` stamps and emits them one at a
 * time after the request that caused them has returned. The behaviour is documented for users in docs/emulator.md.
 *
 * - `user.message` whose text names no tool → `session.status_running`, `agent.message` ("You said: <text>"),
 *   `session.status_idle` (`end_turn`).
 * - Text naming tools (whole-word match on the names in the agent's `mcp_toolset` `configs` and its `custom` tools,
 *   or `<mcp_server_name>.<tool>` for any tool of a toolset; disabled tools are ignored) → one `agent.mcp_tool_use` / `agent.custom_tool_use` per tool, in order of first
 *   mention. `always_allow` and `auto` (judged allow) MCP calls run at once (`agent.mcp_tool_result`). `always_ask`
 *   MCP calls and custom tools block the turn: `session.status_idle` with `requires_action` and their event ids.
 *   Each `user.tool_confirmation` / `user.custom_tool_result` resolves one; while some remain, the idle event is
 *   re-emitted with the rest (SDK `BetaManagedAgentsSessionRequiresAction`). When none remain: running, the results
 *   of the confirmed calls (a denied call gets an `is_error` result), one `agent.message` reporting every call of the
 *   turn, idle `end_turn`.
 * - Text containing `emulator:terminate` → running, `session.error` (`retry_status: terminal`),
 *   `session.status_terminated`.
 */

/** The events the scripted agent emits (a subset of the SDK's `BetaManagedAgentsSessionEvent`). */
export type AgentEvent =
  | BetaManagedAgentsSessionStatusRunningEvent
  | BetaManagedAgentsSessionStatusIdleEvent
  | BetaManagedAgentsSessionStatusTerminatedEvent
  | BetaManagedAgentsSessionErrorEvent
  | BetaManagedAgentsAgentMessageEvent
  | BetaManagedAgentsAgentMCPToolUseEvent
  | BetaManagedAgentsAgentMCPToolResultEvent
  | BetaManagedAgentsAgentCustomToolUseEvent;

type Omit2<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An event the agent will emit: complete except `processed_at`, which is stamped when it is emitted. */
export type PlannedEvent = Omit2<AgentEvent, "processed_at">;

/** One tool call of the current turn and what became of it. */
export interface TurnCall {
  /** The id of the `agent.mcp_tool_use` / `agent.custom_tool_use` event. */
  event_id: string;
  kind: "mcp" | "custom";
  name: string;
  /** `mcp_server_name` of an MCP call; null for custom tools. */
  server: string | null;
  /**
   * `pending` until resolved; `ran` (MCP call allowed by policy or by the user), `denied` (with the user's
   * `deny_message`), `answered` (custom tool result text).
   */
  outcome: "pending" | "ran" | "denied" | "answered";
  /** The ran call's result text, the deny message, or the custom tool result text. */
  detail: string | null;
  /** True when a user event resolved the call (its result is emitted after the last confirmation). */
  byUser: boolean;
}

/** What the scripted agent remembers between requests; persisted with the session. */
export interface ScriptState {
  /** Events planned but not yet emitted, in order: the rest of the current step. */
  queue: PlannedEvent[];
  /** The calls of the turn in progress (empty between turns). */
  turn: TurnCall[];
  /** Texts of `user.message` events that arrived while a turn was running, oldest first. */
  inbox: string[];
}

/** The token in a user message that makes the scripted agent terminate the session. */
export const TERMINATE_TOKEN = "emulator:terminate";

/** A fresh script state. */
export function newScriptState(): ScriptState {
  return { queue: [], turn: [], inbox: [] };
}

/** True while the agent has work queued or a call waiting, i.e. a new message would have to wait. */
export function busy(state: ScriptState): boolean {
  return state.queue.length > 0 || state.turn.length > 0;
}

/** The event ids the agent is blocked on (SDK `requires_action.event_ids`), in call order. */
export function waitingIds(state: ScriptState): string[] {
  return state.turn.filter((c) => c.outcome === "pending").map((c) => c.event_id);
}

interface CallableTool {
  name: string;
  kind: "mcp" | "custom";
  server: string | null;
  evaluation: BetaManagedAgentsAgentToolEvaluation | null;
}

const WORD = "A-Za-z0-9_-";

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function evaluationOf(policy: "always_allow" | "always_ask" | "auto"): BetaManagedAgentsAgentToolEvaluation {
  return policy === "auto" ? { type: "auto", evaluated_permission: { type: "allow" } } : { type: policy };
}

/**
 * The enabled tools `text` names, in order of first mention: custom tools and MCP `configs` entries by their bare
 * name, and any tool of an MCP toolset as `<mcp_server_name>.<tool>` (policy: its `configs` entry, else the
 * toolset's `default_config`). A name counts as a whole word only (not inside a longer word).
 */
function namedTools(agent: BetaManagedAgentsSessionAgent, text: string): CallableTool[] {
  const found = new Map<string, { tool: CallableTool; at: number }>();
  const add = (tool: CallableTool, at: number) => {
    const key = `${tool.server ?? ""}\u0000${tool.name}`;
    const seen = found.get(key);
    if (!seen || at < seen.at) found.set(key, { tool, at });
  };
  for (const tool of agent.tools) {
    if (tool.type === "custom") {
      const at = mention(text, tool.name);
      if (at >= 0) add({ name: tool.name, kind: "custom", server: null, evaluation: null }, at);
    } else if (tool.type === "mcp_toolset") {
      const server = tool.mcp_server_name;
      const byName = new Map(tool.configs.map((c) => [c.name, c]));
      for (const config of tool.configs) {
        const at = mention(text, config.name);
        if (at >= 0 && config.enabled) {
          add({ name: config.name, kind: "mcp", server, evaluation: evaluationOf(config.permission_policy.type) }, at);
        }
      }
      const qualified = new RegExp(`(?<![${WORD}])${escapeRegExp(server)}\\.([${WORD}]+)`, "g");
      for (const m of text.matchAll(qualified)) {
        const name = m[1] ?? "";
        const config = byName.get(name) ?? tool.default_config;
        if (config.enabled) {
          add({ name, kind: "mcp", server, evaluation: evaluationOf(config.permission_policy.type) }, m.index ?? 0);
        }
      }
    }
  }
  return [...found.values()].sort((a, b) => a.at - b.at).map((f) => f.tool);
}

/** Index of the first whole-word occurrence of `name` in `text` (word = letters, digits, `_`, `-`), or -1. */
function mention(text: string, name: string): number {
  const m = new RegExp(`(?<![${WORD}])${escapeRegExp(name)}(?![${WORD}])`).exec(text);
  return m ? m.index : -1;
}

const running = (): PlannedEvent => ({ id: newId("sevt"), type: "session.status_running" });
const endTurn = (): PlannedEvent => ({
  id: newId("sevt"),
  type: "session.status_idle",
  stop_reason: { type: "end_turn" },
  stop_details: null,
});
const requiresAction = (ids: string[]): PlannedEvent => ({
  id: newId("sevt"),
  type: "session.status_idle",
  stop_reason: { type: "requires_action", event_ids: ids },
  stop_details: null,
});
const message = (text: string): PlannedEvent => ({
  id: newId("sevt"),
  type: "agent.message",
  content: [{ type: "text", text }],
});

/** The result text of an MCP call that ran. */
function ranText(name: string, server: string): string {
  return `${name} on ${server}: ok (emulated result)`;
}

function resultEvent(call: TurnCall): PlannedEvent {
  const denied = call.outcome === "denied";
  const text = denied
    ? `The user denied this call${call.detail ? `: ${call.detail}` : ""}`
    : (call.detail ?? ranText(call.name, call.server ?? ""));
  return {
    id: newId("sevt"),
    type: "agent.mcp_tool_result",
    mcp_tool_use_id: call.event_id,
    content: [{ type: "text", text }],
    is_error: denied,
  };
}

/** The closing `agent.message` of a turn with tool calls: one line per call. */
function report(calls: readonly TurnCall[]): string {
  return calls
    .map((c) => {
      if (c.outcome === "denied")
        return `I did not run ${c.name}: the user denied it${c.detail ? ` (${c.detail})` : ""}.`;
      if (c.outcome === "answered") return `${c.name} returned: ${c.detail ?? ""}`;
      return `I ran ${c.name}: ${c.detail ?? ""}`;
    })
    .join("\n");
}

/** The end of a turn whose calls are all resolved: results of user-resolved MCP calls, the report, idle. */
function finish(state: ScriptState, resolvedByUser: readonly TurnCall[]): PlannedEvent[] {
  const events = resolvedByUser.filter((c) => c.kind === "mcp").map(resultEvent);
  events.push(message(report(state.turn)), endTurn());
  state.turn = [];
  return events;
}

/**
 * Plans the agent's turn for a `user.message` with text `text` (text blocks joined by newlines), updating
 * `state.turn`. Returns the events to emit, starting with `session.status_running`.
 */
export function planTurn(state: ScriptState, agent: BetaManagedAgentsSessionAgent, text: string): PlannedEvent[] {
  if (text.includes(TERMINATE_TOKEN)) {
    return [
      running(),
      {
        id: newId("sevt"),
        type: "session.error",
        error: {
          type: "unknown_error",
          message: `The session was terminated on request (the message contained '${TERMINATE_TOKEN}')`,
          retry_status: { type: "terminal" },
        },
      },
      { id: newId("sevt"), type: "session.status_terminated" },
    ];
  }
  const tools = namedTools(agent, text);
  if (tools.length === 0) return [running(), message(`You said: ${text}`), endTurn()];

  const events: PlannedEvent[] = [running()];
  state.turn = [];
  for (const tool of tools) {
    const id = newId("sevt");
    if (tool.kind === "custom") {
      events.push({ id, type: "agent.custom_tool_use", name: tool.name, input: {} });
      state.turn.push({
        event_id: id,
        kind: "custom",
        name: tool.name,
        server: null,
        outcome: "pending",
        detail: null,
        byUser: false,
      });
      continue;
    }
    const evaluation = tool.evaluation ?? { type: "always_ask" };
    const ask = evaluation.type === "always_ask";
    events.push({
      id,
      type: "agent.mcp_tool_use",
      name: tool.name,
      mcp_server_name: tool.server ?? "",
      input: {},
      evaluated_permission: ask ? "ask" : "allow",
      evaluation,
    });
    state.turn.push({
      event_id: id,
      kind: "mcp",
      name: tool.name,
      server: tool.server,
      outcome: ask ? "pending" : "ran",
      detail: ask ? null : ranText(tool.name, tool.server ?? ""),
      byUser: false,
    });
  }
  for (const call of state.turn) if (call.outcome === "ran") events.push(resultEvent(call));
  const waiting = waitingIds(state);
  if (waiting.length > 0) return [...events, requiresAction(waiting)];
  return [...events, ...finish(state, [])];
}

/** What the user sent to resolve a waiting call. */
export type Resolution =
  | { kind: "confirmation"; result: "allow" | "deny"; deny_message: string | null }
  | { kind: "custom_result"; text: string };

/**
 * Resolves the waiting call `eventId` (the caller has checked that it is waiting and of the right kind). Returns the
 * events to emit: the idle event re-emitted with the remaining ids, or, once none remain, the end of the turn.
 */
export function resolveCall(state: ScriptState, eventId: string, resolution: Resolution): PlannedEvent[] {
  const call = state.turn.find((c) => c.event_id === eventId);
  if (!call) return [];
  if (resolution.kind === "custom_result") {
    call.outcome = "answered";
    call.detail = resolution.text;
  } else if (resolution.result === "allow") {
    call.outcome = "ran";
    call.detail = ranText(call.name, call.server ?? "");
  } else {
    call.outcome = "denied";
    call.detail = resolution.deny_message;
  }
  call.byUser = true;
  const waiting = waitingIds(state);
  if (waiting.length > 0) return [requiresAction(waiting)];
  const resolved = state.turn.filter((c) => c.byUser);
  return [running(), ...finish(state, resolved)];
}

/**
 * Stops the agent (`user.interrupt`): drops the planned events, the turn in progress and queued messages. Returns
 * `[session.status_idle end_turn]` when the agent was busy, else nothing.
 */
export function interrupt(state: ScriptState): PlannedEvent[] {
  const wasBusy = busy(state) || state.inbox.length > 0;
  state.queue.length = 0;
  state.turn.length = 0;
  state.inbox.length = 0;
  return wasBusy ? [endTurn()] : [];
}
