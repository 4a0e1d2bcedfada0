/**
 * Plan: the value that says what apply will do. Built from desired resources (providers' `desired`) and the live
 * state (`observe`), rendered three ways from the same object (text, JSON, Markdown), saved with `--out`, and
 * applied exactly as built.
 *
 * Actions and symbols follow Terraform: `+` create, `~` update, `-/+` replace, `-` archive, `<=` adopt (an import
 * that also writes the differences). A resource owned by the stack but no longer declared is kept unless pruning is
 * on (DESIGN.md, "Destruction is opt-in"); protected resources are never archived or replaced; a plan that would
 * archive more than `max_prune_share` of the stack is refused without `--allow-mass-prune`.
 */
import { createHash } from "node:crypto";
import { lifecycleOf, OWNERSHIP_KEYS, ownershipMetadata } from "../providers/ownership.js";
import { resolveRefs } from "../providers/refs.js";
import { PROVIDERS, providerFor } from "../providers/registry.js";
import type { ComparableState, DesiredResource, Json, LiveResource, ResourceType } from "../providers/types.js";
import type { SourceLocation } from "../spec/types.js";
import { canonicalJson } from "./canonical.js";
import { diffState, type FieldChange, pathsOverlap, SENSITIVE, topField, UNKNOWN } from "./diff.js";
import { settleDuplicates, specChanges } from "./duplicates.js";
import { type LiveState, liveOutput } from "./observe.js";
import { DependencyCycleError, dependencyOrder } from "./order.js";
import { DEFAULT_CLOCK_SKEW_MS, lastWriter } from "./origin.js";

/** What apply does to one resource. `keep` is a no-op that a plan still reports (no longer declared, not pruned). */
export type ActionKind = "adopt" | "create" | "update" | "replace" | "archive" | "delete" | "keep";

/** Each action in the past tense, as apply progress lines and result comments report a done action. */
export const ACTION_PAST: Record<ActionKind, string> = {
  adopt: "adopted",
  create: "created",
  update: "updated",
  replace: "replaced",
  archive: "archived",
  delete: "deleted",
  keep: "kept",
};

/** One entry of a plan. Contains no secret values (sensitive changes are masked by `diffState`). */
export interface PlannedAction {
  address: string;
  type: ResourceType;
  name: string;
  action: ActionKind;
  /** The live id for adopt, update, replace, archive and keep. */
  id?: string;
  /** The live version an update is conditioned on (agents; 409 on mismatch). */
  version?: number;
  changes: FieldChange[];
  /** Why a replace is needed, or why a resource is kept. */
  reason?: string;
  /** The address the live resource had before a rename (`previous_names:`). */
  moved_from?: string;
  /**
   * Set when someone other than reconcile wrote the live resource after reconcile's last apply (a console edit, a
   * script): the evidence, such as `version 4 is past version 3, which reconcile wrote at ...` (see `origin.ts`).
   * A resource with secrets changed outside reconcile also gets its secrets rewritten, since the live value cannot
   * be read to compare.
   */
  changed_outside?: string;
  /**
   * For the archive of a duplicate (another owned object claiming this address): the id of the one kept. The
   * action's `id` is the duplicate's; with the address, it identifies the action (see `actionKey`).
   */
  duplicate_of?: string;
  /** Reserved metadata keys apply writes (string) or removes (null): ownership on adopt, name on rename, protection. */
  ownership?: Record<string, string | null>;
  /** Addresses that must be applied first. */
  depends_on: string[];
  source?: SourceLocation;
}

/** Action counts, as the summary line prints them. */
export interface PlanSummary {
  adopt: number;
  create: number;
  update: number;
  replace: number;
  archive: number;
  delete: number;
  keep: number;
  unchanged: number;
}

/**
 * Digests of what one address looked like when the plan was made: the desired state (secrets left out), the live
 * resource (id, version, state), and the secret fingerprint when it was known. A saved plan applies only while
 * every digest still holds.
 */
export interface PlanInput {
  desired?: string;
  live?: string;
  secret?: string;
  /** Digest of every other owned object claiming the address (duplicates, and children of duplicate parents). */
  duplicates?: string;
}

/** A plan: serializable (JSON, see schemas/plan.schema.json), secret-free, rendered and applied as is. */
export interface Plan {
  format_version: 1;
  stack: string;
  /** The target (workspace) the plan was made for; a saved plan refuses to apply to another. */
  target: string;
  created_at: string;
  /** `local`: made with `--local`; `only`: the `--only` addresses of a partial plan (both set by `preparePlan`). */
  options: { prune: boolean; allow_mass_prune: boolean; local?: boolean; only?: string[] };
  /** Changes only (and kept resources), parents before children, then by address. */
  actions: PlannedAction[];
  summary: PlanSummary;
  /** Things a reviewer should know that are not changes (a secret not available to compare, an unused adopt entry). */
  warnings: string[];
  /** Every address the plan looked at, with digests of its inputs (see `PlanInput`). */
  inputs: Record<string, PlanInput>;
  /**
   * Which `${env:NAME}` variables each declared credential reads, by address (names only), so a reviewer sees a
   * credential pointed at another variable (issue 7 item 5). Set by `preparePlan`; absent on a plan only built.
   */
  secret_variables?: Record<string, string[]>;
  /**
   * Provider-supplied lines shown under an action (`DesiredResource.annotations`: a schedule's next run times), by
   * address, for addresses with an action. For the reviewer only: not compared, not in the digest. Set by
   * `preparePlan`; absent when no action has any.
   */
  annotations?: Record<string, string[]>;
  /**
   * `planDigest` of the plan, written by `renderPlanJson` (so `plan --out` files and `plan --json` carry it) and
   * checked when a saved plan is read. Absent on a plan that was only built.
   */
  digest?: string;
}

/** Options of `buildPlan`. */
export interface PlanOptions {
  stack: string;
  target: string;
  /** Archive owned resources that are no longer declared (`--prune`, or `prune: true` in reconcile.yaml). */
  prune?: boolean;
  /** Allow archiving more than `maxPruneShare` of the stack (`--allow-mass-prune`). */
  allowMassPrune?: boolean;
  /** The largest share (0-1) of owned resources one plan may archive without `allowMassPrune`. Default 0.5. */
  maxPruneShare?: number;
  /** The `adopt:` entries, for warnings about entries no spec uses or that name another id than the owned one. */
  adopt?: ReadonlyArray<{ address: string; id: string }>;
  /** Clock for `created_at` (tests pass a fixed one). */
  now?: () => Date;
  /**
   * How much later than reconcile's stamp a live `updated_at` may be and still count as reconcile's own write
   * (clock skew between this machine and the API), in milliseconds. Default 2 minutes (`origin.ts`).
   */
  clockSkewMs?: number;
}

/**
 * Thrown when the plan cannot be made safely: a protected resource would be archived or replaced, too much of the
 * stack would be archived, or an `adopt:` entry cannot be honoured. Every reason is listed; nothing was written.
 */
export class PlanRefused extends Error {
  constructor(readonly reasons: string[]) {
    super(`the plan was refused:\n${reasons.map((r) => `  - ${r}`).join("\n")}`);
    this.name = "PlanRefused";
  }
}

/**
 * A short, stable digest of a JSON value (sha256, hex, 32 characters), independent of key order (`canonicalJson`,
 * byte-identical to the original definition, so digests in saved plans stay valid).
 */
export function digest(value: unknown): string {
  return createHash("sha256").update(canonicalJson(value)).digest("hex").slice(0, 32);
}

function withoutSensitive(state: ComparableState, sensitive: readonly string[]): ComparableState {
  return Object.fromEntries(Object.entries(state).filter(([key]) => !sensitive.some((s) => pathsOverlap(key, s))));
}

/** The plan inputs of a desired resource: its state without secrets, its protection, and its secret fingerprint. */
function desiredInput(resource: DesiredResource): PlanInput {
  const secrets = resource.sensitive.map((path) => resource.state[topField(path)] ?? null).filter((v) => v !== null);
  return {
    desired: digest({
      state: withoutSensitive(resource.state, resource.sensitive),
      lifecycle: lifecycleOf(resource),
    }),
    ...(secrets.length > 0 ? { secret: digest(secrets) } : {}),
  };
}

/** The plan input of a live resource: what it is (id, version, name) and what it holds. */
const liveInput = (live: LiveResource): string =>
  digest({
    id: live.id,
    version: live.version ?? null,
    name: live.name,
    state: live.state,
    lifecycle: lifecycleOf(live),
  });

/** The field paths of `changes` that force a replacement for `type`. */
function replaceReasons(type: ResourceType, changes: FieldChange[]): string[] {
  const fields = providerFor(type).replaceOn;
  return [...new Set(changes.filter((c) => fields.some((f) => pathsOverlap(c.path, f))).map((c) => c.path))];
}

const envList = (names: string[]) => names.map((n) => `\${env:${n}}`).join(", ");

interface Context {
  options: PlanOptions;
  warnings: string[];
  refusals: string[];
}

/** The plan entry for a declared resource and the live one it corresponds to (owned, moved or adopted). */
function planExisting(
  resource: DesiredResource,
  live: LiveResource,
  how: { moved_from?: string; adopting: boolean },
  cx: Context,
): PlannedAction | null {
  let changes = specChanges(resource, live.state);
  if (resource.missingSecrets.length > 0 && changes.some((c) => c.sensitive)) {
    changes = changes.filter((c) => !c.sensitive);
    cx.warnings.push(
      `${resource.address}: cannot tell whether its secret changed: ${envList(resource.missingSecrets)} is not set here`,
    );
  }
  const ownership: Record<string, string | null> = how.adopting
    ? ownershipMetadata(cx.options.stack, resource.name, lifecycleOf(resource))
    : {};
  // A kind that cannot record ownership (tunnels) cannot record a rename or a lifecycle either: its spec is the only
  // record (`previous_names` stays listed, `protect` holds while the spec says so), so neither is a change to write.
  const records = providerFor(resource.type).recordsOwnership !== false;
  if (how.moved_from && records) ownership[OWNERSHIP_KEYS.name] = resource.name;
  if (records && resource.protect !== live.protected) {
    changes.push({ path: "protect", before: live.protected, after: resource.protect });
  }
  if (records && resource.deleteOnPrune !== live.deleteOnPrune) {
    const word = (d: boolean) => (d ? "delete" : "archive");
    changes.push({ path: "on_prune", before: word(live.deleteOnPrune), after: word(resource.deleteOnPrune) });
  }
  if (records && !how.adopting && lifecycleOf(resource) !== lifecycleOf(live)) {
    ownership[OWNERSHIP_KEYS.lifecycle] = lifecycleOf(resource);
  }
  const writer = how.adopting ? undefined : lastWriter(live, cx.options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS);
  const outside = writer?.by === "outside" ? writer.evidence : undefined;
  if (outside) restoreSecrets(resource, changes, outside, cx);
  if (changes.length === 0 && !how.adopting && (!how.moved_from || !records)) return null;

  const action: PlannedAction = {
    address: resource.address,
    type: resource.type,
    name: resource.name,
    action: how.adopting ? "adopt" : "update",
    id: live.id,
    ...(live.version !== undefined ? { version: live.version } : {}),
    changes,
    ...(how.moved_from ? { moved_from: how.moved_from } : {}),
    ...(outside ? { changed_outside: outside } : {}),
    ...(Object.keys(ownership).length > 0 ? { ownership } : {}),
    depends_on: resource.dependsOn,
    ...(resource.source ? { source: resource.source } : {}),
  };
  const forced = replaceReasons(resource.type, changes);
  if (forced.length === 0) return action;
  const why = `${forced.join(", ")} cannot change in place`;
  if (resource.protect || live.protected) {
    cx.refusals.push(
      `${resource.address} is protected, but the specs would replace it (${why}); change the spec back, or remove protect: true first`,
    );
  } else if (how.adopting) {
    cx.refusals.push(
      `${resource.address} cannot be adopted as specified (${why}); make the spec match ${live.id}, or drop its adopt entry`,
    );
  }
  return { ...action, action: "replace", reason: why };
}

/**
 * A resource with secrets that was written outside reconcile may hold another secret even though its fingerprint
 * (reconcile's own record) still matches the spec: the API never returns secret values. Adds a change of each
 * secret not already changing, so apply writes the spec's value back; warns instead when the value is not available.
 */
function restoreSecrets(resource: DesiredResource, changes: FieldChange[], evidence: string, cx: Context): void {
  const missing = resource.sensitive.filter((path) => !changes.some((c) => pathsOverlap(c.path, path)));
  if (missing.length === 0) return;
  if (resource.missingSecrets.length > 0) {
    cx.warnings.push(
      `${resource.address} was changed outside reconcile (${evidence}), so its secret may have been replaced; set ${envList(resource.missingSecrets)} and apply to write it back`,
    );
    return;
  }
  for (const path of missing) changes.push({ path, before: SENSITIVE, after: SENSITIVE, sensitive: true });
}

/** The plan entry for an owned resource no spec declares: kept, or archived (deleted for `on_prune: delete`) under prune. */
function planUndeclared(live: LiveResource, cx: Context): PlannedAction {
  const base = { address: live.address, type: live.type, name: live.name, id: live.id, changes: [], depends_on: [] };
  if (!cx.options.prune)
    return { ...base, action: "keep", reason: "no longer declared in the specs; kept (prune is off)" };
  if (live.protected) {
    cx.refusals.push(
      `${live.address} (${live.id}) is protected and no longer declared; pruning would archive it. Declare it again, or remove its protection first (set protect: false and apply)`,
    );
  }
  const provider = providerFor(live.type);
  if (live.deleteOnPrune && provider.delete) {
    return { ...base, action: "delete", reason: "no longer declared in the specs; on_prune: delete" };
  }
  if (!provider.archive) {
    return {
      ...base,
      action: "delete",
      reason: `no longer declared in the specs; ${live.type} resources cannot be archived`,
    };
  }
  return { ...base, action: "archive", reason: "no longer declared in the specs" };
}

const TYPE_ORDER: readonly ResourceType[] = PROVIDERS.map((p) => p.type);

/**
 * The archive of every duplicate in a settled live state (see `settleDuplicates`), and the `duplicates` digest of
 * each address they claim (added to `inputs`). A duplicate's children are folded into its archive.
 */
function planDuplicates(live: LiveState, inputSteps: InputStep[]): PlannedAction[] {
  const dropped = new Set(live.duplicates.map((d) => d.id));
  const claims = new Map<string, LiveResource[]>();
  const actions: PlannedAction[] = [];
  for (const duplicate of live.duplicates) {
    claims.set(duplicate.address, [...(claims.get(duplicate.address) ?? []), duplicate]);
    if (duplicate.parentId !== undefined && dropped.has(duplicate.parentId)) continue;
    const kept = live.resources.get(duplicate.address) as LiveResource;
    const children = live.duplicates.filter((d) => d.parentId === duplicate.id).length;
    actions.push({
      address: duplicate.address,
      type: duplicate.type,
      name: duplicate.name,
      action: providerFor(duplicate.type).archive ? "archive" : "delete",
      id: duplicate.id,
      duplicate_of: kept.id,
      changes: [],
      reason: `duplicate of ${kept.id}${children > 0 ? `; the ${children} resource${children === 1 ? "" : "s"} under it go with it` : ""}`,
      depends_on: [],
    });
  }
  inputSteps.push((inputs) => {
    for (const [address, claimants] of claims) {
      inputs[address] = { ...inputs[address], duplicates: digest(claimants.map(liveInput).sort()) };
    }
  });
  return actions;
}

/** One step of computing a plan's `inputs` (see `withLazyInputs`), in the order `buildPlan` met them. */
type InputStep = (inputs: Record<string, PlanInput>) => void;

/**
 * Makes `plan.inputs` computed on first read, by running `steps` in order, then kept. Input digests are needed only
 * when a plan is saved, printed as JSON or compared with a saved one; hashing every desired and live state was a
 * good part of a no-op plan's CPU on the benchmark fleet (issue 10 item 6), and `plan`, `drift` and `apply` without
 * a file never read them. The property is enumerable, so `JSON.stringify` and object spread compute it like any
 * other. The states the steps read are never changed after planning (apply resolves references into new objects).
 */
function withLazyInputs(plan: Plan, steps: readonly InputStep[]): Plan {
  const keep = (value: Record<string, PlanInput>) =>
    Object.defineProperty(plan, "inputs", { value, enumerable: true, writable: true, configurable: true });
  Object.defineProperty(plan, "inputs", {
    enumerable: true,
    configurable: true,
    get() {
      const inputs: Record<string, PlanInput> = {};
      for (const step of steps) step(inputs);
      const sorted = Object.fromEntries(Object.entries(inputs).sort(([a], [b]) => a.localeCompare(b)));
      keep(sorted);
      return sorted;
    },
    set(value: Record<string, PlanInput>) {
      keep(value);
    },
  });
  return plan;
}

/** What the plan decided for one declared address, as references to it see it. */
interface Planned {
  type: ResourceType;
  /** null: no change. */
  action: ActionKind | null;
  /** The live resource the address maps to (owned, moved or adopted); absent for a create. */
  live?: LiveResource;
}

/**
 * What a reference to `output` of `address` resolves to while planning: the live value, unless an action of this
 * plan changes it (a create or replace changes every output, an update those in the provider's
 * `outputsChangedByUpdate`, default `version`); then undefined, shown as `(known after apply)`.
 */
function plannedOutput(
  address: string,
  output: string,
  planned: ReadonlyMap<string, Planned>,
  live: LiveState,
): Json | undefined {
  const entry = planned.get(address);
  if (!entry) {
    const found = live.resources.get(address) ?? live.adoptions.get(address);
    return found ? liveOutput(found, output) : undefined;
  }
  if (!entry.live || entry.action === "create" || entry.action === "replace") return undefined;
  if (entry.action === "update" || entry.action === "adopt") {
    const changed = providerFor(entry.type).outputsChangedByUpdate ?? ["version"];
    if (changed.includes(output)) return undefined;
  }
  return liveOutput(entry.live, output);
}

/** `resource` with the `OutputRef`s of its state resolved by `lookup` (unknown ones as `(known after apply)`). */
function withResolvedRefs(
  resource: DesiredResource,
  lookup: (address: string, output: string) => Json | undefined,
): DesiredResource {
  if (resource.dependsOn.length === 0) return resource;
  return { ...resource, state: resolveRefs(resource.state, lookup, UNKNOWN).value };
}

/**
 * The desired resources in dependency order (see `order.ts`).
 * @throws PlanRefused naming the cycle when resources depend on each other in a circle
 */
function inDependencyOrder(desired: readonly DesiredResource[]): DesiredResource[] {
  try {
    return dependencyOrder(
      desired,
      (d) => d.address,
      (d) => d.dependsOn,
    );
  } catch (error) {
    if (!(error instanceof DependencyCycleError)) throw error;
    throw new PlanRefused([
      `the specs refer to each other in a cycle (${error.cycle.join(" -> ")}); no order can create them: remove one of the references`,
    ]);
  }
}

/** The identity of an action within a plan: its address, or for the archive of a duplicate `address#id`. */
export function actionKey(action: Pick<PlannedAction, "address" | "id" | "duplicate_of">): string {
  return action.duplicate_of ? `${action.address}#${action.id}` : action.address;
}

/**
 * Compares desired with live and returns the plan.
 * @param desired every resource the specs declare (all types)
 * @param live the live state from `observe`
 * @throws PlanRefused when the plan would archive or replace a protected resource, archive too much of the stack,
 *   or honour an `adopt:` entry that cannot be
 */
export function buildPlan(desired: readonly DesiredResource[], observed: LiveState, options: PlanOptions): Plan {
  const settled = settleDuplicates(desired, observed);
  const live = settled.live;
  const cx: Context = { options, warnings: [], refusals: [...settled.refusals] };
  const actions: PlannedAction[] = [];
  const inputSteps: InputStep[] = [];
  let unchanged = 0;
  const declared = new Set(desired.map((d) => d.address));
  const movedFrom = new Set<string>();
  const planned = new Map<string, Planned>();
  const lookup = (address: string, output: string) => plannedOutput(address, output, planned, live);

  for (const original of inDependencyOrder(desired)) {
    inputSteps.push((inputs) => {
      inputs[original.address] = desiredInput(original);
    });
    const resource = withResolvedRefs(original, lookup);
    const owned = live.resources.get(resource.address);
    const previous = owned
      ? undefined
      : resource.previousAddresses.find((a) => live.resources.has(a) && !declared.has(a) && !movedFrom.has(a));
    const adoption = owned || previous ? undefined : live.adoptions.get(resource.address);
    const adoptionError = live.adoptionErrors.get(resource.address);
    if (adoptionError && !owned && !previous) cx.refusals.push(`adopt ${resource.address}: ${adoptionError}`);
    const current = owned ?? (previous ? live.resources.get(previous) : undefined) ?? adoption;
    if (!current) {
      planned.set(resource.address, { type: resource.type, action: "create" });
      if (resource.missingSecrets.length > 0) {
        cx.warnings.push(`${resource.address}: apply needs ${envList(resource.missingSecrets)}, which is not set here`);
      }
      actions.push({
        address: resource.address,
        type: resource.type,
        name: resource.name,
        action: "create",
        changes: diffState(undefined, resource.state, resource.sensitive),
        ...(lifecycleOf(resource) ? { ownership: { [OWNERSHIP_KEYS.lifecycle]: lifecycleOf(resource) } } : {}),
        depends_on: resource.dependsOn,
        ...(resource.source ? { source: resource.source } : {}),
      });
      continue;
    }
    if (previous) movedFrom.add(previous);
    if (adoption) {
      inputSteps.push((inputs) => {
        inputs[resource.address] = { ...inputs[resource.address], live: liveInput(adoption) };
      });
    }
    const action = planExisting(
      resource,
      current,
      { ...(previous ? { moved_from: previous } : {}), adopting: !!adoption },
      cx,
    );
    planned.set(resource.address, { type: resource.type, action: action?.action ?? null, live: current });
    if (action) actions.push(action);
    else unchanged++;
  }

  const liveById = new Map([...live.resources.values()].map((r) => [r.id, r]));
  let foldedChildren = 0;
  for (const resource of live.resources.values()) {
    inputSteps.push((inputs) => {
      inputs[resource.address] = { ...inputs[resource.address], live: liveInput(resource) };
    });
    if (declared.has(resource.address) || movedFrom.has(resource.address)) continue;
    // A child goes with its parent: a credential of an undeclared vault is covered by the vault's entry.
    const parent = liveById.get(resource.parentId ?? "");
    if (parent && !declared.has(parent.address) && !movedFrom.has(parent.address)) {
      foldedChildren++;
      continue;
    }
    actions.push(planUndeclared(resource, cx));
  }

  for (const { address, id } of options.adopt ?? []) {
    const owned = live.resources.get(address);
    if (!declared.has(address)) cx.warnings.push(`adopt entry ${address} has no spec with that name; it is ignored`);
    else if (owned && owned.id !== id) {
      cx.warnings.push(
        `adopt entry ${address} names ${id}, but the stack already manages ${address} as ${owned.id}; the entry is ignored: remove it from reconcile.yaml`,
      );
    }
  }
  actions.push(...planDuplicates(live, inputSteps));

  // Archiving a parent archives its children too (a vault's credentials): they count against the share. Archiving a
  // duplicate is not a prune (its address stays served by the one kept), so it does not count.
  const archiving = actions.filter((a) => (a.action === "archive" || a.action === "delete") && !a.duplicate_of).length;
  const archives = archiving > 0 ? archiving + foldedChildren : 0;
  const share = options.maxPruneShare ?? 0.5;
  if (archives > 0 && archives > share * live.resources.size && !options.allowMassPrune) {
    cx.refusals.push(
      `this plan removes (archives or deletes) ${archives} of the ${live.resources.size} resources stack "${options.stack}" owns (more than max_prune_share ${Math.round(share * 100)}%). Check that --dir points at the right checkout; if the removal is intended, re-run with --allow-mass-prune`,
    );
  }
  if (cx.refusals.length > 0) throw new PlanRefused(cx.refusals);

  actions.sort(
    (a, b) =>
      TYPE_ORDER.indexOf(a.type) - TYPE_ORDER.indexOf(b.type) ||
      a.address.localeCompare(b.address) ||
      Number(!!a.duplicate_of) - Number(!!b.duplicate_of) ||
      (a.id ?? "").localeCompare(b.id ?? ""),
  );
  const summary: PlanSummary = {
    adopt: 0,
    create: 0,
    update: 0,
    replace: 0,
    archive: 0,
    delete: 0,
    keep: 0,
    unchanged,
  };
  for (const action of actions) summary[action.action]++;
  const plan: Plan = {
    format_version: 1,
    stack: options.stack,
    target: options.target,
    created_at: (options.now ?? (() => new Date()))().toISOString(),
    options: { prune: options.prune ?? false, allow_mass_prune: options.allowMassPrune ?? false },
    actions,
    summary,
    warnings: cx.warnings,
    inputs: {},
  };
  return withLazyInputs(plan, inputSteps);
}

/** The `Plan.annotations` of `plan`'s actions (kept resources excluded), from the desired resources; undefined if none. */
export function planAnnotations(
  desired: readonly DesiredResource[],
  plan: Pick<Plan, "actions">,
): Record<string, string[]> | undefined {
  const acted = new Set(plan.actions.filter((a) => a.action !== "keep").map((a) => a.address));
  const entries = desired
    .filter((d) => acted.has(d.address) && d.annotations)
    .map((d): [string, string[]] => [d.address, [...(d.annotations?.() ?? [])]])
    .filter(([, lines]) => lines.length > 0)
    .sort(([a], [b]) => a.localeCompare(b));
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}

/** True when the plan would change anything (kept resources are not changes). */
export function planHasChanges(plan: Plan): boolean {
  return plan.actions.some((a) => a.action !== "keep");
}

/** Changes the engine makes through `ownership` metadata, not through the provider's fields. */
const LIFECYCLE_FIELDS = new Set(["protect", "on_prune"]);

/** The top-level state fields an update sends (lifecycle changes travel as `ownership`). */
export function changedFields(action: PlannedAction): string[] {
  return [...new Set(action.changes.map((c) => topField(c.path)))].filter((field) => !LIFECYCLE_FIELDS.has(field));
}

/** Why one address of a saved plan no longer matches what is there now. */
export interface StaleInput {
  address: string;
  reason: string;
}

/**
 * Compares the inputs a saved plan was made from with the inputs now; every difference makes the plan stale.
 * @returns one entry per address that differs, with a reason a person can act on
 */
export function staleInputs(planned: Record<string, PlanInput>, now: Record<string, PlanInput>): StaleInput[] {
  const out: StaleInput[] = [];
  for (const address of [...new Set([...Object.keys(planned), ...Object.keys(now)])].sort()) {
    const before = planned[address] ?? {};
    const after = now[address] ?? {};
    const reasons: string[] = [];
    if (before.desired !== after.desired) {
      reasons.push(
        !before.desired ? "a spec for it was added" : !after.desired ? "its spec was removed" : "its spec changed",
      );
    }
    if (before.live !== after.live) {
      reasons.push(
        !before.live
          ? "it appeared in the workspace"
          : !after.live
            ? "it vanished from the workspace"
            : "the live resource changed (edited in the console, or another apply ran)",
      );
    }
    if (before.secret && before.secret !== after.secret) reasons.push("its secret value is not the one planned");
    if (before.duplicates !== after.duplicates) {
      reasons.push(
        !before.duplicates
          ? "another live resource now claims it too (a duplicate appeared)"
          : !after.duplicates
            ? "a duplicate the plan archives vanished"
            : "the duplicates claiming it changed",
      );
    }
    if (reasons.length > 0) out.push({ address, reason: reasons.join("; ") });
  }
  return out;
}

const ACTION_FIELDS = [
  "id",
  "version",
  "moved_from",
  "changed_outside",
  "duplicate_of",
  "reason",
  "ownership",
  "depends_on",
  "source",
] as const;

/** `text` with control characters, quotes and backslashes escaped (a hand-edited file may hold anything). */
const inert = (text: string): string => JSON.stringify(text).slice(1, -1);

const what = (action: PlannedAction): string =>
  `${action.action}${action.id ? ` of ${inert(action.id)}` : ""}${action.duplicate_of ? ` (duplicate of ${inert(action.duplicate_of)})` : ""}`;

/** The first field change (by path) that differs between two actions for one address, or undefined. */
function changeDifference(saved: FieldChange[], fresh: FieldChange[]): string | undefined {
  const paths = [...new Set([...saved.map((c) => c.path), ...fresh.map((c) => c.path)])];
  for (const path of paths) {
    const a = saved.filter((c) => c.path === path);
    const b = fresh.filter((c) => c.path === path);
    if (digest(a) === digest(b)) continue;
    if (a.length === 0) return `a fresh plan also changes ${inert(path)}, which the file does not`;
    if (b.length === 0) return `the file changes ${inert(path)}, which a fresh plan does not`;
    return `the change of ${inert(path)} differs from a fresh plan's`;
  }
  return saved.length === fresh.length ? undefined : "its changes differ from a fresh plan's";
}

/**
 * Compares the actions of a saved plan with those of a fresh plan built from the same inputs and options. A saved
 * plan is a proposal: apply executes it only when both hold exactly the same actions (an edited file could
 * otherwise archive what no plan proposed).
 * @returns the first difference, as `address: what differs`, or undefined when the actions are the same
 */
export function firstActionDifference(
  saved: readonly PlannedAction[],
  fresh: readonly PlannedAction[],
): string | undefined {
  const freshBy = new Map(fresh.map((a) => [actionKey(a), a]));
  const seen = new Set<string>();
  for (const action of saved) {
    const key = actionKey(action);
    if (seen.has(key)) return `${action.address}: the file lists it more than once`;
    seen.add(key);
    const other = freshBy.get(key);
    if (!other) return `${action.address}: the file plans ${what(action)}, which a fresh plan does not contain`;
    if (other.action !== action.action) {
      return `${action.address}: the file plans ${what(action)}, a fresh plan ${what(other)}`;
    }
    if (action.type !== other.type || action.name !== other.name) {
      return `${action.address}: its type or name differs from a fresh plan's`;
    }
    const field = ACTION_FIELDS.find((f) => digest(action[f] ?? null) !== digest(other[f] ?? null));
    if (field) {
      return `${action.address}: ${field} is ${JSON.stringify(action[field] ?? null)} in the file, ${JSON.stringify(other[field] ?? null)} in a fresh plan`;
    }
    const change = changeDifference(action.changes, other.changes);
    if (change) return `${action.address}: ${change}`;
  }
  const missing = fresh.find((a) => !seen.has(actionKey(a)));
  if (missing) return `${missing.address}: a fresh plan contains ${what(missing)}, which the file does not`;
  return undefined;
}
