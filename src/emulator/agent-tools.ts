import type {
  BetaManagedAgentsAgent,
  BetaManagedAgentsAgentToolConfig,
  BetaManagedAgentsAgentToolsetDefaultConfig,
  BetaManagedAgentsCustomTool,
  BetaManagedAgentsMCPServerURLDefinition,
  BetaManagedAgentsMCPToolConfig,
  BetaManagedAgentsUserLocation,
  BetaManagedAgentsWebFetchURLSources,
  BetaManagedAgentsWebFetchURLSourceToolFilter,
} from "@anthropic-ai/sdk/resources/beta/agents/agents.js";
import { DEFAULT_SKILL_VERSION, DEFAULT_TOOLSET_ENABLED, DEFAULT_TOOLSET_POLICY } from "./defaults.js";
import {
  arr,
  at,
  bool,
  clone,
  fieldError,
  has,
  httpUrl,
  int,
  isObj,
  type Obj,
  obj,
  oneOf,
  onlyKeys,
  required,
  str,
  tag,
} from "./validate.js";

/**
 * Validation and server defaults for an agent's `tools`, `mcp_servers` and `skills` (SDK `AgentCreateParams`,
 * `BetaManagedAgents*Params` → `BetaManagedAgentsAgent`). Parsers return entries in request order; `agents.ts`
 * stores them reversed.
 */

/** An entry of `BetaManagedAgentsAgent.tools`. */
export type Tool = BetaManagedAgentsAgent["tools"][number];
/** An entry of `BetaManagedAgentsAgent.skills`. */
export type Skill = BetaManagedAgentsAgent["skills"][number];
/** An entry of `BetaManagedAgentsAgent.mcp_servers`. */
export type McpServer = BetaManagedAgentsMCPServerURLDefinition;
type Policy = BetaManagedAgentsAgentToolsetDefaultConfig["permission_policy"];
type ToolsetType = keyof typeof DEFAULT_TOOLSET_POLICY;

/** Maximum `mcp_servers` entries (SDK: "Maximum 20"). */
export const MAX_MCP_SERVERS = 20;
/** Maximum tools across all toolsets (SDK: "Maximum of 256 tools across all toolsets"); counted as documented in `countTools`. */
export const MAX_TOOLS = 256;

const TOOL_TYPES = ["agent_toolset_20260401", "mcp_toolset", "custom"] as const;
const POLICY_TYPES = ["always_allow", "always_ask", "auto"] as const;
const AGENT_TOOL_NAMES = ["bash", "edit", "read", "write", "glob", "grep", "web_fetch", "web_search"] as const;
const MAX_DOMAINS = 64;
const CUSTOM_TOOL_NAME = /^[a-zA-Z0-9_-]{1,128}$/;

function parsePolicy(v: unknown, path: string): Policy {
  const o = obj(v, path);
  const type = tag(o, path, POLICY_TYPES);
  onlyKeys(o, ["type"], path);
  return { type };
}

function parseDefaultConfig(
  v: unknown,
  path: string,
  toolset: ToolsetType,
): BetaManagedAgentsAgentToolsetDefaultConfig {
  const o = v === undefined || v === null ? {} : obj(v, path);
  onlyKeys(o, ["enabled", "permission_policy"], path);
  const enabled =
    o.enabled === undefined || o.enabled === null ? DEFAULT_TOOLSET_ENABLED : bool(o.enabled, at(path, "enabled"));
  const permission_policy =
    o.permission_policy === undefined || o.permission_policy === null
      ? { type: DEFAULT_TOOLSET_POLICY[toolset] }
      : parsePolicy(o.permission_policy, at(path, "permission_policy"));
  return { enabled, permission_policy };
}

/** `enabled` / `permission_policy` of a config entry, falling back to the toolset's filled `default_config`. */
function configBase(o: Obj, path: string, dc: BetaManagedAgentsAgentToolsetDefaultConfig) {
  const enabled = o.enabled === undefined || o.enabled === null ? dc.enabled : bool(o.enabled, at(path, "enabled"));
  const permission_policy =
    o.permission_policy === undefined || o.permission_policy === null
      ? clone(dc.permission_policy)
      : parsePolicy(o.permission_policy, at(path, "permission_policy"));
  return { enabled, permission_policy };
}

function parseDomains(v: unknown, path: string, allowPath: boolean): string[] {
  const list = arr(v, path, MAX_DOMAINS);
  if (list.length === 0) throw fieldError(path, "List should have at least 1 item; omit the field instead");
  return list.map((d, i) => {
    const p = at(path, i);
    const s = str(d, p, { min: 1, max: 253 + (allowPath ? 2048 : 0) });
    const host = allowPath ? (s.split("/")[0] ?? "") : s;
    if (s.includes("://") || host.includes(":") || /\s/.test(s) || host === "" || (!allowPath && s.includes("/"))) {
      throw fieldError(p, `Input should be a plain hostname (no scheme, port${allowPath ? "" : " or path"})`);
    }
    return s;
  });
}

function parseToolFilter(
  v: unknown,
  path: string,
  userInput: boolean,
): BetaManagedAgentsWebFetchURLSourceToolFilter | null {
  if (v === undefined || v === null) return null;
  const kinds = userInput ? (["all", "none"] as const) : (["all", "none", "only", "except"] as const);
  if (typeof v === "string") return { type: oneOf(v, path, ["all", "none"] as const) };
  const o = obj(v, path);
  const type = tag(o, path, kinds);
  if (type === "all" || type === "none") {
    onlyKeys(o, ["type"], path);
    return { type };
  }
  onlyKeys(o, ["type", "tools"], path);
  const list = arr(required(o, "tools", path), at(path, "tools"), 128);
  if (list.length === 0) throw fieldError(at(path, "tools"), "List should have at least 1 item");
  const seen = new Set<string>();
  const tools = list.map((t, i) => {
    const p = at(at(path, "tools"), i);
    const to = obj(t, p);
    tag(to, p, ["tool_reference"] as const);
    onlyKeys(to, ["type", "name"], p);
    const name = str(required(to, "name", p), at(p, "name"), { min: 1, max: 128 });
    if (seen.has(name)) throw fieldError(at(p, "name"), `duplicate tool name '${name}'`);
    seen.add(name);
    return { type: "tool_reference" as const, name };
  });
  return { type, tools };
}

function parseUrlSources(v: unknown, path: string): BetaManagedAgentsWebFetchURLSources | null {
  if (v === undefined || v === null) return null;
  const o = obj(v, path);
  onlyKeys(o, ["client_tool_results", "server_tool_results", "user_input"], path);
  const sources = {
    client_tool_results: parseToolFilter(o.client_tool_results, at(path, "client_tool_results"), false),
    server_tool_results: parseToolFilter(o.server_tool_results, at(path, "server_tool_results"), false),
    user_input: parseToolFilter(
      o.user_input,
      at(path, "user_input"),
      true,
    ) as BetaManagedAgentsWebFetchURLSources["user_input"],
  };
  if (Object.values(sources).every((s) => s?.type === "none")) {
    throw fieldError(
      path,
      "setting client_tool_results, server_tool_results and user_input all to 'none' is not allowed",
    );
  }
  const server = sources.server_tool_results;
  if (server && (server.type === "only" || server.type === "except")) {
    server.tools.forEach((t, i) => {
      if (t.name !== "web_search" && t.name !== "web_fetch") {
        throw fieldError(
          at(at(at(path, "server_tool_results"), "tools"), i),
          "name should be 'web_search' or 'web_fetch'",
        );
      }
    });
  }
  return sources;
}

function parseUserLocation(v: unknown, path: string): BetaManagedAgentsUserLocation | null {
  if (v === null) return null;
  const o = obj(v, path);
  tag(o, path, ["approximate"] as const);
  onlyKeys(o, ["type", "city", "country", "region", "timezone"], path);
  const out: BetaManagedAgentsUserLocation = { type: "approximate" };
  for (const k of ["city", "country", "region", "timezone"] as const) {
    if (!has(o, k)) continue;
    const value = o[k];
    if (value === null) out[k] = null;
    else if (k === "country") {
      const c = str(value, at(path, k));
      if (!/^[A-Z]{2}$/.test(c))
        throw fieldError(at(path, k), "Input should be a two-letter uppercase ISO 3166-1 country code");
      out[k] = c;
    } else out[k] = str(value, at(path, k), { min: 1, max: 255 });
  }
  return out;
}

function parseAgentToolConfig(
  v: unknown,
  path: string,
  dc: BetaManagedAgentsAgentToolsetDefaultConfig,
): BetaManagedAgentsAgentToolConfig {
  const o = obj(v, path);
  const name = oneOf(required(o, "name", path), at(path, "name"), AGENT_TOOL_NAMES);
  const base = ["name", "type", "enabled", "permission_policy"];
  const extra =
    name === "web_fetch"
      ? ["allowed_domains", "blocked_domains", "max_content_tokens", "url_sources"]
      : name === "web_search"
        ? ["allowed_domains", "blocked_domains", "user_location"]
        : [];
  onlyKeys(o, [...base, ...extra], path);
  if (has(o, "type")) oneOf(o.type, at(path, "type"), [name]);
  const { enabled, permission_policy } = configBase(o, path, dc);
  if (name !== "web_fetch" && name !== "web_search") {
    return { name, type: name, enabled, permission_policy } as BetaManagedAgentsAgentToolConfig;
  }
  if (has(o, "allowed_domains") && has(o, "blocked_domains")) {
    throw fieldError(path, "allowed_domains and blocked_domains cannot be combined");
  }
  const domains: { allowed_domains?: string[]; blocked_domains?: string[] } = {};
  for (const k of ["allowed_domains", "blocked_domains"] as const) {
    if (has(o, k)) domains[k] = parseDomains(o[k], at(path, k), name === "web_search");
  }
  if (name === "web_search") {
    const out: BetaManagedAgentsAgentToolConfig = { name, type: name, enabled, permission_policy, ...domains };
    if (has(o, "user_location")) out.user_location = parseUserLocation(o.user_location, at(path, "user_location"));
    return out;
  }
  const out: BetaManagedAgentsAgentToolConfig = {
    name,
    type: name,
    enabled,
    permission_policy,
    ...domains,
    url_sources: parseUrlSources(o.url_sources, at(path, "url_sources")),
  };
  if (has(o, "max_content_tokens")) {
    out.max_content_tokens =
      o.max_content_tokens === null ? null : int(o.max_content_tokens, at(path, "max_content_tokens"), 1);
  }
  return out;
}

function parseMcpToolConfig(
  v: unknown,
  path: string,
  dc: BetaManagedAgentsAgentToolsetDefaultConfig,
): BetaManagedAgentsMCPToolConfig {
  const o = obj(v, path);
  onlyKeys(o, ["name", "enabled", "permission_policy"], path);
  const name = str(required(o, "name", path), at(path, "name"), { min: 1, max: 128 });
  return { name, ...configBase(o, path, dc) };
}

/** Parses `configs` (request order), rejecting two entries for the same tool name. */
function parseConfigs<T extends { name: string }>(v: unknown, path: string, parse: (v: unknown, p: string) => T): T[] {
  if (v === undefined) return [];
  const seen = new Set<string>();
  return arr(v, path).map((entry, i) => {
    const c = parse(entry, at(path, i));
    if (seen.has(c.name)) throw fieldError(at(at(path, i), "name"), `duplicate config for tool '${c.name}'`);
    seen.add(c.name);
    return c;
  });
}

function parseCustomTool(o: Obj, path: string): BetaManagedAgentsCustomTool {
  onlyKeys(o, ["type", "name", "description", "input_schema"], path);
  const name = str(required(o, "name", path), at(path, "name"), { min: 1, max: 128 });
  if (!CUSTOM_TOOL_NAME.test(name))
    throw fieldError(at(path, "name"), "String should match pattern '^[a-zA-Z0-9_-]{1,128}$'");
  const description = str(required(o, "description", path), at(path, "description"), { min: 1 });
  const sp = at(path, "input_schema");
  const schema = obj(required(o, "input_schema", path), sp);
  oneOf(required(schema, "type", sp), at(sp, "type"), ["object"] as const);
  if (schema.properties !== undefined && schema.properties !== null && !isObj(schema.properties)) {
    throw fieldError(at(sp, "properties"), "Input should be a valid object");
  }
  if (schema.required !== undefined && schema.required !== null) {
    arr(schema.required, at(sp, "required")).forEach((r, i) => {
      str(r, at(at(sp, "required"), i));
    });
  }
  return {
    type: "custom",
    name,
    description,
    input_schema: clone(schema) as BetaManagedAgentsCustomTool["input_schema"],
  };
}

/**
 * One `tools[]` entry with its defaults filled: each toolset's `default_config` (`enabled: true`, policy
 * `always_allow` for the agent toolset, `always_ask` for MCP toolsets), each config's missing `enabled` /
 * `permission_policy` from that default, agent-toolset configs' `type` = their `name`. A toolset's `configs` are
 * returned reversed (see `agents.ts` on order).
 */
export function parseTool(v: unknown, path: string): Tool {
  const o = obj(v, path);
  const type = tag(o, path, TOOL_TYPES);
  if (type === "custom") return parseCustomTool(o, path);
  if (type === "agent_toolset_20260401") {
    onlyKeys(o, ["type", "configs", "default_config"], path);
    const dc = parseDefaultConfig(o.default_config, at(path, "default_config"), type);
    const configs = parseConfigs(o.configs, at(path, "configs"), (c, p) => parseAgentToolConfig(c, p, dc));
    return { type, default_config: dc, configs: configs.reverse() };
  }
  onlyKeys(o, ["type", "mcp_server_name", "configs", "default_config"], path);
  const mcp_server_name = str(required(o, "mcp_server_name", path), at(path, "mcp_server_name"), { min: 1, max: 255 });
  const dc = parseDefaultConfig(o.default_config, at(path, "default_config"), type);
  const configs = parseConfigs(o.configs, at(path, "configs"), (c, p) => parseMcpToolConfig(c, p, dc));
  return { type, mcp_server_name, default_config: dc, configs: configs.reverse() };
}

/**
 * How many tools a `tools` list declares, for the 256 limit: a custom tool counts 1, a toolset counts its
 * `configs` entries (the tools it names; the server cannot know how many tools an MCP server will offer).
 */
export function countTools(tools: readonly Tool[]): number {
  return tools.reduce((n, t) => n + (t.type === "custom" ? 1 : t.configs.length), 0);
}

/**
 * `tools` as sent (request order), `null` → `[]`. Rejects unknown types, a second agent toolset, two MCP toolsets
 * for one server, two custom tools with one name, and more than `MAX_TOOLS` tools.
 */
export function parseTools(v: unknown, path = "tools"): Tool[] {
  if (v === null) return [];
  const tools = arr(v, path).map((t, i) => parseTool(t, at(path, i)));
  const seen = new Set<string>();
  tools.forEach((t, i) => {
    const key = toolKey(t);
    if (seen.has(key)) {
      const p = at(path, i);
      if (t.type === "agent_toolset_20260401")
        throw fieldError(at(p, "type"), "only one agent_toolset_20260401 is allowed");
      if (t.type === "mcp_toolset") {
        throw fieldError(at(p, "mcp_server_name"), `duplicate mcp_toolset for MCP server '${t.mcp_server_name}'`);
      }
      throw fieldError(at(p, "name"), `duplicate custom tool name '${t.name}'`);
    }
    seen.add(key);
  });
  const count = countTools(tools);
  if (count > MAX_TOOLS) {
    throw fieldError(
      path,
      `at most ${MAX_TOOLS} tools are allowed across all toolsets; this request declares ${count}`,
    );
  }
  return tools;
}

/** A stable identity for a tool entry (type plus server or tool name), used for duplicates and order-free comparison. */
export function toolKey(t: Tool): string {
  if (t.type === "mcp_toolset") return `mcp_toolset:${t.mcp_server_name}`;
  if (t.type === "custom") return `custom:${t.name}`;
  return t.type;
}

/** `mcp_servers` as sent (request order), `null` → `[]`. At most 20, names unique, `{type:"url", name, url}`. */
export function parseMcpServers(v: unknown, path = "mcp_servers"): McpServer[] {
  if (v === null) return [];
  const list = arr(v, path);
  if (list.length > MAX_MCP_SERVERS) {
    throw fieldError(path, `at most ${MAX_MCP_SERVERS} MCP servers are allowed; this request has ${list.length}`);
  }
  const names = new Set<string>();
  return list.map((entry, i) => {
    const p = at(path, i);
    const o = obj(entry, p);
    tag(o, p, ["url"] as const);
    onlyKeys(o, ["type", "name", "url"], p);
    const name = str(required(o, "name", p), at(p, "name"), { min: 1, max: 255 });
    if (names.has(name)) throw fieldError(at(p, "name"), `duplicate MCP server name '${name}'`);
    names.add(name);
    return { type: "url" as const, name, url: httpUrl(required(o, "url", p), at(p, "url")) };
  });
}

/**
 * Cross-checks the resulting `tools` and `mcp_servers` (SDK: "Every server must be referenced by an `mcp_toolset`
 * in the agent's resulting `tools`; unreferenced servers are rejected"; an `mcp_toolset` must name a server of
 * `mcp_servers`). Indices in messages are those of the arrays given (the request's when they were sent).
 */
export function checkToolServerReferences(tools: readonly Tool[], servers: readonly McpServer[]): void {
  const serverNames = new Set(servers.map((s) => s.name));
  const referenced = new Set<string>();
  tools.forEach((t, i) => {
    if (t.type !== "mcp_toolset") return;
    if (!serverNames.has(t.mcp_server_name)) {
      throw fieldError(
        `tools.${i}.mcp_server_name`,
        `no MCP server named '${t.mcp_server_name}' in mcp_servers; an mcp_toolset must name one of the agent's mcp_servers`,
      );
    }
    referenced.add(t.mcp_server_name);
  });
  servers.forEach((s, i) => {
    if (!referenced.has(s.name)) {
      throw fieldError(
        `mcp_servers.${i}.name`,
        `MCP server '${s.name}' is not referenced by any mcp_toolset (no tools[].mcp_server_name names it); unreferenced servers are rejected`,
      );
    }
  });
}

/** `skills` as sent, `null` → `[]`; a missing `version` becomes `"latest"`; one entry per `skill_id`. */
export function parseSkills(v: unknown, path = "skills"): Skill[] {
  if (v === null) return [];
  const ids = new Set<string>();
  return arr(v, path).map((entry, i) => {
    const p = at(path, i);
    const o = obj(entry, p);
    const type = tag(o, p, ["anthropic", "custom"] as const);
    onlyKeys(o, ["type", "skill_id", "version"], p);
    const skill_id = str(required(o, "skill_id", p), at(p, "skill_id"), { min: 1, max: 255 });
    if (ids.has(skill_id)) throw fieldError(at(p, "skill_id"), `duplicate skill '${skill_id}'`);
    ids.add(skill_id);
    const version =
      o.version === undefined || o.version === null
        ? DEFAULT_SKILL_VERSION
        : str(o.version, at(p, "version"), { min: 1 });
    return { type, skill_id, version };
  });
}

/** Checks `web_fetch` `url_sources.client_tool_results` names against the custom tools of the same `tools` list. */
export function checkUrlSourceToolNames(tools: readonly Tool[], path = "tools"): void {
  const custom = new Set(tools.flatMap((t) => (t.type === "custom" ? [t.name] : [])));
  tools.forEach((t, i) => {
    if (t.type !== "agent_toolset_20260401") return;
    for (const c of t.configs) {
      if (c.name !== "web_fetch" || !c.url_sources) continue;
      const f = c.url_sources.client_tool_results;
      if (!f || (f.type !== "only" && f.type !== "except")) continue;
      for (const ref of f.tools) {
        if (!custom.has(ref.name)) {
          throw fieldError(
            `${path}.${i}.configs`,
            `web_fetch url_sources.client_tool_results names '${ref.name}', which is not a custom tool of this agent`,
          );
        }
      }
    }
  });
}
