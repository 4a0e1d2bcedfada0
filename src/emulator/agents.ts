import type {
  BetaManagedAgentsAgent,
  BetaManagedAgentsExecutionIdentity,
  BetaManagedAgentsModelConfig,
} from "@anthropic-ai/sdk/resources/beta/agents/agents.js";
import {
  checkToolServerReferences,
  checkUrlSourceToolNames,
  type McpServer,
  parseMcpServers,
  parseSkills,
  parseTools,
  type Tool,
  toolKey,
} from "./agent-tools.js";
import { DEFAULT_EXECUTION_IDENTITY, DEFAULT_MODEL_SPEED } from "./defaults.js";
import { badRequest, conflict, notFound } from "./errors.js";
import { applyMetadataPatch, createdMetadata } from "./metadata.js";
import { checkModelCombination, modelRow } from "./models.js";
import { parseMultiagent, type SelfRef, withoutSelfVersions } from "./multiagent.js";
import { type Page, type PageRequest, paginate, queryValue } from "./pagination.js";
import { SimpleResource } from "./resource.js";
import type { AgentRecord, Workspace } from "./store.js";
import {
  at,
  clone,
  fieldError,
  has,
  jsonEqual,
  type Obj,
  obj,
  oneOf,
  onlyKeys,
  required,
  str,
  tag,
} from "./validate.js";

/**
 * Agents (`/v1/agents`): create, retrieve (optionally `?version=N`), update, list, archive, list versions.
 * Request shapes: SDK `AgentCreateParams` / `AgentUpdateParams`; response: `BetaManagedAgentsAgent`.
 *
 * Versions (API-NOTES "Agents"): `version` starts at 1; an update that changes anything (after defaults) writes
 * version n+1 and a snapshot; an update that changes nothing writes nothing, not even `updated_at`. An update may
 * carry `version` as a precondition: a mismatch is a 409 and nothing changes. Archived agents are read-only.
 *
 * Order: `tools`, `mcp_servers` and each toolset's `configs` are stored and returned in the reverse of the order
 * they were sent (the real API "may return `tools` and `mcp_servers` in any order"), so a client that compares
 * lists by position sees a difference. Comparing for "did anything change" is order-free for those lists.
 */

type Agent = BetaManagedAgentsAgent;
type ModelConfig = BetaManagedAgentsModelConfig;
type Effort = NonNullable<ModelConfig["effort"]>;

const CONTENT_FIELDS = [
  "name",
  "description",
  "system",
  "model",
  "tools",
  "mcp_servers",
  "skills",
  "metadata",
  "multiagent",
  "execution_identity",
] as const;
const EFFORTS = ["low", "medium", "high", "xhigh", "max"] as const;
const SPEEDS = ["standard", "fast"] as const;

/** A nullable text field: `null` and `""` clear (SDK: "send empty string or null to clear"). */
function clearableText(v: unknown, path: string): string | null {
  if (v === null || v === "") return null;
  return str(v, path);
}

function parseEffort(v: unknown, path: string): Effort {
  if (typeof v === "string") return { type: oneOf(v, path, EFFORTS) };
  const o = obj(v, path);
  const type = tag(o, path, EFFORTS);
  onlyKeys(o, ["type"], path);
  return { type };
}

/**
 * `model` with defaults, checked against the model table (`models.ts`): a string `m` → `{id: m, effort, speed:
 * "standard"}`; an object's `effort` string → `{type}`, missing `speed` → `"standard"`, missing `inference_geo` →
 * absent. `effort` omitted keeps `storedEffort` (update) or resolves the model's default (create; SDK: "Always
 * present; resolved to the per-model default at save time when not supplied"); `null` resolves the default.
 * @throws 400 for an unknown model id or a combination of effort/speed the model does not accept.
 */
function parseModel(v: unknown, storedEffort: Effort | undefined): ModelConfig {
  const path = "model";
  if (v === null) throw fieldError(path, "cannot be cleared; omit the field to keep the current model");
  let out: ModelConfig;
  let effortSent: unknown;
  if (typeof v === "string") {
    out = { id: str(v, path, { min: 1, max: 256 }) };
    modelRow(out.id, path);
  } else {
    const o = obj(v, path);
    onlyKeys(o, ["id", "effort", "inference_geo", "speed"], path);
    out = { id: str(required(o, "id", path), at(path, "id"), { min: 1, max: 256 }) };
    modelRow(out.id, at(path, "id"));
    effortSent = o.effort;
    if (o.inference_geo !== undefined && o.inference_geo !== null) {
      out.inference_geo = str(o.inference_geo, at(path, "inference_geo"), { min: 1, max: 64 });
    }
    if (o.speed !== undefined && o.speed !== null) out.speed = oneOf(o.speed, at(path, "speed"), SPEEDS);
  }
  let effort: Effort;
  if (effortSent !== undefined && effortSent !== null) effort = parseEffort(effortSent, at(path, "effort"));
  else if (effortSent === undefined && storedEffort) effort = clone(storedEffort);
  else effort = { type: modelRow(out.id, path).defaultEffort };
  out.speed ??= DEFAULT_MODEL_SPEED;
  checkModelCombination(out.id, effort.type, out.speed, path);
  return {
    id: out.id,
    effort,
    ...(out.inference_geo === undefined ? {} : { inference_geo: out.inference_geo }),
    speed: out.speed,
  };
}

/** `execution_identity`: omitted or `null` → `{type:"service_account"}`; `aws_role` needs an IAM role ARN. */
function parseExecutionIdentity(v: unknown): BetaManagedAgentsExecutionIdentity {
  const path = "execution_identity";
  if (v === undefined || v === null) return { ...DEFAULT_EXECUTION_IDENTITY };
  const o = obj(v, path);
  const type = tag(o, path, ["service_account", "aws_role"] as const);
  if (type === "service_account") {
    onlyKeys(o, ["type"], path);
    return { type };
  }
  onlyKeys(o, ["type", "role_arn"], path);
  const role_arn = str(required(o, "role_arn", path), at(path, "role_arn"), { min: 1, max: 2048 });
  if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/.test(role_arn)) {
    throw fieldError(at(path, "role_arn"), "Input should be an IAM role ARN (arn:aws:iam::<account>:role/<name>)");
  }
  return { type, role_arn };
}

/** The fields of an agent that make up a version (everything but identity, version and timestamps). */
type Content = Pick<Agent, (typeof CONTENT_FIELDS)[number]>;

function contentOf(a: Agent): Content {
  return {
    name: a.name,
    description: a.description,
    system: a.system,
    model: a.model,
    tools: a.tools,
    mcp_servers: a.mcp_servers,
    skills: a.skills,
    metadata: a.metadata,
    multiagent: a.multiagent,
    execution_identity: a.execution_identity,
  };
}

function sortedBy<T>(items: readonly T[], key: (t: T) => string): T[] {
  return [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** `c` with order-free lists sorted, for "did this update change anything". */
function comparable(c: Content, selfId: string): unknown {
  return {
    ...c,
    tools: sortedBy(
      c.tools.map((t) =>
        t.type === "custom" ? t : { ...t, configs: sortedBy<{ name: string }>(t.configs, (x) => x.name) },
      ),
      (t) => toolKey(t as Tool),
    ),
    mcp_servers: sortedBy(c.mcp_servers, (s) => s.name),
    multiagent: withoutSelfVersions(c.multiagent, selfId),
  };
}

/** Reversed copy: how sent lists are stored (see the module comment). */
function reversed<T>(items: readonly T[]): T[] {
  return [...items].reverse();
}

/** Validates tools/mcp_servers (request order when sent) against each other, returns them in stored order. */
function resolveToolsAndServers(
  o: Obj,
  current: { tools: Tool[]; mcp_servers: McpServer[] } | null,
): { tools: Tool[]; mcp_servers: McpServer[] } {
  const sentTools = has(o, "tools");
  const sentServers = has(o, "mcp_servers");
  const tools = sentTools ? parseTools(o.tools) : (current?.tools ?? []);
  const servers = sentServers ? parseMcpServers(o.mcp_servers) : (current?.mcp_servers ?? []);
  checkToolServerReferences(tools, servers);
  checkUrlSourceToolNames(tools);
  return { tools: sentTools ? reversed(tools) : tools, mcp_servers: sentServers ? reversed(servers) : servers };
}

/**
 * Agents (`/v1/agents`). Create writes version 1 with every server default filled (`defaults.ts`; @throws 400 naming
 * the field for any invalid or unknown field, `invalid_metadata` for metadata limits). Each record keeps the
 * version snapshots; archiving writes no version but moves the latest snapshot's `updated_at` with the agent's. The
 * list is newest first with `created_at[gte]` / `[lte]` (`AgentListParams`). Update (versions, the `version`
 * precondition, archived agents read-only) and retrieve (`?version=N`) have their own rules: `updateAgent`,
 * `retrieveAgent`.
 */
export const AGENTS = new SimpleResource<Agent, AgentRecord>({
  noun: "agent",
  type: "agent",
  idPrefix: "agent",
  collection: "agents",
  fields: CONTENT_FIELDS,
  createdAtBounds: ["gte", "lte"],
  records: (ws) => ws.agents,
  object: (rec) => rec.agent,
  build: (o, id, ws) => {
    const name = str(required(o, "name", ""), "name", { min: 1, max: 256 });
    const model = parseModel(required(o, "model", ""), undefined);
    const { tools, mcp_servers } = resolveToolsAndServers(o, null);
    const self: SelfRef = { id, version: 1 };
    return {
      name,
      description: o.description === undefined ? null : clearableText(o.description, "description"),
      system: o.system === undefined ? null : clearableText(o.system, "system"),
      model,
      tools,
      mcp_servers,
      skills: o.skills === undefined ? [] : parseSkills(o.skills),
      metadata: createdMetadata(o),
      multiagent: o.multiagent === undefined ? null : parseMultiagent(o.multiagent, "multiagent", ws, self, null),
      execution_identity: parseExecutionIdentity(o.execution_identity),
      version: 1,
    };
  },
  toRecord: (agent) => ({ agent, versions: [clone(agent)] }),
  archived: (rec, now) => {
    const last = rec.versions[rec.versions.length - 1];
    if (last) last.updated_at = now;
    return { agent: { ...rec.agent, archived_at: now, updated_at: now }, versions: rec.versions };
  },
});

function record(ws: Workspace, id: string): AgentRecord {
  return AGENTS.get(ws, id);
}

/**
 * Reads an agent (`GET /v1/agents/:id`), or one of its versions with `?version=N`. Archived agents are readable.
 * @throws 404 for an unknown agent or version; 400 for a `version` that is not an integer >= 1.
 */
export function retrieveAgent(ws: Workspace, id: string, query: Record<string, unknown>): Agent {
  const rec = record(ws, id);
  const raw = queryValue(query, "version");
  if (raw === undefined) return clone(rec.agent);
  if (!/^\d+$/.test(raw) || Number(raw) < 1) {
    throw badRequest("version: Input should be an integer greater than or equal to 1");
  }
  const snap = rec.versions[Number(raw) - 1];
  if (!snap) throw notFound(`agent '${id}' has no version ${raw}`);
  return { ...clone(snap), archived_at: rec.agent.archived_at };
}

/**
 * Updates an agent (`POST /v1/agents/:id`). Omitted fields are kept; `description`/`system` `null` or `""` clear;
 * `tools`/`mcp_servers`/`skills` `null` or `[]` clear and are otherwise replaced whole, as are `multiagent` (except the
 * documented `multiagent_20261001` merge) and `execution_identity`; `metadata` is a per-key patch (`null` deletes).
 * `name` and `model` cannot be cleared.
 *
 * @throws 404 unknown agent; 400 invalid field or archived agent; 409 `version` precondition mismatch.
 */
export function updateAgent(ws: Workspace, id: string, body: unknown, now: string): Agent {
  const rec = record(ws, id);
  const cur = rec.agent;
  const o = obj(body ?? {}, "");
  onlyKeys(o, [...CONTENT_FIELDS, "version"], "");
  let expected: number | undefined;
  if (has(o, "version")) {
    if (typeof o.version !== "number" || !Number.isInteger(o.version) || o.version < 1) {
      throw fieldError("version", "Input should be an integer greater than or equal to 1");
    }
    expected = o.version;
  }
  // Source: docs/api-notes.md "Agents" ("Archived agents are read-only").
  if (cur.archived_at !== null) throw badRequest(`agent '${id}' is archived; archived agents are read-only`);
  if (expected !== undefined && expected !== cur.version) {
    throw conflict(
      `version: agent '${id}' is at version ${cur.version}, but the request expected version ${expected}; retrieve the agent and try again`,
    );
  }

  const next: Content = clone(contentOf(cur));
  if (has(o, "name")) {
    if (o.name === null || o.name === "")
      throw fieldError("name", "cannot be cleared; omit the field to keep the current name");
    next.name = str(o.name, "name", { min: 1, max: 256 });
  }
  if (has(o, "model")) next.model = parseModel(o.model, cur.model.effort);
  if (has(o, "description")) next.description = clearableText(o.description, "description");
  if (has(o, "system")) next.system = clearableText(o.system, "system");
  Object.assign(next, resolveToolsAndServers(o, next));
  if (has(o, "skills")) next.skills = parseSkills(o.skills);
  applyMetadataPatch(o, next, cur.metadata);
  if (has(o, "execution_identity")) next.execution_identity = parseExecutionIdentity(o.execution_identity);
  if (has(o, "multiagent")) {
    next.multiagent = parseMultiagent(o.multiagent, "multiagent", ws, { id, version: cur.version + 1 }, cur.multiagent);
  }

  if (jsonEqual(comparable(next, id), comparable(contentOf(cur), id))) return clone(cur);
  const agent: Agent = { ...cur, ...next, version: cur.version + 1, updated_at: now };
  rec.agent = agent;
  rec.versions.push(clone(agent));
  return clone(agent);
}

/**
 * Lists an agent's versions (`GET /v1/agents/:id/versions`), newest first; each entry is the full agent as of that
 * version (with the agent's current `archived_at`).
 * @throws 404 unknown agent; 400 bad `limit`/`page`.
 */
export function listAgentVersions(ws: Workspace, id: string, page: PageRequest): Page<Agent> {
  const rec = record(ws, id);
  const result = paginate(rec.versions, (v) => [v.version], page, `versions:${id}`);
  return {
    data: result.data.map((v) => ({ ...clone(v), archived_at: rec.agent.archived_at })),
    next_page: result.next_page,
  };
}
