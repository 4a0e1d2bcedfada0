/**
 * Session tools: start (`session_start`), observe (`session_get`, `session_list`, `session_events`,
 * `wait_for_idle`), interact (`session_message`, `session_interrupt`, `session_respond`) and, only with
 * `--allow-destructive`, `session_archive`. Calls go through the SDK's `client.beta.sessions.*`.
 *
 * The allowlist: every tool that takes a session id reads the session and checks that its agent is one the stack
 * offers. A session of another agent gets exactly the answer an unknown id gets, so the server does not reveal
 * what else lives in the workspace.
 */
import Anthropic from "@anthropic-ai/sdk";
import type { BetaManagedAgentsSession } from "@anthropic-ai/sdk/resources/beta/sessions/sessions.js";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import pLimit from "p-limit";
import { z } from "zod";
import { type ApprovalMode, confirmAllow } from "../approval.js";
import type { AuditSink } from "../audit.js";
import {
  cursorAfter,
  eventsAfter,
  MAX_TOOL_IO,
  parseCursor,
  type SessionEvent,
  summarize,
  TOOL_USE_TYPES,
  trim,
} from "../events.js";
import type { StackContext } from "../stack.js";
import { registerTool, ToolError, type ToolExtra } from "../tool.js";
import { waitForIdle } from "../wait.js";
import { requireAgent } from "./discover.js";
import { memoryStoreResources } from "./memory-stores.js";

/** Options that change which session tools exist and how approvals work. */
export interface SessionToolOptions {
  approvals: ApprovalMode;
  /** Register `session_archive`. */
  allowDestructive: boolean;
  /** Longest `wait_for_idle` timeout a client may ask for, in seconds. Default 300. */
  maxWaitSeconds?: number;
}

/** Parallel list calls of `session_list`. */
const LIST_CONCURRENCY = 8;

const ID = /^[a-z]{2,8}_[A-Za-z0-9]{1,64}$/;
const sessionId = z.string().regex(ID, "a session id like sesn_011C...").describe("The session id (sesn_...)");
const cursorArg = z.string().max(1000).optional().describe("A cursor from an earlier result: only events after it");

/** `EventSummary` (events.ts) as an output schema. */
const eventShape = z.object({
  id: z.string(),
  type: z.string(),
  processed_at: z.string().nullable(),
  text: z.string().optional(),
  tool: z.string().optional(),
  server: z.string().optional(),
  input: z.string().optional(),
  result: z.string().optional(),
  is_error: z.boolean().optional(),
  tool_use_id: z.string().optional(),
  permission: z.string().optional(),
  stop_reason: z.string().optional(),
  waiting_on: z.array(z.string()).optional(),
});
const approvalShape = z.object({
  tool_use_id: z.string(),
  tool: z.string(),
  server: z.string().nullable(),
  input: z.string(),
});
const sessionShape = {
  session_id: z.string(),
  agent: z.string().describe("The agent's spec name"),
  agent_version: z.number().int(),
  status: z.string(),
  title: z.string().nullable(),
  created_at: z.string(),
};

/** The answer for a session that does not exist and for one whose agent the stack does not offer: the same. */
function noSuchSession(id: string): ToolError {
  return new ToolError(`no session ${id} among this stack's sessions; session_list shows them`, "refused");
}

/**
 * Reads session `id` and checks the allowlist.
 * @throws ToolError (the same text for unknown and refused ids)
 */
export async function requireSession(ctx: StackContext, id: string): Promise<BetaManagedAgentsSession> {
  let session: BetaManagedAgentsSession;
  try {
    session = await ctx.client.beta.sessions.retrieve(id);
  } catch (error) {
    if (error instanceof Anthropic.NotFoundError || error instanceof Anthropic.BadRequestError) throw noSuchSession(id);
    throw error;
  }
  if (!(await ctx.index.offersAgentId(session.agent.id))) throw noSuchSession(id);
  return session;
}

async function agentName(ctx: StackContext, agentId: string): Promise<string> {
  return (await ctx.index.agent(agentId))?.name ?? agentId;
}

async function sessionView(ctx: StackContext, s: BetaManagedAgentsSession) {
  return {
    session_id: s.id,
    agent: await agentName(ctx, s.agent.id),
    agent_version: s.agent.version,
    status: s.status,
    title: s.title,
    created_at: s.created_at,
  };
}

/** Sends `events` and returns the cursor after the last one the API recorded. */
async function send(ctx: StackContext, id: string, events: unknown[]): Promise<string | null> {
  const sent = await ctx.client.beta.sessions.events.send(id, { events } as never);
  const last = sent.data?.at(-1);
  return last ? cursorAfter(last as SessionEvent) : null;
}

const textMessage = (text: string) => ({ type: "user.message", content: [{ type: "text", text }] });

/** How often `wait_for_idle` sends a progress notification while no event arrives, in milliseconds. */
export const HEARTBEAT_MS = 10_000;

/** Sends an MCP progress notification when the client asked for progress (a `progressToken`). */
function progress(extra: ToolExtra, value: number, message: string): void {
  const token = extra._meta?.progressToken;
  if (token === undefined) return;
  void extra
    .sendNotification({ method: "notifications/progress", params: { progressToken: token, progress: value, message } })
    .catch(() => {});
}

/** Registers the session tools. */
export function registerSessionTools(
  server: McpServer,
  ctx: StackContext,
  audit: AuditSink,
  log: (line: string) => void,
  options: SessionToolOptions,
): void {
  const maxWait = options.maxWaitSeconds ?? 300;

  registerTool(server, audit, log, {
    name: "session_start",
    title: "Start a session",
    description:
      "Start a session of one of the stack's agents (by spec name), in an environment (by spec name; optional when the stack has exactly one), with optional vaults, memory stores (mounted under /mnt/memory/, read_write unless read_only), title and first message. Then call wait_for_idle.",
    input: {
      agent: z.string().min(1).max(200).describe("The agent's spec name (agent_list)"),
      version: z.number().int().min(1).optional().describe("Pin this agent version (default: the latest)"),
      environment: z.string().min(1).max(200).optional().describe("The environment's spec name (environment_list)"),
      vaults: z.array(z.string().min(1).max(200)).max(20).optional().describe("Vault spec names (vault_list)"),
      memory_stores: z
        .array(
          z.union([
            z.string().min(1).max(200),
            z.object({ name: z.string().min(1).max(200), access: z.enum(["read_write", "read_only"]).optional() }),
          ]),
        )
        .max(20)
        .optional()
        .describe("Memory store spec names (memory_store_list), or {name, access: read_write|read_only}"),
      title: z.string().max(500).optional(),
      message: z.string().max(100_000).optional().describe("The first user message"),
    },
    output: {
      ...sessionShape,
      environment: z.string(),
      vaults: z.array(z.string()),
      memory_stores: z.array(z.object({ name: z.string(), access: z.enum(["read_write", "read_only"]) })),
    },
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    async run(args, call) {
      const agent = await requireAgent(ctx, args.agent);
      call.target("agent_id", agent.id);
      const snap = await ctx.index.current();
      let environment = args.environment ? snap.environments.find((e) => e.name === args.environment) : undefined;
      if (!args.environment) {
        if (snap.environments.length !== 1) {
          throw new ToolError(
            `name the environment: this stack has ${snap.environments.length === 0 ? "none (run reconcile apply)" : snap.environments.map((e) => e.name).join(", ")}`,
          );
        }
        environment = snap.environments[0];
      }
      if (!environment) {
        throw new ToolError(
          `no environment "${args.environment}" in this stack; there are: ${snap.environments.map((e) => e.name).join(", ") || "none"}`,
        );
      }
      call.target("environment_id", environment.id);
      const vaults = (args.vaults ?? []).map((name) => {
        const vault = snap.vaults.find((v) => v.name === name);
        if (!vault) {
          throw new ToolError(
            `no vault "${name}" in this stack; there are: ${snap.vaults.map((v) => v.name).join(", ") || "none"}`,
          );
        }
        return vault;
      });
      const memoryStores = memoryStoreResources(snap, args.memory_stores ?? []);
      if (args.version !== undefined && args.version > agent.version) {
        throw new ToolError(`agent ${agent.name} has no version ${args.version} yet; the latest is ${agent.version}`);
      }
      const session = await ctx.client.beta.sessions.create({
        agent: args.version !== undefined ? { type: "agent", id: agent.id, version: args.version } : agent.id,
        environment_id: environment.id,
        vault_ids: vaults.map((v) => v.id),
        ...(memoryStores.length > 0 ? { resources: memoryStores.map((m) => m.resource) } : {}),
        ...(args.title !== undefined ? { title: args.title } : {}),
        metadata: { "reconcile/stack": snap.stack, "reconcile/agent": agent.name },
        ...(args.message !== undefined ? { initial_events: [textMessage(args.message) as never] } : {}),
      });
      call.target("session_id", session.id);
      return {
        structured: {
          ...(await sessionView(ctx, session)),
          environment: environment.name,
          vaults: vaults.map((v) => v.name),
          memory_stores: memoryStores.map((m) => ({ name: m.name, access: m.resource.access })),
        },
        summary: `Started session ${session.id} of ${agent.name} (version ${session.agent.version}) in ${environment.name}.${args.message !== undefined ? " Call wait_for_idle for the reply." : " Send a message with session_message."}`,
      };
    },
  });

  registerTool(server, audit, log, {
    name: "session_get",
    title: "Get a session",
    description:
      "A session's status, why it stopped (end_turn, requires_action with the waiting tool calls...), and usage.",
    input: { session_id: sessionId },
    output: {
      ...sessionShape,
      stop_reason: z.string().nullable(),
      waiting_on: z.array(z.string()),
      usage: z.record(z.string(), z.unknown()),
      stats: z.record(z.string(), z.unknown()),
      archived_at: z.string().nullable(),
    },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    async run(args, call) {
      call.target("session_id", args.session_id);
      const s = await requireSession(ctx, args.session_id);
      call.target("agent_id", s.agent.id);
      let stop: { stop_reason: string | null; waiting_on: string[] } = { stop_reason: null, waiting_on: [] };
      if (s.status === "idle") {
        const page = await ctx.client.beta.sessions.events.list(s.id, {
          order: "desc",
          types: ["session.status_idle"],
          limit: 1,
        } as never);
        const idle = page.data[0];
        if (idle) {
          const summary = summarize(idle as SessionEvent);
          stop = { stop_reason: summary.stop_reason ?? null, waiting_on: summary.waiting_on ?? [] };
        }
      }
      const view = await sessionView(ctx, s);
      return {
        structured: {
          ...view,
          ...stop,
          usage: s.usage as Record<string, unknown>,
          stats: s.stats as Record<string, unknown>,
          archived_at: s.archived_at,
        },
        summary: `Session ${s.id} of ${view.agent}: ${s.status}${stop.stop_reason ? ` (${stop.stop_reason})` : ""}.`,
      };
    },
  });

  registerTool(server, audit, log, {
    name: "session_list",
    title: "List sessions",
    description: "The sessions of the stack's agents, newest first; optionally of one agent (spec name).",
    input: {
      agent: z.string().min(1).max(200).optional().describe("Only this agent's sessions (spec name)"),
      include_archived: z.boolean().optional(),
      limit: z.number().int().min(1).max(100).optional().describe("At most this many (default 20)"),
    },
    output: { sessions: z.array(z.object(sessionShape)) },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    async run(args, call) {
      const limit = args.limit ?? 20;
      const agents = args.agent ? [await requireAgent(ctx, args.agent)] : (await ctx.index.current()).agents;
      if (args.agent) call.target("agent_id", agents[0]?.id);
      // One list call per offered agent (the API filters by agent id), a few at a time.
      const pool = pLimit(LIST_CONCURRENCY);
      const pages = await Promise.all(
        agents.map((agent) =>
          pool(() =>
            ctx.client.beta.sessions.list({
              agent_id: agent.id,
              limit,
              ...(args.include_archived ? { include_archived: true } : {}),
            }),
          ),
        ),
      );
      const found: BetaManagedAgentsSession[] = pages.flatMap((page) => page.data);
      found.sort((a, b) => b.created_at.localeCompare(a.created_at));
      const sessions = await Promise.all(found.slice(0, limit).map((s) => sessionView(ctx, s)));
      return {
        structured: { sessions },
        summary:
          sessions.length === 0
            ? "No sessions."
            : sessions.map((s) => `${s.session_id} ${s.agent} ${s.status}${s.title ? ` "${s.title}"` : ""}`).join("\n"),
      };
    },
  });

  registerTool(server, audit, log, {
    name: "session_events",
    title: "Read session events",
    description: `A session's events after a cursor, oldest first, summarised (texts over 2000 and tool inputs/results over ${MAX_TOOL_IO} characters are trimmed). Returns the cursor to continue from.`,
    input: {
      session_id: sessionId,
      cursor: cursorArg,
      types: z.array(z.string().max(100)).max(50).optional().describe("Only these event types (e.g. agent.message)"),
      limit: z.number().int().min(1).max(200).optional().describe("At most this many (default 50)"),
    },
    output: { events: z.array(eventShape), cursor: z.string().nullable(), has_more: z.boolean() },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    async run(args, call) {
      call.target("session_id", args.session_id);
      const cursor = args.cursor ? parseCursor(args.cursor) : null;
      const s = await requireSession(ctx, args.session_id);
      call.target("agent_id", s.agent.id);
      const limit = args.limit ?? 50;
      const events = await eventsAfter(ctx.client, s.id, cursor, {
        limit: limit + 1,
        ...(args.types ? { types: args.types } : {}),
      });
      const page = events.slice(0, limit);
      const last = page.at(-1);
      return {
        structured: {
          events: page.map(summarize),
          cursor: last ? cursorAfter(last) : (args.cursor ?? null),
          has_more: events.length > limit,
        },
        summary: `${page.length} event(s)${events.length > limit ? ", more after the cursor" : ""}.`,
      };
    },
  });

  registerTool(server, audit, log, {
    name: "wait_for_idle",
    title: "Wait for the agent",
    description:
      "Follow a session until the agent's turn ends, it waits for tool approvals, the session terminates, or the timeout passes. Returns the reply text, the tool activity, pending approvals (answer them with session_respond) and a cursor to resume. Without a cursor it waits for the turn after the last message sent.",
    input: {
      session_id: sessionId,
      cursor: cursorArg,
      timeout_seconds: z
        .number()
        .min(1)
        .max(maxWait)
        .optional()
        .describe(`Give up after this many seconds (default 50, at most ${maxWait}); call again with the cursor`),
    },
    output: {
      status: z.enum(["idle", "requires_action", "terminated", "timeout", "cancelled"]),
      stop_reason: z.string().nullable(),
      reply: z.string(),
      tool_activity: z.array(eventShape),
      pending_approvals: z.array(approvalShape),
      cursor: z.string().nullable(),
    },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    async run(args, call) {
      call.target("session_id", args.session_id);
      const cursor = args.cursor ? parseCursor(args.cursor) : null;
      const s = await requireSession(ctx, args.session_id);
      call.target("agent_id", s.agent.id);
      // Progress on every event, and a heartbeat while nothing happens, so a client that resets its request timeout
      // on progress does not give up during a long, quiet turn.
      let ticks = 0;
      const heartbeat = setInterval(() => progress(call.extra, ++ticks, "waiting"), HEARTBEAT_MS);
      const result = await waitForIdle(ctx.client, s.id, {
        cursor,
        cursorText: args.cursor ?? null,
        timeoutMs: (args.timeout_seconds ?? 50) * 1000,
        signal: call.extra.signal,
        onEvent: (summary) => progress(call.extra, ++ticks, summary.type),
      }).finally(() => clearInterval(heartbeat));
      const parts = [`Session ${s.id}: ${result.status}.`];
      if (result.reply) parts.push(`Agent: ${result.reply}`);
      for (const p of result.pending_approvals) {
        parts.push(`Waiting for approval: ${p.tool} (tool_use_id ${p.tool_use_id}) input ${p.input}`);
      }
      if (result.status === "timeout") parts.push("Call wait_for_idle again with the cursor to keep waiting.");
      return { structured: { ...result }, summary: parts.join("\n") };
    },
  });

  registerTool(server, audit, log, {
    name: "session_message",
    title: "Send a message",
    description: "Send a user message to a session. Returns a cursor: pass it to wait_for_idle for the reply.",
    input: { session_id: sessionId, text: z.string().min(1).max(100_000) },
    output: { session_id: z.string(), cursor: z.string().nullable() },
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    async run(args, call) {
      call.target("session_id", args.session_id);
      const s = await requireSession(ctx, args.session_id);
      call.target("agent_id", s.agent.id);
      const cursor = await send(ctx, s.id, [textMessage(args.text)]);
      return {
        structured: { session_id: s.id, cursor },
        summary: `Sent. Call wait_for_idle with the cursor for the reply.`,
      };
    },
  });

  registerTool(server, audit, log, {
    name: "session_interrupt",
    title: "Interrupt the agent",
    description: "Stop what the agent is doing; optionally give it a new instruction at once.",
    input: { session_id: sessionId, instruction: z.string().min(1).max(100_000).optional() },
    output: { session_id: z.string(), cursor: z.string().nullable() },
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    async run(args, call) {
      call.target("session_id", args.session_id);
      const s = await requireSession(ctx, args.session_id);
      call.target("agent_id", s.agent.id);
      const events: unknown[] = [{ type: "user.interrupt" }];
      if (args.instruction) events.push(textMessage(args.instruction));
      const cursor = await send(ctx, s.id, events);
      return {
        structured: { session_id: s.id, cursor },
        summary: `Interrupted${args.instruction ? " and sent the new instruction" : ""}. Call wait_for_idle with the cursor.`,
      };
    },
  });

  registerTool(server, audit, log, {
    name: "session_respond",
    title: "Allow or deny a tool call",
    description:
      "Answer a tool call the agent is waiting on (see wait_for_idle's pending_approvals). A deny is sent at once. An allow must be confirmed by the person using this client: the server asks them (MCP elicitation) with the tool, its input and the session; a client that cannot ask is refused.",
    input: {
      session_id: sessionId,
      tool_use_id: z.string().regex(ID, "a tool use event id").describe("pending_approvals[].tool_use_id"),
      decision: z.enum(["allow", "deny"]),
      reason: z.string().max(1000).optional().describe("Why (sent to the agent with a deny)"),
    },
    output: {
      session_id: z.string(),
      tool_use_id: z.string(),
      result: z.enum(["allow", "deny", "not_sent"]),
      confirmed_by: z.enum(["person", "caller", "none"]),
      cursor: z.string().nullable(),
    },
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    async run(args, call) {
      call.target("session_id", args.session_id);
      call.target("tool_use_id", args.tool_use_id);
      const s = await requireSession(ctx, args.session_id);
      call.target("agent_id", s.agent.id);
      const waiting = await waitingCall(ctx, s, args.tool_use_id);
      let result: "allow" | "deny" = args.decision;
      let reason = args.reason ?? null;
      let confirmedBy: "person" | "caller" = "caller";
      if (args.decision === "allow") {
        const decision = await confirmAllow(
          server,
          options.approvals,
          {
            session_id: s.id,
            agent: await agentName(ctx, s.agent.id),
            tool_use_id: args.tool_use_id,
            tool: waiting.tool,
            server: waiting.server,
            input: waiting.input,
          },
          call.extra.signal,
        );
        if (decision.decision === "none") {
          return {
            structured: {
              session_id: s.id,
              tool_use_id: args.tool_use_id,
              result: "not_sent" as const,
              confirmed_by: "none" as const,
              cursor: null,
            },
            summary: "The person did not decide; nothing was sent. The call is still waiting.",
            outcome: "refused" as const,
          };
        }
        if (options.approvals === "elicit") confirmedBy = "person";
        result = decision.decision;
        if (decision.decision === "deny") reason = decision.reason ?? "denied by the person asked to approve it";
      }
      const cursor = await send(ctx, s.id, [
        {
          type: "user.tool_confirmation",
          tool_use_id: args.tool_use_id,
          result,
          ...(result === "deny" && reason ? { deny_message: reason } : {}),
        },
      ]);
      return {
        structured: { session_id: s.id, tool_use_id: args.tool_use_id, result, confirmed_by: confirmedBy, cursor },
        summary: `${result === "allow" ? "Allowed" : "Denied"} ${waiting.tool}${confirmedBy === "person" ? " (confirmed by the person)" : ""}. Call wait_for_idle with the cursor.`,
        outcome: result === "allow" ? "ok" : "denied",
      };
    },
  });

  if (options.allowDestructive) {
    registerTool(server, audit, log, {
      name: "session_archive",
      title: "Archive a session",
      description:
        "Archive a session of the stack's agents (it becomes read-only). Offered because the server runs with --allow-destructive.",
      input: { session_id: sessionId },
      output: { session_id: z.string(), archived_at: z.string().nullable() },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
      async run(args, call) {
        call.target("session_id", args.session_id);
        const s = await requireSession(ctx, args.session_id);
        call.target("agent_id", s.agent.id);
        const archived = await ctx.client.beta.sessions.archive(s.id);
        return {
          structured: { session_id: s.id, archived_at: archived.archived_at },
          summary: `Archived session ${s.id}.`,
        };
      },
    });
  }
}

/**
 * The tool use `toolUseId` if session `s` is waiting on it (its latest idle event is `requires_action` naming it).
 * @throws ToolError when it is not waiting on that call
 */
async function waitingCall(
  ctx: StackContext,
  s: BetaManagedAgentsSession,
  toolUseId: string,
): Promise<{ tool: string; server: string | null; input: string }> {
  const notWaiting = () =>
    new ToolError(
      `session ${s.id} is not waiting on tool call ${toolUseId}; wait_for_idle lists the calls waiting for approval`,
    );
  if (s.status !== "idle") throw notWaiting();
  const page = await ctx.client.beta.sessions.events.list(s.id, {
    order: "desc",
    types: ["session.status_idle"],
    limit: 1,
  } as never);
  const idle = page.data[0];
  if (!idle || !(summarize(idle as SessionEvent).waiting_on ?? []).includes(toolUseId)) throw notWaiting();
  const uses = await eventsAfter(ctx.client, s.id, null, { types: [...TOOL_USE_TYPES] });
  const use = uses.find((e) => e.id === toolUseId);
  const summary = use ? summarize(use) : undefined;
  return {
    tool: summary?.tool ?? "(unknown tool)",
    server: summary?.server ?? null,
    input: trim(summary?.input ?? "{}", MAX_TOOL_IO),
  };
}
