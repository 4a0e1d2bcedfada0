/**
 * Resolution of `Deployment` specs (schemas/deployment.schema.json) into `ResolvedDeployment`s: the references by
 * spec name are checked against what the repository declares, `message` becomes the API's `initial_events`, and the
 * schedule's cron expression and time zone are checked against the API's rules (`schedule.ts`) before any API call,
 * each error located at its own field.
 */
import type { DeploymentSpec } from "../generated/index.js";
import type { LoadedDocument } from "./load.js";
import { atPath, type DataPath, documentLocation, locate } from "./position.js";
import { cronExpressionProblem, timeZoneProblem } from "./schedule.js";
import { didYouMean } from "./suggest.js";
import type { ResolvedDeployment, SpecError, SpecKind } from "./types.js";

/** The spec names a deployment may refer to, per kind. */
export interface DeploymentReferences {
  /** Names that resolved without error, per kind: a reference to one of them is complete. */
  resolved: ReadonlyMap<SpecKind, ReadonlySet<string>>;
  /**
   * Every name the repository declares per kind, valid or not. A reference to a name declared but not resolved
   * (the spec has errors of its own, already reported) leaves the deployment unresolved without a second error.
   */
  declared: ReadonlyMap<SpecKind, ReadonlySet<string>>;
}

/** A deployment spec as validate hands it over. */
interface DeploymentDocument {
  spec: DeploymentSpec;
  document: LoadedDocument;
}

const EMPTY: ReadonlySet<string> = new Set();

/**
 * Resolves one valid `Deployment` spec. Errors, each at its field:
 * - `agent`, `environment`, `vaults[i]`, `memory_stores[i].name` naming no spec of the kind (with "did you mean");
 * - the same memory store listed twice;
 * - neither `message` nor `initial_events` (the API requires at least one initial event);
 * - `schedule.cron` that is not a 5-field POSIX cron expression the API accepts, `schedule.timezone` that is not an
 *   IANA time zone name (`schedule.ts`).
 * @returns the resolved spec when there is no error and every reference is complete; otherwise the errors only
 */
export function resolveDeployment(
  { spec: s, document }: DeploymentDocument,
  refs: DeploymentReferences,
): { value?: ResolvedDeployment; errors: SpecError[] } {
  const errors: SpecError[] = [];
  const fail = (path: DataPath, message: string, at: "key" | "value" = "value") =>
    errors.push({
      location: locate(document, path, at),
      kind: "Deployment",
      name: s.name,
      message: atPath(path, message),
    });
  let complete = true;
  const check = (kind: SpecKind, name: string, path: DataPath) => {
    if (refs.resolved.get(kind)?.has(name)) return;
    complete = false;
    const declared = refs.declared.get(kind) ?? EMPTY;
    if (!declared.has(name)) fail(path, `unknown ${kind} "${name}"${didYouMean(name, declared)}`);
  };

  check("Agent", s.agent, ["agent"]);
  check("Environment", s.environment, ["environment"]);
  for (const [index, vault] of (s.vaults ?? []).entries()) check("Vault", vault, ["vaults", index]);
  const stores = s.memory_stores ?? [];
  const seen = new Map<string, number>();
  for (const [index, store] of stores.entries()) {
    check("MemoryStore", store.name, ["memory_stores", index, "name"]);
    const first = seen.get(store.name);
    if (first !== undefined) {
      const line = locate(document, ["memory_stores", first]).line;
      fail(["memory_stores", index, "name"], `memory store "${store.name}" is listed twice (first at line ${line})`);
    } else seen.set(store.name, index);
  }

  if (s.message === undefined && s.initial_events === undefined) {
    errors.push({
      location: documentLocation(document),
      kind: "Deployment",
      name: s.name,
      message:
        "set `message` (the first user message of each session) or `initial_events`: the API starts every session of a deployment with at least one event",
    });
  }

  if (s.schedule) {
    const cron = cronExpressionProblem(s.schedule.cron);
    if (cron) fail(["schedule", "cron"], cron);
    const zone = timeZoneProblem(s.schedule.timezone);
    if (zone) fail(["schedule", "timezone"], zone);
  }

  if (errors.length > 0 || !complete) return { errors };
  const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(s.metadata ?? {})) if (value !== undefined) metadata[key] = value;
  return {
    errors,
    value: {
      kind: "Deployment",
      name: s.name,
      description: s.description ?? null,
      agent: s.agent,
      agent_version: s.agent_version ?? "pinned",
      environment: s.environment,
      vaults: [...(s.vaults ?? [])].sort(),
      memory_stores: stores
        .map((m) => ({ name: m.name, access: m.access ?? "read_write", instructions: m.instructions ?? null }))
        .sort(byName),
      initial_events:
        s.message !== undefined
          ? [{ type: "user.message", content: [{ type: "text", text: s.message }] }]
          : structuredClone(s.initial_events ?? []).map((event) => ({ ...event })),
      budget: s.budget ? { type: "limit", max_list_cost: { ...s.budget.max_list_cost } } : null,
      schedule: s.schedule ? { expression: s.schedule.cron, timezone: s.schedule.timezone } : null,
      paused: s.paused ?? false,
      metadata,
      protect: s.protect ?? false,
      previous_names: [...(s.previous_names ?? [])],
      source: document.location,
    },
  };
}
