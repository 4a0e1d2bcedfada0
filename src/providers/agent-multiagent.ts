/**
 * An agent's `multiagent` field, both ways: the SDK params a resolved spec sends (`BetaManagedAgentsMultiagentParams`,
 * always the recommended `multiagent_20261001` form with every member written out) and the comparable form of either
 * those params or a live `BetaManagedAgentsMultiagent` (`coordinator` or `multiagent_20261001`).
 *
 * A roster entry naming another Agent spec becomes `{type: "agent", id, version}` with `OutputRef`s to that agent's
 * `id` and `version` (`src/providers/refs.ts`), so the engine applies the called agent first and repoints this one in
 * the same apply whenever the called agent's version changes. `version: latest` sends no version: the API resolves
 * the called agent's current version when this agent is saved, and that version is then the server's choice
 * (`latestVersionPaths`, not drift).
 */
import type { ResolvedAgentRef, ResolvedMultiagent, ResolvedMultiagentMember } from "../spec/types.js";
import { outputRef } from "./refs.js";
import { addressOf } from "./resource.js";
import type { Json } from "./types.js";

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function refParams(ref: ResolvedAgentRef): Obj {
  if ("self" in ref) return { type: "self" };
  const address = addressOf("agent", ref.agent);
  return {
    type: "agent",
    id: outputRef(address),
    ...(ref.version === "current" ? { version: outputRef(address, "version") } : {}),
  };
}

function memberParams(m: ResolvedMultiagentMember): Obj {
  if (!m.enabled) return { type: "disabled" };
  return {
    type: "enabled",
    inline_agents: { type: m.inline_agents ? "enabled" : "disabled" },
    predefined_agents: m.agents.map(refParams),
  };
}

/**
 * The SDK's `multiagent` param for a resolved spec: `null` for `multiagent: false`, else a complete
 * `multiagent_20261001` (advisor, subagents, workflows all sent, so the API's merge with the stored value on update
 * leaves exactly this).
 */
export function multiagentParams(m: ResolvedMultiagent | null): Obj | null {
  if (m === null) return null;
  return {
    type: "multiagent_20261001",
    advisor: m.advisor === null ? { type: "disabled" } : { type: "enabled", model: m.advisor },
    subagents: memberParams(m.subagents),
    workflows: memberParams(m.workflows),
  };
}

/**
 * State paths of the roster entries written `version: latest`: their version is whatever the API resolved when the
 * agent was saved (`DesiredResource.serverChosen`). Paths as the diff writes them:
 * `multiagent.subagents.predefined_agents["0"].version`.
 */
export function latestVersionPaths(m: ResolvedMultiagent | null | undefined): string[] {
  if (!m) return [];
  const paths: string[] = [];
  for (const key of ["subagents", "workflows"] as const) {
    const member = m[key];
    if (!member.enabled) continue;
    for (const [i, ref] of member.agents.entries()) {
      if ("agent" in ref && ref.version === "latest") paths.push(`multiagent.${key}.predefined_agents["${i}"].version`);
    }
  }
  return paths;
}

/** One roster entry: `"self"` for this agent (`{type:"self"}`, or its own id in a live object), else `{id, version?}`. */
function refState(entry: unknown, selfId: string | undefined): Json {
  if (typeof entry === "string") return entry === selfId ? "self" : { id: entry };
  if (!isObj(entry)) return null;
  if (entry.type === "self" || (selfId !== undefined && entry.id === selfId)) return "self";
  if (entry.type === "advisor") return { advisor: String(entry.model) };
  const out: { [key: string]: Json } = { id: entry.id as Json };
  if (entry.version !== undefined && entry.version !== null) out.version = entry.version as Json;
  return out;
}

/** A roster as a map keyed by position (`"0"`, `"1"`): a change names the entry, and the order is the API's. */
function roster(list: unknown, selfId: string | undefined): Json {
  const out: { [key: string]: Json } = {};
  for (const [i, entry] of (Array.isArray(list) ? list : []).entries()) out[String(i)] = refState(entry, selfId);
  return out;
}

/** `subagents`/`workflows`: omitted or `null` is the API's default (enabled, inline agents, no saved agents). */
function memberState(m: unknown, selfId: string | undefined): Json {
  if (isObj(m) && m.type === "disabled") return { enabled: false };
  const o = isObj(m) ? m : {};
  const inline = isObj(o.inline_agents) ? o.inline_agents.type !== "disabled" : true;
  return { enabled: true, inline_agents: inline, predefined_agents: roster(o.predefined_agents, selfId) };
}

/**
 * The comparable form of `multiagent`, from SDK params or a live agent (`selfId`: the live agent's id, whose
 * references are `"self"`; the API resolves `{type:"self"}` to the agent's own id and version). `null` stays `null`.
 * `multiagent_20261001` → `{type, advisor: model | null, subagents, workflows}`, each member
 * `{enabled, inline_agents, predefined_agents}` or `{enabled: false}`; `coordinator` → `{type, agents}`.
 */
export function multiagentState(m: unknown, selfId: string | undefined): Json {
  if (!isObj(m)) return null;
  if (m.type === "coordinator") return { type: "coordinator", agents: roster(m.agents, selfId) };
  const advisor = isObj(m.advisor) && m.advisor.type === "enabled" ? String(m.advisor.model) : null;
  return {
    type: String(m.type),
    advisor,
    subagents: memberState(m.subagents, selfId),
    workflows: memberState(m.workflows, selfId),
  };
}
