/**
 * The `agent` provider: `Agent` specs ↔ `/v1/agents` (SDK `client.beta.agents`, types `AgentCreateParams`,
 * `AgentUpdateParams`, `BetaManagedAgentsAgent`).
 *
 * An agent's `mcp_servers` and `mcp_toolset` tools are generated from the `McpToolset` specs it names: a toolset
 * with an allowlist becomes `default_config.enabled: false` plus one enabled `configs[]` entry per allowed tool with
 * its permission policy; a toolset without one becomes `default_config.enabled: true` with the toolset's default
 * policy.
 */
import type { ResolvedAgent, ResolvedMcpToolset } from "../spec/types.js";
import { latestVersionPaths, multiagentParams, multiagentState } from "./agent-multiagent.js";
import { archiveObject, listObjects, readObject, writeObject } from "./client.js";
import { keyed, policyName, toJson } from "./comparable.js";
import { metadataUpdate, userMetadata } from "./ownership.js";
import { isOutputRef, outputRef } from "./refs.js";
import { desiredResource } from "./resource.js";
import { toolsetsWithServerUrls } from "./tunnel.js";
import type { ComparableState, Json, LiveResource, Provider, UpdateRequest } from "./types.js";

type Obj = Record<string, unknown>;

/**
 * Server defaults for toolsets (API-NOTES: `default_config` is `enabled: true` with `always_ask` for `mcp_toolset`
 * and `always_allow` for `agent_toolset_20260401`; a `configs[]` entry's missing fields come from it).
 */
const TOOLSET_DEFAULT_POLICY: Record<string, string> = {
  mcp_toolset: "always_ask",
  agent_toolset_20260401: "always_allow",
};

/** The `mcp_toolset` tool param an agent gets for one toolset spec. */
function mcpToolsetParam(toolset: ResolvedMcpToolset): Obj {
  const policy = { type: toolset.default_permission_policy };
  if (toolset.tools === null) {
    return {
      type: "mcp_toolset",
      mcp_server_name: toolset.server_name,
      default_config: { enabled: true, permission_policy: policy },
      configs: [],
    };
  }
  return {
    type: "mcp_toolset",
    mcp_server_name: toolset.server_name,
    default_config: { enabled: false, permission_policy: policy },
    configs: toolset.tools.map((tool) => ({
      name: tool.name,
      enabled: true,
      permission_policy: { type: tool.permission_policy },
    })),
  };
}

/**
 * The provider-private `DesiredResource.spec` of an agent: the resolved spec plus its `multiagent` param, whose
 * entries naming other agents hold `OutputRef`s that the engine resolves before `create`/`update`.
 */
type AgentDesiredSpec = ResolvedAgent & { multiagent_param?: Obj | null };

/**
 * The SDK create params for a resolved agent (without ownership metadata). `execution_identity` and `multiagent` are
 * left out when the spec says nothing about them; `multiagent` is the spec's `multiagent_param` when it has one
 * (references resolved by the engine), else built with `OutputRef`s to the agents it names.
 */
export function agentParams(spec: AgentDesiredSpec): Obj {
  const multiagent =
    spec.multiagent_param !== undefined
      ? spec.multiagent_param
      : spec.multiagent !== undefined
        ? multiagentParams(spec.multiagent)
        : undefined;
  return {
    name: spec.display_name ?? spec.name,
    description: spec.description,
    model: { ...spec.model },
    system: spec.system,
    mcp_servers: spec.toolsets.map((t) => ({ type: "url", name: t.server_name, url: t.url })),
    tools: [...spec.toolsets.map(mcpToolsetParam), ...spec.tools],
    skills: spec.skills.map(skillParam),
    metadata: spec.metadata,
    ...(spec.execution_identity ? { execution_identity: { ...spec.execution_identity } } : {}),
    ...(multiagent !== undefined ? { multiagent } : {}),
  };
}

/**
 * One skill as the SDK's `BetaManagedAgentsSkillParams`. A Skill spec named by `skill:` becomes a custom skill whose
 * `skill_id` refers to that skill's id (`outputRef`), known once the skill exists: apply creates it first.
 */
function skillParam(skill: ResolvedAgent["skills"][number]): Obj {
  if ("skill" in skill) {
    return { type: "custom", skill_id: outputRef(`skill.${skill.skill}`), version: skill.version ?? "latest" };
  }
  return { ...skill };
}

/** Comparable form of one toolset or tool (params or API object); the key is its identity in `tools`. */
function toolKey(tool: Obj): string {
  if (tool.type === "mcp_toolset") return `mcp_toolset:${String(tool.mcp_server_name)}`;
  if (tool.type === "custom") return `custom:${String(tool.name)}`;
  return String(tool.type);
}

function toolState(tool: Obj): Json {
  if (tool.type !== "mcp_toolset" && tool.type !== "agent_toolset_20260401") {
    const { type: _type, ...rest } = tool;
    return toJson(rest);
  }
  const given = (tool.default_config ?? {}) as Obj;
  const enabled = typeof given.enabled === "boolean" ? given.enabled : true;
  const policy = policyName(given.permission_policy) ?? TOOLSET_DEFAULT_POLICY[tool.type] ?? null;
  const configs = keyed(
    (tool.configs ?? []) as Obj[],
    (config) => String(config.name),
    (config) => {
      // One object built in one pass (this runs for every tool of every agent, desired and live).
      const out: { [key: string]: Json } = {};
      for (const key of Object.keys(config)) {
        if (key === "name" || key === "type" || key === "enabled" || key === "permission_policy") continue;
        const value = config[key];
        // The server returns optional config fields it has no value for as null (`web_fetch`'s `url_sources`).
        if (value === null || value === undefined) continue;
        if (key === "__proto__") {
          Object.defineProperty(out, key, {
            value: toJson(value),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        } else out[key] = toJson(value);
      }
      out.enabled = typeof config.enabled === "boolean" ? config.enabled : enabled;
      out.permission_policy = policyName(config.permission_policy) ?? policy;
      return out;
    },
  );
  return { default_config: { enabled, permission_policy: policy }, configs };
}

/** Comparable form of the model: a string id or `{id, effort, speed, inference_geo}`, effort as a plain string. */
function modelState(model: unknown): Json {
  const m: Obj = typeof model === "string" ? { id: model } : { ...(model as Obj) };
  const out: { [key: string]: Json } = { id: String(m.id), speed: typeof m.speed === "string" ? m.speed : "standard" };
  const effort = policyName(m.effort);
  if (effort) out.effort = effort;
  if (typeof m.inference_geo === "string") out.inference_geo = m.inference_geo;
  return out;
}

/**
 * The comparable form of an agent, from create params or from a `BetaManagedAgentsAgent`. Fills the server's
 * defaults (model `speed` standard, skill `version` latest) and keys `tools` and `mcp_servers` by identity, so neither
 * defaults nor their order show as changes; `skills` stay a list in order (see below). `execution_identity` and
 * `multiagent` are present only when given (a live agent always has both; params only when the spec sets them, see
 * `serverChosen` in `desired`).
 */
export function agentState(agent: Obj): ComparableState {
  return {
    name: String(agent.name),
    description: typeof agent.description === "string" && agent.description !== "" ? agent.description : null,
    system: typeof agent.system === "string" && agent.system !== "" ? agent.system : null,
    model: modelState(agent.model),
    ...("execution_identity" in agent
      ? { execution_identity: toJson(agent.execution_identity ?? { type: "service_account" }) }
      : {}),
    ...("multiagent" in agent
      ? { multiagent: multiagentState(agent.multiagent, typeof agent.id === "string" ? agent.id : undefined) }
      : {}),
    mcp_servers: keyed(
      (agent.mcp_servers ?? []) as Obj[],
      (s) => String(s.name),
      (s) => (isOutputRef(s.url) ? s.url : String(s.url)), // a tunnel's domain: known after apply
    ),
    tools: keyed((agent.tools ?? []) as Obj[], toolKey, toolState),
    // In order: a custom skill of the repository is known by id only once it exists (an `OutputRef` until then), so
    // it cannot be a map key; the API returns skills in the order sent (API-NOTES names only `tools` and
    // `mcp_servers` as reordered).
    skills: ((agent.skills ?? []) as Obj[]).map((s) => ({
      type: String(s.type),
      skill_id: toJson(s.skill_id),
      version: typeof s.version === "string" ? s.version : "latest",
    })),
    metadata: userMetadata(agent.metadata as Record<string, string> | undefined),
  };
}

/**
 * Top-level state fields → update params. `tools` and `mcp_servers` travel together (each server needs a toolset).
 * A field the spec leaves to the server (`execution_identity`, `multiagent` when unset) is never sent: omitted means
 * "keep" (SDK `AgentUpdateParams`).
 */
function updateParams(spec: AgentDesiredSpec, live: LiveResource, request: UpdateRequest): Obj {
  const params = agentParams(spec);
  const out: Obj = { version: live.version };
  const wanted = new Set(request.fields);
  if (wanted.has("tools") || wanted.has("mcp_servers")) wanted.add("tools").add("mcp_servers");
  for (const field of wanted) {
    if (field === "metadata" || !(field in params)) continue;
    out[field] = params[field];
  }
  const metadata = metadataUpdate(spec.metadata, live.metadata, request);
  if (metadata) out.metadata = metadata;
  return out;
}

/** The agent provider (see the module comment). Updates carry the observed `version` as a precondition. */
export const agentProvider: Provider = {
  type: "agent",
  replaceOrder: "create-first",
  replaceOn: [],
  desiredPerItemOf: "agents",
  desired(specs) {
    return specs.agents.map((resolved) => {
      // Toolsets behind a tunnel get their URL from the tunnel's domain (an OutputRef the engine resolves).
      const spec = { ...resolved, toolsets: toolsetsWithServerUrls(resolved.toolsets) };
      const withRefs: AgentDesiredSpec =
        spec.multiagent === undefined ? spec : { ...spec, multiagent_param: multiagentParams(spec.multiagent) };
      return desiredResource({
        type: "agent",
        name: spec.name,
        previousNames: spec.previous_names,
        state: agentState(agentParams(withRefs)),
        serverChosen: [
          ...(spec.model.effort === undefined ? ["model.effort"] : []),
          ...(spec.execution_identity === undefined ? ["execution_identity"] : []),
          ...(spec.multiagent === undefined ? ["multiagent"] : latestVersionPaths(spec.multiagent)),
        ],
        protect: spec.protect,
        source: spec.source,
        // The spec create/update build params from, with each Skill named by `skill:` as a reference to its id.
        spec: { ...withRefs, skills: spec.skills.map(skillParam) },
      });
    });
  },
  list: (client, _parentId, onPage) =>
    listObjects(client, "agent", "/v1/agents", (query, o) => client.beta.agents.list(query, o), onPage),
  retrieve: (client, id) =>
    readObject(client, "agent", `GET /v1/agents/${id}`, (o) => client.beta.agents.retrieve(id, {}, o)),
  state: (object) => agentState(object),
  async create(client, desired, _ctx, ownership) {
    const params = agentParams(desired.spec as AgentDesiredSpec);
    params.metadata = { ...(params.metadata as Obj), ...ownership };
    const agent = await writeObject(client, "agent", "POST /v1/agents", (o) =>
      client.beta.agents.create(params as never, o),
    );
    return { id: agent.id, version: agent.version as number };
  },
  async update(client, desired, live, request) {
    // No SDK retry (the SDK retries 409s, and a version conflict must surface as one, not be repeated).
    const params = updateParams(desired.spec as AgentDesiredSpec, live, request);
    const agent = await writeObject(client, "agent", `POST /v1/agents/${live.id}`, (o) =>
      client.beta.agents.update(live.id, params as never, o),
    );
    return { id: agent.id, version: agent.version as number };
  },
  async archive(client, live) {
    await archiveObject(client, "agent", `POST /v1/agents/${live.id}/archive`, (o) =>
      client.beta.agents.archive(live.id, {}, o),
    );
  },
};
