/**
 * Preflight: every precondition of a plan that can be checked before the first write, so apply never takes a
 * destructive step (an archive-first replace archives the old credential) before a step that is known to fail (the
 * create that needs an unset secret).
 *
 * Checked per action that writes a declared resource (create, replace, update, adopt):
 * - secrets: a create or replace sends every secret the spec refers to; an update of a resource with an unset
 *   secret may resend it (a credential's `auth` travels whole), so any update of such a resource is held back too;
 * - parent: a child's parent (a credential's vault) exists live or is created, replaced or adopted by this plan;
 * - sizes the API enforces (API-NOTES, SDK doc comments): metadata at most 16 keys counting reconcile's reserved
 *   ones (ownership, lifecycle, the `reconcile/applied` stamp, a secret's fingerprint), keys at most 64 characters,
 *   values at most 512.
 * An action that fails a check is not ready; so is every action that depends on it, transitively.
 */
import { lifecycleOf, ownershipMetadata } from "../providers/ownership.js";
import { providerFor } from "../providers/registry.js";
import type { DesiredResource } from "../providers/types.js";
import type { LiveState } from "./observe.js";
import { actionKey, changedFields, type Plan, type PlannedAction } from "./plan.js";

/** The API's metadata limits (SDK: "Maximum 16 pairs, keys up to 64 chars, values up to 512 chars"). */
export const METADATA_LIMITS = { keys: 16, keyLength: 64, valueLength: 512 } as const;

/** One precondition an action fails, with what to do about it. */
export interface PreflightProblem {
  address: string;
  /** `actionKey` of the action. */
  key: string;
  problem: string;
}

/** What preflight found. */
export interface PreflightResult {
  /** Every failed precondition, in plan order; empty when the plan is ready. */
  problems: PreflightProblem[];
  /**
   * Every action that must not run if the problems stay: the failing ones and their dependents, by `actionKey`,
   * with the reason (what `apply --skip-unready` skips).
   */
  unready: Map<string, string>;
}

const WRITES = new Set<PlannedAction["action"]>(["create", "replace", "update", "adopt"]);

const envList = (names: readonly string[]) => names.map((n) => `\${env:${n}}`).join(", ");

/** The metadata the resource will hold after the write: its own keys plus reconcile's reserved ones. */
function metadataProblems(resource: DesiredResource, stack: string): string[] {
  const own = resource.state.metadata;
  if (own === undefined || own === null || typeof own !== "object" || Array.isArray(own)) return [];
  const reserved = ownershipMetadata(stack, resource.name, lifecycleOf(resource));
  const all: Record<string, unknown> = { ...own, ...reserved };
  // Every write also stores the `reconcile/applied` stamp; a resource with a secret also stores its fingerprint and
  // the time it was written (`reconcile/secret-fingerprint`, `reconcile/secret-written-at`).
  const count = Object.keys(all).length + 1 + (resource.sensitive.length > 0 ? 2 : 0);
  const problems: string[] = [];
  if (count > METADATA_LIMITS.keys) {
    problems.push(
      `metadata would hold ${count} keys (${Object.keys(own).length} of its own and ${count - Object.keys(own).length} reserved by reconcile), more than the API's ${METADATA_LIMITS.keys}; remove ${count - METADATA_LIMITS.keys} from the spec`,
    );
  }
  for (const [key, value] of Object.entries(all)) {
    if (key.length > METADATA_LIMITS.keyLength) {
      problems.push(
        `metadata key ${JSON.stringify(key.slice(0, 20))}… has ${key.length} characters, more than the API's ${METADATA_LIMITS.keyLength}; shorten it`,
      );
    }
    if (typeof value === "string" && value.length > METADATA_LIMITS.valueLength) {
      problems.push(
        `metadata.${key} has ${value.length} characters, more than the API's ${METADATA_LIMITS.valueLength}; shorten it`,
      );
    }
  }
  return problems;
}

/** The preconditions `action` fails on its own (dependents are added by `preflight`). */
function actionProblems(
  action: PlannedAction,
  resource: DesiredResource,
  planned: ReadonlyMap<string, PlannedAction>,
  live: LiveState,
  stack: string,
): string[] {
  const problems: string[] = [];
  const sendsFields = action.action !== "update" && action.action !== "adopt" ? true : changedFields(action).length > 0;
  if (resource.missingSecrets.length > 0 && sendsFields) {
    problems.push(
      `${action.action === "update" || action.action === "adopt" ? "this write may resend" : `this ${action.action} sends`} ${envList(resource.missingSecrets)}, which is not set; set it (in CI: the job's secrets) and apply again`,
    );
  }
  const parentType = providerFor(resource.type).parent;
  const parent = parentType ? resource.dependsOn.find((a) => a.startsWith(`${parentType}.`)) : undefined;
  if (parent) {
    const parentAction = planned.get(parent);
    const exists = live.resources.has(parent) || live.adoptions.has(parent);
    const made = parentAction && WRITES.has(parentAction.action);
    const removed = parentAction && (parentAction.action === "archive" || parentAction.action === "delete");
    if ((!exists && !made) || removed) {
      problems.push(
        `its parent ${parent} does not exist and this plan does not create it; declare ${parent}, or remove this resource from its spec`,
      );
    }
  }
  if (action.action !== "update" || changedFields(action).includes("metadata")) {
    problems.push(...metadataProblems(resource, stack));
  }
  return problems;
}

/**
 * Checks every precondition of `plan` that can be known before writing. Pure: reads only its arguments.
 * @param desired the declared resources the plan was built from; their `missingSecrets` say which `${env:NAME}`
 *   values the secret source lacks now (at apply time, for a saved plan too)
 * @param live the live state the plan was built from
 * @returns the problems (empty: ready), and every action to skip if they stay (failing ones and dependents)
 */
export function preflight(plan: Plan, desired: readonly DesiredResource[], live: LiveState): PreflightResult {
  const desiredBy = new Map(desired.map((d) => [d.address, d]));
  const planned = new Map(plan.actions.filter((a) => !a.duplicate_of).map((a) => [a.address, a]));
  const problems: PreflightProblem[] = [];
  const unready = new Map<string, string>();
  for (const action of plan.actions) {
    const resource = desiredBy.get(action.address);
    if (!WRITES.has(action.action) || !resource) continue;
    const key = actionKey(action);
    for (const problem of actionProblems(action, resource, planned, live, plan.stack)) {
      problems.push({ address: action.address, key, problem });
      if (!unready.has(key)) unready.set(key, problem);
    }
  }
  // Dependents of an unready action are not ready either (a credential of a vault that cannot be created).
  let grew = unready.size > 0;
  while (grew) {
    grew = false;
    for (const action of plan.actions) {
      const key = actionKey(action);
      if (unready.has(key) || action.action === "keep") continue;
      const blocked = action.depends_on.find((address) => unready.has(address));
      if (blocked) {
        unready.set(key, `it depends on ${blocked}, which is not ready`);
        grew = true;
      }
    }
  }
  return { problems, unready };
}
