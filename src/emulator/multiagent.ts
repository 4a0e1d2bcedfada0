import type {
  BetaManagedAgentsAdvisor,
  BetaManagedAgentsAgent,
  BetaManagedAgentsAgentReference,
  BetaManagedAgentsMultiagent20261001,
  BetaManagedAgentsMultiagentSubagents,
  BetaManagedAgentsSessionThreadAgent,
} from "@anthropic-ai/sdk/resources/beta/agents/agents.js";
import type {
  BetaManagedAgentsMultiagent,
  BetaManagedAgentsSessionMultiagent,
} from "@anthropic-ai/sdk/resources/beta/sessions/sessions.js";
import { modelRow } from "./models.js";
import type { Workspace } from "./store.js";
import { arr, at, clone, fieldError, has, type Obj, obj, onlyKeys, required, str, tag } from "./validate.js";

/**
 * An agent's `multiagent` field (SDK `BetaManagedAgentsMultiagentParams` → `BetaManagedAgentsMultiagent`):
 * `coordinator` with an `agents` roster, or `multiagent_20261001` with `advisor` / `subagents` / `workflows`.
 * Roster entries resolve to concrete `{type:"agent", id, version}` references at save time.
 */

/** The stored form. */
export type Multiagent = BetaManagedAgentsMultiagent;

/** An advisor's model id, checked against the model table (`models.ts`). @throws 400 for an unknown id. */
function advisorModel(v: unknown, path: string): string {
  const id = str(v, path, { min: 1 });
  modelRow(id, path);
  return id;
}

/** The agent being written: `self` entries resolve to it. */
export interface SelfRef {
  id: string;
  version: number;
}

const MAX_ROSTER = 20;

function resolveAgentRef(
  entry: unknown,
  path: string,
  ws: Workspace,
  self: SelfRef,
  coordinator: boolean,
): BetaManagedAgentsAgentReference {
  let id: string;
  let version: number | undefined;
  if (typeof entry === "string") id = entry;
  else {
    const o = obj(entry, path);
    const type = tag(o, path, ["agent", "self"] as const);
    if (type === "self") {
      onlyKeys(o, ["type"], path);
      return { type: "agent", id: self.id, version: self.version };
    }
    onlyKeys(o, ["type", "id", "version"], path);
    id = str(required(o, "id", path), at(path, "id"), { min: 1 });
    if (has(o, "version")) {
      const v = o.version;
      if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
        throw fieldError(at(path, "version"), "Input should be an integer greater than or equal to 1");
      }
      version = v;
    }
  }
  if (id === self.id) return { type: "agent", id, version: version ?? self.version };
  const rec = ws.agents.get(id);
  if (!rec) throw fieldError(path, `agent '${id}' not found`);
  if (rec.agent.archived_at !== null) throw fieldError(path, `agent '${id}' is archived`);
  if (coordinator && rec.agent.multiagent !== null) {
    throw fieldError(path, `agent '${id}' has multiagent set itself; rosters are limited to depth 1`);
  }
  if (version !== undefined && version > rec.agent.version) {
    throw fieldError(at(path, "version"), `agent '${id}' has no version ${version}`);
  }
  return { type: "agent", id, version: version ?? rec.agent.version };
}

function parseCoordinator(o: Obj, path: string, ws: Workspace, self: SelfRef): Multiagent {
  onlyKeys(o, ["type", "agents"], path);
  const list = arr(required(o, "agents", path), at(path, "agents"), MAX_ROSTER);
  if (list.length === 0) throw fieldError(at(path, "agents"), "List should have at least 1 item");
  const seen = new Set<string>();
  const agents = list.map((entry, i): BetaManagedAgentsAgentReference | BetaManagedAgentsAdvisor => {
    const p = at(at(path, "agents"), i);
    if (typeof entry !== "string" && obj(entry, p).type === "advisor") {
      const a = obj(entry, p);
      onlyKeys(a, ["type", "model"], p);
      return { type: "advisor", model: advisorModel(required(a, "model", p), at(p, "model")) };
    }
    const ref = resolveAgentRef(entry, p, ws, self, true);
    if (seen.has(ref.id)) throw fieldError(p, `agent '${ref.id}' appears more than once in the roster`);
    seen.add(ref.id);
    return ref;
  });
  return { type: "coordinator", agents };
}

type Member = BetaManagedAgentsMultiagentSubagents;

function defaultMember(): Member {
  return { type: "enabled", inline_agents: { type: "enabled" }, predefined_agents: [] };
}

/** `subagents` / `workflows`: omitted keeps `stored`, `null` takes the default, an object merges per the SDK. */
function parseMember(v: unknown, path: string, stored: Member | undefined, ws: Workspace, self: SelfRef): Member {
  if (v === undefined) return stored ? clone(stored) : defaultMember();
  if (v === null) return defaultMember();
  const o = obj(v, path);
  const type = tag(o, path, ["enabled", "disabled"] as const);
  if (type === "disabled") {
    onlyKeys(o, ["type"], path);
    return { type };
  }
  onlyKeys(o, ["type", "inline_agents", "predefined_agents"], path);
  const base = stored?.type === "enabled" ? stored : undefined;
  let inline_agents = base ? clone(base.inline_agents) : { type: "enabled" as const };
  if (has(o, "inline_agents")) {
    if (o.inline_agents === null) inline_agents = { type: "enabled" };
    else {
      const ip = at(path, "inline_agents");
      const io = obj(o.inline_agents, ip);
      inline_agents = { type: tag(io, ip, ["enabled", "disabled"] as const) };
      onlyKeys(io, ["type"], ip);
    }
  }
  let predefined_agents = base ? clone(base.predefined_agents) : [];
  if (has(o, "predefined_agents")) {
    const pp = at(path, "predefined_agents");
    const seen = new Set<string>();
    predefined_agents =
      o.predefined_agents === null
        ? []
        : arr(o.predefined_agents, pp, MAX_ROSTER).map((e, i) => {
            const ref = resolveAgentRef(e, at(pp, i), ws, self, false);
            if (seen.has(ref.id)) throw fieldError(at(pp, i), `agent '${ref.id}' appears more than once`);
            seen.add(ref.id);
            return ref;
          });
  }
  if (inline_agents.type === "disabled" && predefined_agents.length === 0) {
    throw fieldError(at(path, "predefined_agents"), "must name at least one agent when inline_agents is disabled");
  }
  return { type, inline_agents, predefined_agents };
}

function parseMultiagent20261001(
  o: Obj,
  path: string,
  ws: Workspace,
  self: SelfRef,
  stored: Multiagent | null,
): BetaManagedAgentsMultiagent20261001 {
  onlyKeys(o, ["type", "advisor", "subagents", "workflows"], path);
  const base = stored?.type === "multiagent_20261001" ? stored : undefined;
  let advisor: BetaManagedAgentsMultiagent20261001["advisor"] = base ? clone(base.advisor) : { type: "disabled" };
  if (has(o, "advisor")) {
    if (o.advisor === null) advisor = { type: "disabled" };
    else {
      const ap = at(path, "advisor");
      const ao = obj(o.advisor, ap);
      const type = tag(ao, ap, ["enabled", "disabled"] as const);
      if (type === "disabled") {
        onlyKeys(ao, ["type"], ap);
        advisor = { type };
      } else {
        onlyKeys(ao, ["type", "model"], ap);
        advisor = { type, model: advisorModel(required(ao, "model", ap), at(ap, "model")) };
      }
    }
  }
  return {
    type: "multiagent_20261001",
    advisor,
    subagents: parseMember(o.subagents, at(path, "subagents"), base?.subagents, ws, self),
    workflows: parseMember(o.workflows, at(path, "workflows"), base?.workflows, ws, self),
  };
}

/**
 * Parses `multiagent`. `null` → `null`. On update, a `multiagent_20261001` sent over a stored one of the same type
 * merges level by level (SDK `BetaManagedAgentsMultiagent20261001Params`): omitted keys keep their stored value,
 * `null` takes the default, a `predefined_agents` list sent replaces the stored list.
 *
 * @param self the agent being written (its id and the version this write creates).
 * @throws 400 naming the entry for unknown or archived agents, duplicates, or nested multiagent rosters.
 */
export function parseMultiagent(
  v: unknown,
  path: string,
  ws: Workspace,
  self: SelfRef,
  stored: Multiagent | null,
): Multiagent | null {
  if (v === null) return null;
  const o = obj(v, path);
  const type = tag(o, path, ["coordinator", "multiagent_20261001"] as const);
  return type === "coordinator"
    ? parseCoordinator(o, path, ws, self)
    : parseMultiagent20261001(o, path, ws, self, stored);
}

/** `m` with references to `selfId` stripped of their version, so re-saving an agent does not count as a change. */
export function withoutSelfVersions(m: Multiagent | null, selfId: string): unknown {
  if (m === null) return null;
  const strip = (r: { type: string; id?: string; version?: number }) => (r.id === selfId ? { ...r, version: 0 } : r);
  if (m.type === "coordinator") return { ...m, agents: m.agents.map(strip) };
  const member = (x: Member) =>
    x.type === "enabled" ? { ...x, predefined_agents: x.predefined_agents.map(strip) } : x;
  return { ...m, subagents: member(m.subagents), workflows: member(m.workflows) };
}

/** The full definition of one roster agent at its referenced version, as a session copies it. */
function threadAgent(ws: Workspace, ref: BetaManagedAgentsAgentReference): BetaManagedAgentsSessionThreadAgent {
  const rec = ws.agents.get(ref.id);
  const a = rec?.versions[ref.version - 1];
  if (!a)
    throw fieldError("agent", `agent '${ref.id}' version ${ref.version} of the multiagent roster no longer exists`);
  return clone(agentDefinition(a));
}

/**
 * The definition of agent version `a` as sessions copy it (SDK `BetaManagedAgentsSessionThreadAgent`, and the fields
 * of `BetaManagedAgentsSessionAgent` besides `multiagent`), sharing structure with `a`: clone it before serving.
 */
export function agentDefinition(a: BetaManagedAgentsAgent): BetaManagedAgentsSessionThreadAgent {
  return {
    type: "agent",
    id: a.id,
    version: a.version,
    name: a.name,
    description: a.description,
    system: a.system,
    model: a.model,
    tools: a.tools,
    mcp_servers: a.mcp_servers,
    skills: a.skills,
    execution_identity: a.execution_identity,
  };
}

/**
 * The multiagent configuration a session copies from its agent (SDK `BetaManagedAgentsSessionMultiagent`): every
 * roster reference expanded to the full definition of that agent version (`BetaManagedAgentsSessionThreadAgent`).
 * The emulator runs the primary thread only; its scripts never spawn threads or workflow runs.
 */
export function sessionMultiagent(m: Multiagent | null, ws: Workspace): BetaManagedAgentsSessionMultiagent | null {
  if (m === null) return null;
  if (m.type === "coordinator") {
    return {
      type: "coordinator",
      agents: m.agents.map((entry) => (entry.type === "advisor" ? clone(entry) : threadAgent(ws, entry))),
    };
  }
  const member = <T extends Member>(x: T) =>
    x.type === "enabled"
      ? { ...clone(x), predefined_agents: x.predefined_agents.map((r) => threadAgent(ws, r)) }
      : { type: "disabled" as const };
  return { type: m.type, advisor: clone(m.advisor), subagents: member(m.subagents), workflows: member(m.workflows) };
}
