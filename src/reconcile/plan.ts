/**
 * Plan: the value that says what apply will do. Built from desired resources (providers' `desired`) and the live
 * state (`observe`), rendered three ways from the same object (text, JSON, Markdown), and applied exactly as built.
 *
 * Actions and symbols follow Terraform: `+` create, `~` update, `-/+` replace, `-` archive. A resource that is owned
 * by the stack but no longer declared is kept unless pruning is on (DESIGN.md, "Destruction is opt-in").
 */
import { PROVIDERS, providerFor } from "../providers/registry.js";
import type { DesiredResource, LiveResource, ResourceType } from "../providers/types.js";
import type { SourceLocation } from "../spec/types.js";
import { diffState, type FieldChange, pathsOverlap, topField } from "./diff.js";
import type { LiveState } from "./observe.js";

/** What apply does to one resource. `keep` is a no-op that a plan still reports (no longer declared, not pruned). */
export type ActionKind = "create" | "update" | "replace" | "archive" | "keep";

/** One entry of a plan. Contains no secret values (sensitive changes are masked by `diffState`). */
export interface PlannedAction {
  address: string;
  type: ResourceType;
  name: string;
  action: ActionKind;
  /** The live id for update, replace, archive and keep. */
  id?: string;
  /** The live agent version an update is conditioned on (409 on mismatch). */
  version?: number;
  changes: FieldChange[];
  /** Why a replace is needed, or why a resource is kept. */
  reason?: string;
  /** Addresses that must be applied first. */
  depends_on: string[];
  source?: SourceLocation;
}

/** Action counts, as the summary line prints them. */
export interface PlanSummary {
  create: number;
  update: number;
  replace: number;
  archive: number;
  keep: number;
  unchanged: number;
}

/** A plan: serializable (JSON), secret-free, rendered and applied as is. */
export interface Plan {
  format_version: 1;
  stack: string;
  created_at: string;
  /** Changes only (and kept resources), in apply-friendly order: by type table order, then address. */
  actions: PlannedAction[];
  summary: PlanSummary;
  /** Things a reviewer should know that are not changes (a secret not available to compare, a duplicate). */
  warnings: string[];
}

/** Options of `buildPlan`. */
export interface PlanOptions {
  stack: string;
  /** Archive owned resources that are no longer declared (later issues gate this behind `--prune`). */
  prune?: boolean;
  /** Clock for `created_at` (tests pass a fixed one). */
  now?: () => Date;
}

/** The field paths of `changes` that force a replacement for `type`, or an empty list. */
function replaceReasons(type: ResourceType, changes: FieldChange[]): string[] {
  const fields = providerFor(type).replaceOn;
  return [...new Set(changes.filter((c) => fields.some((f) => pathsOverlap(c.path, f))).map((c) => c.path))];
}

function planDesired(
  resource: DesiredResource,
  live: LiveResource | undefined,
  warnings: string[],
): PlannedAction | null {
  const base = { address: resource.address, type: resource.type, name: resource.name, depends_on: resource.dependsOn };
  const source = resource.source ? { source: resource.source } : {};
  if (!live) {
    if (resource.missingSecrets.length > 0) {
      warnings.push(
        `${resource.address}: apply needs ${resource.missingSecrets.map((n) => `\${env:${n}}`).join(", ")}, which is not set here`,
      );
    }
    return { ...base, action: "create", changes: diffState(undefined, resource.state, resource.sensitive), ...source };
  }
  let changes = diffState(live.state, resource.state, resource.sensitive).filter(
    (c) => "after" in c || !resource.serverChosen.some((path) => pathsOverlap(c.path, path)),
  );
  if (resource.missingSecrets.length > 0 && changes.some((c) => c.sensitive)) {
    changes = changes.filter((c) => !c.sensitive);
    warnings.push(
      `${resource.address}: cannot tell whether its secret changed: ${resource.missingSecrets.map((n) => `\${env:${n}}`).join(", ")} is not set here`,
    );
  }
  if (changes.length === 0) return null;
  const ids = { id: live.id, ...(live.version !== undefined ? { version: live.version } : {}) };
  const forced = replaceReasons(resource.type, changes);
  if (forced.length > 0) {
    return {
      ...base,
      ...ids,
      action: "replace",
      changes,
      reason: `${forced.join(", ")} cannot change in place`,
      ...source,
    };
  }
  return { ...base, ...ids, action: "update", changes, ...source };
}

const TYPE_ORDER: readonly ResourceType[] = PROVIDERS.map((p) => p.type);

/**
 * Compares desired with live and returns the plan.
 * @param desired every resource the specs declare (all types)
 * @param live the owned live state from `observe`
 */
export function buildPlan(desired: readonly DesiredResource[], live: LiveState, options: PlanOptions): Plan {
  const warnings: string[] = [];
  const actions: PlannedAction[] = [];
  let unchanged = 0;
  const declared = new Set(desired.map((d) => d.address));
  const parentsById = new Map([...live.resources.values()].map((r) => [r.id, r]));
  for (const resource of desired) {
    const action = planDesired(resource, live.resources.get(resource.address), warnings);
    if (action) actions.push(action);
    else unchanged++;
  }
  for (const resource of live.resources.values()) {
    if (declared.has(resource.address)) continue;
    // A child goes with its parent: a credential of an undeclared vault is covered by the vault's entry.
    const parent = parentsById.get(resource.parentId ?? "");
    if (parent && !declared.has(parent.address)) continue;
    actions.push({
      address: resource.address,
      type: resource.type,
      name: resource.name,
      id: resource.id,
      action: options.prune ? "archive" : "keep",
      changes: [],
      reason: options.prune
        ? "no longer declared in the specs"
        : "no longer declared in the specs; kept (prune is off)",
      depends_on: [],
    });
  }
  for (const duplicate of live.duplicates) {
    warnings.push(
      `${duplicate.address}: ${duplicate.id} also claims this address (the newer ${live.resources.get(duplicate.address)?.id} is used); archive the extra one by hand if it is not needed`,
    );
  }
  actions.sort((a, b) => TYPE_ORDER.indexOf(a.type) - TYPE_ORDER.indexOf(b.type) || a.address.localeCompare(b.address));
  const summary: PlanSummary = { create: 0, update: 0, replace: 0, archive: 0, keep: 0, unchanged };
  for (const action of actions) summary[action.action]++;
  return {
    format_version: 1,
    stack: options.stack,
    created_at: (options.now ?? (() => new Date()))().toISOString(),
    actions,
    summary,
    warnings,
  };
}

/** True when the plan would change anything (kept resources are not changes). */
export function planHasChanges(plan: Plan): boolean {
  return plan.actions.some((a) => a.action !== "keep");
}

/** The top-level state fields an update action touches (what the provider's `update` sends). */
export function changedFields(action: PlannedAction): string[] {
  return [...new Set(action.changes.map((c) => topField(c.path)))];
}
