import type { BetaManagedAgentsAgent } from "@anthropic-ai/sdk/resources/beta/agents/agents.js";
import type {
  BetaManagedAgentsBudgetLimit,
  BetaManagedAgentsDeletedSession,
  BetaManagedAgentsSession,
  BetaManagedAgentsSessionAgent,
  BetaManagedAgentsSessionUpdatedEvent,
} from "@anthropic-ai/sdk/resources/beta/sessions/sessions.js";
import { checkToolServerReferences, parseMcpServers, parseTools } from "./agent-tools.js";
import { epochMicros } from "./clock.js";
import { badRequest, conflict, notFound } from "./errors.js";
import { newId } from "./ids.js";
import { parseSessionResources } from "./memory-stores.js";
import { parseMetadata, patchMetadata } from "./metadata.js";
import { agentDefinition, sessionMultiagent } from "./multiagent.js";
import type { Page, PageRequest, SortKey } from "./pagination.js";
import { createdAtFilter, paginate, queryBool, queryValue } from "./pagination.js";
import { SimpleResource } from "./resource.js";
import { parseUserEvents, submitUserEvents } from "./session-input.js";
import type { SessionRuntime } from "./session-runtime.js";
import { newScriptState } from "./session-script.js";
import type { SessionRecord, Workspace } from "./store.js";
import {
  arr,
  at,
  clone,
  fieldError,
  has,
  int,
  isObj,
  jsonEqual,
  obj,
  oneOf,
  onlyKeys,
  required,
  str,
  tag,
} from "./validate.js";

/**
 * Sessions (`/v1/sessions`): create, retrieve, update, list, archive, delete. Request shapes: SDK
 * `SessionCreateParams` / `SessionUpdateParams` / `SessionListParams`; response: `BetaManagedAgentsSession`, whose
 * `agent` is a snapshot of the agent version at creation. Events and the scripted agent: `session-events.ts`.
 *
 * Rules (API-NOTES "Sessions", SDK doc comments): an archived agent, environment or vault cannot start a session;
 * sessions start `idle`; `update` changes `title`, `metadata` (per-key patch), `budget` and, while not running, the
 * snapshot's `tools` / `mcp_servers`, and records a `session.updated` event; `vault_ids` updates are rejected ("not
 * yet supported"). Archived sessions are read-only and refuse events; a running session cannot be archived (interrupt
 * it first). Deleting ends its open streams with `session.deleted`. Not emulated (400 with a clear message):
 * `agent_with_overrides`, `resources` other than memory stores (`memory-stores.ts#parseSessionResources`),
 * `user.define_outcome`. A multiagent agent's session copies its rosters (full agent definitions), but runs its
 * primary thread only: threads and workflow runs are not emulated.
 */

type Session = BetaManagedAgentsSession;

const CREATE_FIELDS = [
  "agent",
  "environment_id",
  "budget",
  "initial_events",
  "metadata",
  "resources",
  "title",
  "vault_ids",
] as const;
const UPDATE_FIELDS = ["agent", "budget", "metadata", "title", "vault_ids"] as const;
const STATUSES = ["rescheduling", "running", "idle", "terminated"] as const;

/**
 * Sessions (`/v1/sessions`) as a resource: ids, lookup (404 `session '<id>' not found`) and routes. Every endpoint
 * has its own rules (the runtime, `stats`, `order`, archive refused while running), so each has its own function
 * below, which `routes.ts` names.
 */
export const SESSIONS = new SimpleResource<Session, SessionRecord>({
  noun: "session",
  type: "session",
  idPrefix: "sesn",
  collection: "sessions",
  records: (ws) => ws.sessions,
  object: (rec) => rec.session,
});

/**
 * The session `id` of workspace `ws`.
 * @throws 404 `session '<id>' not found`.
 */
export function getSession(ws: Workspace, id: string): SessionRecord {
  return SESSIONS.get(ws, id);
}

/** The session as returned by the API: a copy, with `stats.duration_seconds` as of `nowMs`. */
export function sessionView(rec: SessionRecord, nowMs = Date.now()): Session {
  const s = clone(rec.session);
  if (s.status !== "terminated") s.stats.duration_seconds = Math.max(0, (nowMs - Date.parse(s.created_at)) / 1000);
  return s;
}

function parseTitle(v: unknown): string | null {
  return v === null ? null : str(v, "title", { max: 1000 });
}

/** A `BetaManagedAgentsBudgetLimit` param (`{type: "limit", max_list_cost: {amount, currency: "USD"}}`). @throws 400. */
export function parseBudget(v: unknown): BetaManagedAgentsBudgetLimit {
  const o = obj(v, "budget");
  tag(o, "budget", ["limit"] as const);
  onlyKeys(o, ["type", "max_list_cost"], "budget");
  const path = at("budget", "max_list_cost");
  const cost = obj(required(o, "max_list_cost", "budget"), path);
  onlyKeys(cost, ["amount", "currency"], path);
  const amount = str(required(cost, "amount", path), at(path, "amount"));
  if (!/^(0|[1-9]\d{0,17})$/.test(amount)) {
    throw fieldError(at(path, "amount"), "Input should be an integer decimal string in minor units, e.g. '2500'");
  }
  const currency = oneOf(required(cost, "currency", path), at(path, "currency"), ["USD"] as const);
  return { type: "limit", max_list_cost: { amount, currency } };
}

/** The agent version a `SessionCreateParams.agent` names. @throws 400 bad shape/archived; 404 unknown. */
function resolveAgent(ws: Workspace, v: unknown): BetaManagedAgentsAgent {
  let id: string;
  let version: number | undefined;
  if (typeof v === "string") {
    id = str(v, "agent", { min: 1 });
  } else {
    const o = obj(v, "agent");
    const type = tag(o, "agent", ["agent", "agent_with_overrides"] as const);
    if (type === "agent_with_overrides") {
      throw fieldError(
        "agent",
        "'agent_with_overrides' is not supported by the emulator; pass the agent id or {type: 'agent', id, version}",
      );
    }
    onlyKeys(o, ["type", "id", "version"], "agent");
    id = str(required(o, "id", "agent"), "agent.id", { min: 1 });
    if (o.version !== undefined && o.version !== null) version = int(o.version, "agent.version", 1);
  }
  const rec = ws.agents.get(id);
  if (!rec) throw notFound(`agent '${id}' not found`);
  if (rec.agent.archived_at !== null) {
    throw badRequest(`agent '${id}' is archived; archived agents cannot start new sessions`);
  }
  if (version === undefined) return rec.agent;
  const snap = rec.versions[version - 1];
  if (!snap) throw notFound(`agent '${id}' has no version ${version}`);
  return snap;
}

/** The session's `agent` snapshot of agent version `a`, its multiagent rosters expanded (`sessionMultiagent`). */
function snapshot(a: BetaManagedAgentsAgent, ws: Workspace): BetaManagedAgentsSessionAgent {
  return clone({ ...agentDefinition(a), multiagent: sessionMultiagent(a.multiagent, ws) });
}

function checkEnvironment(ws: Workspace, v: unknown): string {
  const id = str(v, "environment_id", { min: 1 });
  const env = ws.environments.get(id);
  if (!env) throw notFound(`environment '${id}' not found`);
  if (env.archived_at !== null) {
    throw badRequest(`environment '${id}' is archived; archived environments cannot start new sessions`);
  }
  return id;
}

function checkVaults(ws: Workspace, v: unknown): string[] {
  const ids = arr(v, "vault_ids", 20).map((x, i) => str(x, at("vault_ids", i), { min: 1 }));
  ids.forEach((id, i) => {
    if (ids.indexOf(id) !== i) throw fieldError(at("vault_ids", i), `vault '${id}' is listed twice`);
    const vault = ws.vaults.get(id);
    if (!vault) throw notFound(`vault '${id}' not found`);
    if (vault.archived_at !== null) throw badRequest(`vault '${id}' is archived and cannot be attached to a session`);
  });
  return ids;
}

/**
 * Creates a session (`POST /v1/sessions`), `idle`, with a snapshot of the agent (latest version, or the one named).
 * `initial_events` (`user.message` only) are recorded and answered like `events.send`, after the response.
 * @throws 400 invalid field, archived agent/environment/vault, unsupported feature; 404 unknown agent, version,
 * environment or vault.
 */
export function createSession(ws: Workspace, runtime: SessionRuntime, body: unknown, now: string): Session {
  const o = obj(body ?? {}, "");
  onlyKeys(o, CREATE_FIELDS, "");
  const agent = snapshot(resolveAgent(ws, required(o, "agent", "")), ws);
  const environment_id = checkEnvironment(ws, required(o, "environment_id", ""));
  const vault_ids = o.vault_ids === undefined ? [] : checkVaults(ws, o.vault_ids);
  const resources = o.resources === undefined || o.resources === null ? [] : parseSessionResources(ws, o.resources);
  const initial = o.initial_events === undefined ? [] : arr(o.initial_events, "initial_events", 50);
  initial.forEach((e, i) => {
    if (isObj(e) && e.type !== "user.message") {
      throw fieldError(at(at("initial_events", i), "type"), "initial_events support 'user.message' events only");
    }
  });
  const events = parseUserEvents(initial, "initial_events");
  const session: Session = {
    type: "session",
    id: newId("sesn"),
    agent,
    environment_id,
    vault_ids,
    title: o.title === undefined ? null : parseTitle(o.title),
    metadata: o.metadata === undefined ? {} : parseMetadata(o.metadata),
    budget: o.budget === undefined || o.budget === null ? null : parseBudget(o.budget),
    status: "idle",
    resources,
    outcome_evaluations: [],
    stats: { active_seconds: 0, duration_seconds: 0 },
    usage: {
      input_tokens: 0,
      output_tokens: 0,
      cache_read_input_tokens: 0,
      cache_creation: { ephemeral_1h_input_tokens: 0, ephemeral_5m_input_tokens: 0 },
      active_seconds: 0,
    },
    deployment_id: null,
    created_at: now,
    updated_at: now,
    archived_at: null,
  };
  const rec: SessionRecord = { session, events: [], script: newScriptState(), running_since: null };
  ws.sessions.set(session.id, rec);
  submitUserEvents(ws, runtime, rec, events, () => now);
  return sessionView(rec);
}

/** Reads a session (`GET /v1/sessions/:id`), archived or not. @throws 404. */
export function retrieveSession(ws: Workspace, id: string): Session {
  return sessionView(getSession(ws, id));
}

/**
 * Updates a session (`POST /v1/sessions/:id`) and records a `session.updated` event carrying what changed. A no-op
 * leaves `updated_at` alone and records nothing.
 * @throws 404 unknown; 400 archived, terminated, invalid field, `vault_ids`, budget rules; 409 `agent` while running.
 */
export function updateSession(ws: Workspace, runtime: SessionRuntime, id: string, body: unknown, now: string): Session {
  const rec = getSession(ws, id);
  const cur = rec.session;
  const o = obj(body ?? {}, "");
  onlyKeys(o, UPDATE_FIELDS, "");
  if (cur.archived_at !== null) throw badRequest(`session '${id}' is archived and cannot be updated`);
  if (cur.status === "terminated") throw badRequest(`session '${id}' is terminated and cannot be updated`);
  if (o.vault_ids !== undefined) {
    throw fieldError("vault_ids", "attaching vaults to an existing session is not yet supported; create a new session");
  }
  const next = clone(cur);
  const event: BetaManagedAgentsSessionUpdatedEvent = { id: newId("sevt"), type: "session.updated", processed_at: now };
  if (has(o, "title")) next.title = parseTitle(o.title);
  if (has(o, "metadata") && o.metadata !== null) next.metadata = patchMetadata(cur.metadata, o.metadata, false);
  if (has(o, "budget")) {
    if (o.budget === null) next.budget = null;
    else if (cur.budget === null) {
      throw fieldError("budget", "a budget can only be set when the session is created (budget_create_only)");
    } else next.budget = parseBudget(o.budget);
  }
  if (o.agent !== undefined) {
    const a = obj(o.agent, "agent");
    onlyKeys(a, ["tools", "mcp_servers"], "agent");
    if (cur.status === "running") {
      throw conflict(
        `session '${id}' is running; wait for session.status_idle (or interrupt it), then update its agent`,
      );
    }
    const tools = a.tools === undefined ? next.agent.tools : parseTools(a.tools, "agent.tools");
    const servers =
      a.mcp_servers === undefined ? next.agent.mcp_servers : parseMcpServers(a.mcp_servers, "agent.mcp_servers");
    checkToolServerReferences(tools, servers);
    next.agent = { ...next.agent, tools, mcp_servers: servers };
  }
  if (!jsonEqual(next.title, cur.title)) event.title = next.title;
  if (!jsonEqual(next.metadata, cur.metadata) && Object.keys(next.metadata).length > 0) event.metadata = next.metadata;
  if (!jsonEqual(next.budget, cur.budget)) event.budget = next.budget;
  if (!jsonEqual(next.agent, cur.agent)) event.agent = next.agent;
  if (jsonEqual(next, cur)) return sessionView(rec);
  next.updated_at = now;
  rec.session = next;
  runtime.append(rec, event);
  return sessionView(rec);
}

/** The values of a repeatable query parameter, sent as `name[]=a&name[]=b` (SDK) or `name=a&name=b`. */
export function queryList(query: Record<string, unknown>, name: string): string[] | undefined {
  const values: string[] = [];
  let seen = false;
  for (const key of [name, `${name}[]`]) {
    const v = query[key];
    if (v === undefined) continue;
    seen = true;
    for (const x of Array.isArray(v) ? v : [v]) {
      if (typeof x !== "string") throw badRequest(`${name}: expected string values`);
      values.push(x);
    }
  }
  return seen ? values : undefined;
}

/** `order` of a list query (`asc` / `desc`), `fallback` when absent. @throws 400. */
export function queryOrder(query: Record<string, unknown>, fallback: "asc" | "desc"): "asc" | "desc" {
  const v = queryValue(query, "order");
  return v === undefined ? fallback : oneOf(v, "order", ["asc", "desc"] as const);
}

/**
 * Lists sessions (`GET /v1/sessions`), newest first unless `order=asc`; archived ones only with
 * `include_archived=true`. Filters: `agent_id` (+ `agent_version`), `statuses[]`, `created_at[gt|gte|lt|lte]`,
 * `deployment_id`, `memory_store_id` (sessions here never have one). Response: SDK `BidirectionalPageCursor`
 * (`data`, `next_page`, `prev_page`; `prev_page` is always null here).
 * @throws 400 for a bad parameter or cursor.
 */
export function listSessions(
  ws: Workspace,
  query: Record<string, unknown>,
  page: PageRequest,
): Page<Session> & { prev_page: string | null } {
  const includeArchived = queryBool(query, "include_archived", false);
  const agentId = queryValue(query, "agent_id");
  const rawVersion = queryValue(query, "agent_version");
  if (rawVersion !== undefined && !/^[1-9]\d*$/.test(rawVersion)) {
    throw badRequest("agent_version: Input should be an integer greater than or equal to 1");
  }
  const statuses = queryList(query, "statuses")?.map((s, i) => oneOf(s, at("statuses", i), STATUSES));
  const deploymentId = queryValue(query, "deployment_id");
  const memoryStoreId = queryValue(query, "memory_store_id");
  const inTime = createdAtFilter(query);
  const order = queryOrder(query, "desc");
  const items = [...ws.sessions.values()]
    .map((r) => r.session)
    .filter((s) => includeArchived || s.archived_at === null)
    .filter((s) => agentId === undefined || s.agent.id === agentId)
    .filter((s) => agentId === undefined || rawVersion === undefined || s.agent.version === Number(rawVersion))
    .filter((s) => statuses === undefined || statuses.includes(s.status))
    .filter((s) => deploymentId === undefined || s.deployment_id === deploymentId)
    .filter(
      (s) =>
        memoryStoreId === undefined ||
        s.resources.some((r) => r.type === "memory_store" && r.memory_store_id === memoryStoreId),
    )
    .filter((s) => inTime(s.created_at));
  const key = (s: Session): SortKey =>
    order === "desc" ? [epochMicros(s.created_at), s.id] : [-epochMicros(s.created_at), s.id];
  const result = paginate(items, key, page, `sessions:${order}`);
  const nowMs = Date.now();
  const views = result.data.map((s) => sessionView(ws.sessions.get(s.id) as SessionRecord, nowMs));
  return { data: views, next_page: result.next_page, prev_page: null };
}

/**
 * Archives a session (`POST /v1/sessions/:id/archive`); idempotent. Its history stays readable.
 * @throws 404 unknown; 409 while it is running (send `user.interrupt` and wait for idle first).
 */
export function archiveSession(ws: Workspace, id: string, now: string): Session {
  const rec = getSession(ws, id);
  if (rec.session.archived_at !== null) return sessionView(rec);
  if (rec.session.status === "running") {
    throw conflict(`session '${id}' is running; send a user.interrupt event and wait for session.status_idle first`);
  }
  rec.session = { ...rec.session, archived_at: now, updated_at: now };
  return sessionView(rec);
}

/**
 * Deletes a session and its history (`DELETE /v1/sessions/:id`) → `{id, type: "session_deleted"}`; its open streams
 * receive `session.deleted` and end. @throws 404.
 */
export function deleteSession(
  ws: Workspace,
  runtime: SessionRuntime,
  id: string,
  now: string,
): BetaManagedAgentsDeletedSession {
  getSession(ws, id);
  ws.sessions.delete(id);
  runtime.deleted(id, now);
  return { id, type: "session_deleted" };
}
