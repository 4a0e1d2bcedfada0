/**
 * Agents → `Agent` specs: a `BetaManagedAgentsAgent` (SDK `client.beta.agents`) becomes the spec whose
 * `agentParams` (`providers/agent.ts`) give back the same `agentState`:
 *
 * - `model`: the id alone when the config holds nothing but the id and the default speed, else `{id, effort?,
 *   speed?, inference_geo?}` (`BetaManagedAgentsModelConfig`; effort as its plain name);
 * - `description`, `system` (a `system: |` block), `skills` (`version: latest` left out: the server default; a
 *   custom skill with a spec name, exported in this run or declared, as `{skill: NAME}`, else by id);
 * - `metadata` without the reserved keys, `protect: true` for a resource marked protected;
 * - `mcp_servers` + `mcp_toolset` tools → `toolsets:` naming `McpToolset` specs (see `toolset.ts`; a URL under the
 *   domain of a tunnel exported in the same run as `tunnel:` + `host:`);
 * - `agent_toolset_20260401` and `custom` tools as the API takes them, without the values the server fills in:
 *   a `default_config` equal to the default (`enabled: true`, `always_allow`), each config's `type` (its name),
 *   and a config's `enabled` / `permission_policy` equal to the toolset's default. Config entries themselves stay:
 *   the comparable state keys them by name.
 *
 * - `name` → `display_name` when it is not the spec name (a console agent "Triage Bot" becomes `triage-bot` with
 *   `display_name: Triage Bot`, so no rename is planned);
 * - `execution_identity` when it is not the default service account (left out otherwise: the default is kept);
 * - `multiagent` (`multiagent_20261001`) with its rosters by spec name (`multiagentSpec`). A roster naming an agent
 *   that is not exported, or a `coordinator` form, cannot be written by name: `multiagent` is then left out, which
 *   keeps the live value (not drift), with a warning.
 */
import type Anthropic from "@anthropic-ai/sdk";
import { policyName } from "../comparable.js";
import { isLockAgent } from "../lock.js";
import type { ApiObject } from "../types.js";
import type { ExportContext } from "./context.js";
import { commonFields, ownerFromMetadata } from "./context.js";
import { fetchLive, nameFor } from "./fetch.js";
import { toolsetBody, tunnelForm } from "./toolset.js";
import type { ExportedSpec, LiveItem, ResourceExporter, SpecDocument } from "./types.js";

type Obj = Record<string, unknown>;

/** The built-in tools in the order the API documents them; configs are written in this order. */
const BUILT_IN_ORDER = ["bash", "edit", "read", "write", "glob", "grep", "web_fetch", "web_search"];

/** The server's `default_config` of the agent toolset (API-NOTES "Agents"). */
const AGENT_TOOLSET_DEFAULT = { enabled: true, permission_policy: "always_allow" };

/** `model` as the spec writes it (see module comment). */
export function modelSpec(model: unknown): unknown {
  if (typeof model === "string") return model;
  const m = (model ?? {}) as Obj;
  const effort = policyName(m.effort);
  const speed = typeof m.speed === "string" && m.speed !== "standard" ? m.speed : undefined;
  const geo = typeof m.inference_geo === "string" ? m.inference_geo : undefined;
  if (!effort && !speed && !geo) return String(m.id);
  return {
    id: String(m.id),
    ...(effort ? { effort } : {}),
    ...(speed ? { speed } : {}),
    ...(geo ? { inference_geo: geo } : {}),
  };
}

/** Drops `null` values (server-filled "not set"), which the spec schema does not accept. */
function withoutNulls(value: Obj): Obj {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null && v !== undefined));
}

/** An `agent_toolset_20260401` tool (`BetaManagedAgentsAgentToolset20260401`) as spec `tools:` entry. */
export function agentToolsetSpec(tool: Obj): Obj {
  const defaults = (tool.default_config ?? {}) as Obj;
  const enabled = typeof defaults.enabled === "boolean" ? defaults.enabled : AGENT_TOOLSET_DEFAULT.enabled;
  const policy = policyName(defaults.permission_policy) ?? AGENT_TOOLSET_DEFAULT.permission_policy;
  const out: Obj = { type: "agent_toolset_20260401" };
  const defaultConfig: Obj = {};
  if (enabled !== AGENT_TOOLSET_DEFAULT.enabled) defaultConfig.enabled = enabled;
  if (policy !== AGENT_TOOLSET_DEFAULT.permission_policy) defaultConfig.permission_policy = policy;
  if (Object.keys(defaultConfig).length > 0) out.default_config = defaultConfig;
  const rank = (name: string) => {
    const i = BUILT_IN_ORDER.indexOf(name);
    return i === -1 ? BUILT_IN_ORDER.length : i;
  };
  const configs = [...((tool.configs ?? []) as Obj[])].sort((a, b) => rank(String(a.name)) - rank(String(b.name)));
  if (configs.length > 0) {
    out.configs = configs.map((config) => {
      const { name, type: _type, enabled: e, permission_policy: p, ...rest } = config;
      const entry: Obj = { name };
      if (typeof e === "boolean" && e !== enabled) entry.enabled = e;
      const own = policyName(p);
      if (own !== null && own !== policy) entry.permission_policy = own;
      return { ...entry, ...withoutNulls(rest) };
    });
  }
  return out;
}

/** A `custom` tool (`BetaManagedAgentsCustomTool`) as a spec `tools:` entry: the API's fields, unchanged. */
function customToolSpec(tool: Obj): Obj {
  return { type: "custom", name: tool.name, description: tool.description, input_schema: tool.input_schema };
}

/**
 * A live `multiagent_20261001` (SDK `BetaManagedAgentsMultiagent20261001`) as the spec's `multiagent:`: agents by
 * their exported spec names (`self` for `selfId`), a reference older than the agent's current version as
 * `{name, version: latest}` (the spec cannot pin a number), the API's defaults left out.
 * @returns the spec value, or why it cannot be written (a `coordinator` form, an agent that is not exported)
 */
export function multiagentSpec(selfId: string, m: Obj, ctx: ExportContext): Obj | string {
  if (m.type !== "multiagent_20261001")
    return `its multiagent configuration has the "${String(m.type)}" form, which specs do not write (they use multiagent_20261001)`;
  const roster = (list: unknown): unknown[] | string => {
    const out: unknown[] = [];
    for (const ref of (Array.isArray(list) ? list : []) as Obj[]) {
      if (ref.id === selfId) {
        out.push("self");
        continue;
      }
      const target = ctx.exported.get(String(ref.id));
      if (!target) return `its multiagent roster names agent ${String(ref.id)}, which is not exported`;
      out.push(ref.version === target.object.version ? target.name : { name: target.name, version: "latest" });
    }
    return out;
  };
  const out: Obj = {};
  const member = (key: "subagents" | "workflows", value: unknown): string | undefined => {
    const v = (value ?? {}) as Obj;
    if (v.type === "disabled") {
      out[key] = false;
      return undefined;
    }
    const agents = roster(v.predefined_agents);
    if (typeof agents === "string") return agents;
    const inline = (v.inline_agents as Obj | undefined)?.type !== "disabled";
    const fields: Obj = { ...(agents.length > 0 ? { agents } : {}), ...(inline ? {} : { inline_agents: false }) };
    if (key === "subagents") Object.assign(out, fields);
    else if (Object.keys(fields).length > 0) out.workflows = fields;
    return undefined;
  };
  const problem = member("subagents", m.subagents) ?? member("workflows", m.workflows);
  if (problem) return problem;
  const advisor = m.advisor as Obj | undefined;
  if (advisor?.type === "enabled") out.advisor = String(advisor.model);
  return out;
}

/** The spec for one live agent (see the module comment). */
function agentSpec(agent: ApiObject, name: string, ctx: ExportContext): ExportedSpec {
  const address = `agent.${name}`;
  const doc: SpecDocument = { apiVersion: "reconcile/v1", kind: "Agent", name };
  if (agent.name !== name) doc.display_name = String(agent.name);
  if (typeof agent.description === "string" && agent.description !== "") doc.description = agent.description;
  doc.model = modelSpec(agent.model);
  if (typeof agent.system === "string" && agent.system !== "") doc.system = agent.system;

  const tools = (agent.tools ?? []) as Obj[];
  const toolsets: string[] = [];
  for (const server of (agent.mcp_servers ?? []) as Obj[]) {
    const serverName = String(server.name);
    const where = `${address}: MCP server "${serverName}"`;
    const tool = tools.find((t) => t.type === "mcp_toolset" && t.mcp_server_name === serverName);
    const body = toolsetBody(tool, where, (m) => ctx.warn(m));
    const url = String(server.url);
    if (body) toolsets.push(ctx.toolsets.use(serverName, url, body, where, tunnelForm(url, ctx.tunnels())));
  }
  if (toolsets.length > 0) doc.toolsets = toolsets.sort();

  const builtIn = tools.filter((t) => t.type === "agent_toolset_20260401").map(agentToolsetSpec);
  const custom = tools
    .filter((t) => t.type === "custom")
    .sort((a, b) => String(a.name).localeCompare(String(b.name)))
    .map(customToolSpec);
  for (const t of tools) {
    if (t.type !== "agent_toolset_20260401" && t.type !== "custom" && t.type !== "mcp_toolset") {
      ctx.warn(`${address}: tool type "${String(t.type)}" is not supported by the Agent spec and was left out`);
    }
  }
  if (builtIn.length + custom.length > 0) doc.tools = [...builtIn, ...custom];

  const skills = ((agent.skills ?? []) as Obj[]).map((s) => {
    const version = typeof s.version === "string" && s.version !== "latest" ? { version: s.version } : {};
    const spec = s.type === "custom" ? ctx.specNameFor("skill", String(s.skill_id)) : undefined;
    return spec !== undefined ? { skill: spec, ...version } : { type: s.type, skill_id: s.skill_id, ...version };
  });
  if (skills.length > 0) doc.skills = skills;
  const identity = agent.execution_identity as Obj | null | undefined;
  if (identity && identity.type !== "service_account") doc.execution_identity = { ...identity };
  if (agent.multiagent !== null && agent.multiagent !== undefined) {
    const multiagent = multiagentSpec(agent.id, agent.multiagent as Obj, ctx);
    if (typeof multiagent === "string") {
      ctx.warn(`${address}: ${multiagent}; multiagent is left out of the spec, which keeps the live value`);
    } else {
      doc.multiagent = multiagent;
    }
  }
  Object.assign(doc, commonFields(agent.metadata, true, address, ctx));

  return { document: doc, resources: [{ address, id: agent.id, owner: ownerFromMetadata(agent.metadata) }] };
}

/** The `Agent` exporter (`agent_` ids). */
export const agentExporter: ResourceExporter = {
  kind: "Agent",
  type: "agent",
  idPrefixes: ["agent_"],
  async fetch(client: Anthropic, ids, ctx) {
    const agents = await fetchLive(client, "agent", ids, ctx);
    for (const lock of agents.filter((a) => isLockAgent(a.metadata)))
      if (ids) ctx.warn(`agent ${lock.id} is reconcile's apply lock, not a resource; it is not exported`);
    return agents.filter((a) => !isLockAgent(a.metadata)).map((object) => ({ object, children: [] }));
  },
  wantedName: (item: LiveItem) => nameFor(item.object, String(item.object.name), "agent"),
  toSpec: (item, name, ctx) => agentSpec(item.object, name, ctx),
};
