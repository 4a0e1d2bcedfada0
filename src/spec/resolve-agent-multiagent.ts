/**
 * An Agent spec's `multiagent:`: the agents it may call, by spec name (schemas/agent.schema.json
 * `#/$defs/multiagent`), resolved to `ResolvedMultiagent` with every API default filled in, and the checks that need
 * the whole repository: unknown names and cycles.
 *
 * The spec form maps onto the API's recommended `multiagent_20261001` (SDK `BetaManagedAgentsMultiagent20261001Params`:
 * "Recommendation: use `multiagent_20261001` instead of `coordinator`"): `agents`/`inline_agents`/`subagents` are its
 * `subagents` member, `workflows` its `workflows` member, `advisor` its `advisor`. The API's defaults (subagents and
 * workflows enabled with inline agents, no advisor) are written out here, so the provider always sends the whole
 * configuration and the API's level-by-level merge on update cannot keep a stale value.
 *
 * A reference to another agent needs that agent's id and version first, so `a` calling `b` orders `b` before `a`;
 * `a -> b -> a` (or `a -> a`) can never be applied and is refused here, where the cycle can be named at its file
 * position (the plan refuses any other cycle of `depends_on`, docs/engine contract). `self` is the API's own way to
 * let an agent spawn copies of itself (`BetaManagedAgentsMultiagentSelfParams`).
 */
import type { agent } from "../generated/index.js";
import { atPath, type DataPath, locate } from "./position.js";
import { didYouMean } from "./suggest.js";
import type { ResolvedAgentRef, ResolvedMultiagent, ResolvedMultiagentMember, SpecError } from "./types.js";
import type { ValidatedSpec } from "./validate.js";

type AgentDoc = Extract<ValidatedSpec, { kind: "Agent" }>;

function errorAt(spec: AgentDoc, path: DataPath, message: string): SpecError {
  return {
    location: locate(spec.document, path),
    kind: spec.kind,
    name: spec.spec.name,
    message: atPath(path, message),
  };
}

/** One named agent of a roster with where it is written: `["multiagent", "agents", 0]`. */
interface RosterEntry {
  name: string;
  path: DataPath;
}

/** The entries of one spec list (`multiagent.agents` or `multiagent.workflows.agents`) that name another agent. */
function namedEntries(list: agent.MultiagentAgentList | undefined, base: DataPath): RosterEntry[] {
  const out: RosterEntry[] = [];
  for (const [index, entry] of (list ?? []).entries()) {
    if (entry === "self") continue;
    out.push({ name: typeof entry === "string" ? entry : entry.name, path: [...base, index] });
  }
  return out;
}

/** Every other agent `spec` names in its `multiagent:`, in file order (session threads first, then workflows). */
export function rosterEntries(spec: AgentDoc): RosterEntry[] {
  const m = spec.spec.multiagent;
  if (m === undefined || m === false) return [];
  const workflows = typeof m.workflows === "object" ? m.workflows.agents : undefined;
  return [
    ...namedEntries(m.agents, ["multiagent", "agents"]),
    ...namedEntries(workflows, ["multiagent", "workflows", "agents"]),
  ];
}

function refOf(entry: agent.MultiagentAgentRef): ResolvedAgentRef {
  if (entry === "self") return { self: true };
  if (typeof entry === "string") return { agent: entry, version: "current" };
  return { agent: entry.name, version: entry.version ?? "current" };
}

/** One member (`subagents`/`workflows`): enabled unless `false`; duplicates and an empty non-inline roster refused. */
function member(
  spec: AgentDoc,
  enabled: boolean,
  list: agent.MultiagentAgentList | undefined,
  inline: boolean | undefined,
  base: DataPath,
  errors: SpecError[],
): ResolvedMultiagentMember {
  if (!enabled) return { enabled: false };
  const agents = (list ?? []).map(refOf);
  const seen = new Map<string, number>();
  for (const [index, ref] of agents.entries()) {
    const key = "self" in ref ? "self" : ref.agent;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, index);
    else {
      const line = locate(spec.document, [...base, "agents", first]).line;
      errors.push(errorAt(spec, [...base, "agents", index], `"${key}" is listed twice (first at line ${line})`));
    }
  }
  const inline_agents = inline ?? true;
  if (!inline_agents && agents.length === 0) {
    errors.push(
      errorAt(
        spec,
        [...base, "inline_agents"],
        "with `inline_agents: false`, `agents` must name at least one agent (the API's rule: otherwise nothing could run)",
      ),
    );
  }
  return { enabled: true, inline_agents, agents };
}

/**
 * The resolved `multiagent:` of one Agent spec: `undefined` when the spec says nothing, `null` for `false`. Reports,
 * at the entry: a name listed twice in one list; `inline_agents: false` with no `agents`; `agents` or
 * `inline_agents` next to `subagents: false`. Names are not looked up
 * here (see `multiagentReferenceErrors`).
 */
export function resolveMultiagent(spec: AgentDoc): { value?: ResolvedMultiagent | null; errors: SpecError[] } {
  const m = spec.spec.multiagent;
  const errors: SpecError[] = [];
  if (m === undefined) return { errors };
  if (m === false) return { value: null, errors };
  if (m.subagents === false && (m.agents !== undefined || m.inline_agents !== undefined)) {
    const key = m.agents !== undefined ? "agents" : "inline_agents";
    errors.push(
      errorAt(
        spec,
        ["multiagent", key],
        "`subagents: false` disables session threads: leave out `agents` and `inline_agents`",
      ),
    );
  }
  const wf = m.workflows ?? true;
  const value: ResolvedMultiagent = {
    subagents: member(spec, m.subagents ?? true, m.agents, m.inline_agents, ["multiagent"], errors),
    workflows:
      typeof wf === "boolean"
        ? member(spec, wf, undefined, undefined, ["multiagent", "workflows"], errors)
        : member(spec, true, wf.agents, wf.inline_agents, ["multiagent", "workflows"], errors),
    advisor: m.advisor ?? null,
  };
  return { value, errors };
}

/**
 * The repository-wide checks of every Agent spec's `multiagent:` (`specs`: one spec per name):
 * - a name that is no Agent spec: an error at the entry, with "did you mean" among `declared` (every Agent name,
 *   valid or not); a name in `skipped` (an Agent spec that exists but is invalid) is not reported again;
 * - a cycle of calls (`a -> b -> a`, `a -> a`): one error per cycle, at the entry that closes it (depth-first in file
 *   order), naming the cycle: `agent a -> agent b -> agent a`.
 * @returns the errors by spec, so resolve can leave those specs out of the desired state
 */
export function multiagentReferenceErrors(
  specs: readonly ValidatedSpec[],
  declared: ReadonlySet<string>,
  skipped: ReadonlySet<string>,
): Map<ValidatedSpec, SpecError[]> {
  const out = new Map<ValidatedSpec, SpecError[]>();
  const add = (spec: ValidatedSpec, error: SpecError) => out.set(spec, [...(out.get(spec) ?? []), error]);
  const agents = specs.filter((s): s is AgentDoc => s.kind === "Agent");
  const byName = new Map(agents.map((s) => [s.spec.name, s]));
  const edges = new Map<string, RosterEntry[]>();
  for (const spec of agents) {
    const known: RosterEntry[] = [];
    for (const entry of rosterEntries(spec)) {
      if (byName.has(entry.name)) known.push(entry);
      else if (!skipped.has(`Agent/${entry.name}`)) {
        add(spec, errorAt(spec, entry.path, `unknown Agent "${entry.name}"${didYouMean(entry.name, declared)}`));
      }
    }
    edges.set(spec.spec.name, known);
  }

  const done = new Set<string>();
  const stack: string[] = [];
  const reported = new Set<string>();
  const visit = (name: string): void => {
    stack.push(name);
    for (const entry of edges.get(name) ?? []) {
      const at = stack.indexOf(entry.name);
      if (at !== -1) {
        const cycle = [...stack.slice(at), entry.name];
        const key = `${name}\u0000${entry.path.join(".")}`;
        if (reported.has(key)) continue;
        reported.add(key);
        const spec = byName.get(name) as AgentDoc;
        const hint =
          cycle.length === 2
            ? "; an agent cannot name itself: write `self` to let it spawn copies of itself"
            : "; each agent needs the other's version first, so they cannot be applied: remove one of these calls";
        add(
          spec,
          errorAt(spec, entry.path, `calls form a cycle: ${cycle.map((n) => `agent ${n}`).join(" -> ")}${hint}`),
        );
      } else if (!done.has(entry.name)) {
        visit(entry.name);
      }
    }
    stack.pop();
    done.add(name);
  };
  for (const spec of agents) if (!done.has(spec.spec.name)) visit(spec.spec.name);
  return out;
}
