/**
 * The plan workflow the CLI (and later the GitHub integration) runs: load and check the specs for a target,
 * observe the live state, build the plan; and for a saved plan, check that nothing it was made from has changed.
 * One module so that `plan`, `apply` and `apply PLANFILE` cannot drift apart in how they see the world.
 */
import type Anthropic from "@anthropic-ai/sdk";
import type { DesiredResource, ProviderContext } from "../providers/types.js";
import { loadProject } from "../spec/index.js";
import {
  adoptEntriesFor,
  loadProjectConfig,
  type ProjectConfig,
  selectTarget,
  type TargetConfig,
} from "../spec/project-config.js";
import type { DesiredSpecs, SecretSource, SpecError } from "../spec/types.js";
import { desiredResourcesInSlices } from "./desired.js";
import { settleDuplicates } from "./duplicates.js";
import { type LiveState, observe } from "./observe.js";
import { partialPlanWarning, restrictTo } from "./only.js";
import { clockSkewMs } from "./origin.js";
import { buildPlan, firstActionDifference, type Plan, planAnnotations, type StaleInput, staleInputs } from "./plan.js";
import { healthWarnings, secretHealth, secretVariables } from "./secrets-health.js";

/** Thrown when the specs or the project configuration have errors: nothing is observed, nothing is written. */
export class SpecErrorsFound extends Error {
  constructor(readonly errors: SpecError[]) {
    super(
      `${errors.length} error${errors.length === 1 ? "" : "s"} in the specs; run \`reconcile validate\` to see them`,
    );
    this.name = "SpecErrorsFound";
  }
}

/** Thrown when a saved plan no longer matches the specs or the live state: nothing was written. */
export class StalePlanError extends Error {
  constructor(readonly stale: StaleInput[]) {
    super(
      `the saved plan is stale; nothing was applied:\n${stale.map((s) => `  - ${s.address}: ${s.reason}`).join("\n")}\nRun \`reconcile plan --out FILE\` again, review it, and apply the new file.`,
    );
    this.name = "StalePlanError";
  }
}

/**
 * Thrown when a saved plan's actions differ from those of a fresh plan built from the same inputs and options: the
 * file was edited by hand (its digest recomputed), or made by another version of reconcile. Nothing was written.
 */
export class PlanMismatchError extends Error {
  constructor(readonly difference: string) {
    super(
      `the saved plan does not match a fresh plan made from the same specs, live state and options; nothing was applied.\nFirst difference: ${difference}\nA saved plan is applied only as \`reconcile plan --out\` wrote it: make and review a new one.`,
    );
    this.name = "PlanMismatchError";
  }
}

/** A repository whose configuration and specs loaded without errors, for one target. */
export interface LoadedProject {
  root: string;
  config: ProjectConfig;
  target: TargetConfig;
  specs: DesiredSpecs;
  files: string[];
}

/**
 * Loads `reconcile.yaml` and every spec under `root` for `targetName` (or the default target), validated and
 * resolved with the target's `${var:NAME}` values. Reads files only.
 * @throws SpecErrorsFound with every error at once, sorted by file:line:col
 * @throws Error from `selectTarget` when the target is unknown or must be chosen
 */
export async function loadSpecs(
  root: string,
  targetName?: string,
  options: SpecLoadOptions = {},
): Promise<LoadedProject> {
  return loadSpecsFor(await loadProjectHead(root, targetName), options);
}

/** How specs are read (`loadSpecs`, `loadSpecsFor`). */
export interface SpecLoadOptions {
  /**
   * Use the repository's parse cache (`spec/parse-cache.ts`); default on unless `RECONCILE_PARSE_CACHE=off`. The
   * GitHub commands turn it off: they run on fresh checkouts, where a cache restored from elsewhere is not trusted.
   */
  parseCache?: boolean;
}

/** What `reconcile.yaml` alone says: the stack's configuration and the chosen target (see `loadProjectHead`). */
export interface ProjectHead {
  root: string;
  config: ProjectConfig;
  target: TargetConfig;
}

/**
 * The first half of `loadSpecs`: reads `reconcile.yaml` and chooses the target. Enough to connect and observe (the
 * stack, the target's workspace and `adopt:` entries), so a command can start observing while the specs load.
 * @throws SpecErrorsFound when `reconcile.yaml` has errors
 * @throws Error from `selectTarget` when the target is unknown or must be chosen
 */
export async function loadProjectHead(root: string, targetName?: string): Promise<ProjectHead> {
  const { config, errors: configErrors } = await loadProjectConfig(root);
  if (configErrors.length > 0) throw new SpecErrorsFound(configErrors);
  return { root, config, target: selectTarget(config, targetName) };
}

/**
 * The second half of `loadSpecs`: loads and checks the specs for `head`'s target.
 * @throws SpecErrorsFound with every error at once, sorted by file:line:col
 */
export async function loadSpecsFor(head: ProjectHead, options: SpecLoadOptions = {}): Promise<LoadedProject> {
  const { root, config, target } = head;
  const project = await loadProject(root, {
    target,
    ignore: config.ignore,
    ...(options.parseCache !== undefined ? { parseCache: options.parseCache } : {}),
  });
  if (project.errors.length > 0) throw new SpecErrorsFound(project.errors);
  return { root, config, target, specs: project.specs, files: project.files };
}

/**
 * Observes what `head`'s stack owns and what its target's `adopt:` entries name: the observe `preparePlan` makes,
 * startable before the specs are loaded (it needs only `reconcile.yaml`). Reads only.
 * @throws what `observe` throws
 */
export function observeFor(
  client: Anthropic,
  head: Omit<ProjectHead, "root">,
  secrets: SecretSource,
): Promise<LiveState> {
  const ctx: ProviderContext = { stack: head.config.stack, secrets };
  const adopt = adoptEntriesFor(head.config, head.target.name).map(({ address, id }) => ({ address, id }));
  return observe(client, ctx, { adopt });
}

/** Everything a plan was built from, so apply executes against exactly the same inputs. */
export interface PreparedPlan {
  plan: Plan;
  desired: DesiredResource[];
  live: LiveState;
  ctx: ProviderContext;
}

/** Inputs of `preparePlan`. */
export interface PrepareOptions {
  project: LoadedProject;
  client: Anthropic;
  /** Where `${env:NAME}` values come from (for fingerprints at plan time, values at apply time). */
  secrets: SecretSource;
  /** Archive undeclared resources (`--prune`); `prune: true` in reconcile.yaml turns it on too. */
  prune?: boolean;
  /** `--allow-mass-prune`. */
  allowMassPrune?: boolean;
  /** `--local`: recorded in the plan (`options.local`), so `apply FILE` connects the same way. */
  local?: boolean;
  /** `--only`: plan these addresses and their dependencies only (`restrictTo`); recorded in `options.only`. */
  only?: readonly string[];
  /**
   * The live state, when the caller started observing before the specs were loaded (`observeFor` with the same
   * client, project head and secrets); otherwise `preparePlan` observes.
   */
  observed?: Promise<LiveState>;
}

/**
 * Observes what the stack owns (and what `adopt:` entries name) and builds the plan for a loaded project.
 * @throws PlanRefused when the plan is unsafe (protected resources, mass prune, impossible adoption)
 * @throws the SDK's `APIError` when observing fails
 */
export async function preparePlan(options: PrepareOptions): Promise<PreparedPlan> {
  const { config, specs, target } = options.project;
  const ctx: ProviderContext = { stack: config.stack, secrets: options.secrets };
  const all = await desiredResourcesInSlices(specs, ctx);
  const adoptAll = adoptEntriesFor(config, target.name).map(({ address, id }) => ({ address, id }));
  const observed = await (options.observed ?? observeFor(options.client, options.project, options.secrets));
  const only = options.only && options.only.length > 0 ? [...new Set(options.only)].sort() : undefined;
  const partial = only ? restrictTo(all, observed, only) : undefined;
  const desired = partial?.desired ?? all;
  const adopt = partial ? adoptAll.filter((a) => partial.selected.has(a.address)) : adoptAll;
  // Settled here too, so apply sees the duplicate the plan kept as the resource (buildPlan settles the same way).
  const live = settleDuplicates(desired, partial?.live ?? observed).live;
  const built = buildPlan(desired, live, {
    stack: config.stack,
    target: target.name,
    prune: options.prune === true || config.prune,
    allowMassPrune: options.allowMassPrune === true,
    maxPruneShare: config.max_prune_share,
    adopt,
    clockSkewMs: clockSkewMs(),
  });
  // Changed in place, not spread: a spread would compute the plan's input digests (`buildPlan` leaves them until read).
  const plan: Plan = built;
  plan.options = { ...built.options, local: options.local === true, ...(only ? { only } : {}) };
  if (partial && only) plan.warnings = [partialPlanWarning(only, partial.selected), ...built.warnings];
  // Secret health and the variables credentials read: for the reviewer, not actions (issue 9 item 2, issue 7 item 5).
  plan.warnings.push(...healthWarnings(secretHealth(desired, live, { now: new Date() })));
  plan.secret_variables = secretVariables(desired);
  const annotations = planAnnotations(desired, plan);
  if (annotations) plan.annotations = annotations;
  return { plan, desired, live, ctx };
}

/**
 * Re-observes and rebuilds what `saved` was made from, with the options recorded in it, and returns the fresh plan
 * (with the saved `created_at`) when every input still matches and both plans hold exactly the same actions. So
 * apply never executes an action only the file contains.
 * @throws StalePlanError naming each address whose spec or live resource changed since the plan was made
 * @throws PlanMismatchError naming the first action that differs from the fresh plan's
 * @throws PlanRefused when the fresh plan is refused (protection, mass prune)
 * @throws Error when the plan was made for another stack or target
 */
export async function prepareSavedPlan(
  saved: Plan,
  options: Omit<PrepareOptions, "prune" | "allowMassPrune">,
): Promise<PreparedPlan> {
  const { config, target } = options.project;
  if (saved.stack !== config.stack) {
    throw new Error(`the saved plan is for stack "${saved.stack}", but reconcile.yaml here says "${config.stack}"`);
  }
  if (saved.target !== target.name) {
    throw new Error(
      `the saved plan was made for target "${saved.target}", not "${target.name}"; apply it with --target ${saved.target}, or make a new plan for ${target.name}`,
    );
  }
  const fresh = await preparePlan({
    ...options,
    prune: saved.options.prune,
    allowMassPrune: saved.options.allow_mass_prune,
    local: saved.options.local === true,
    ...(saved.options.only ? { only: saved.options.only } : {}),
  });
  const stale = staleInputs(saved.inputs, fresh.plan.inputs);
  if (stale.length > 0) throw new StalePlanError(stale);
  const difference = firstActionDifference(saved.actions, fresh.plan.actions);
  if (difference) throw new PlanMismatchError(difference);
  return { ...fresh, plan: { ...fresh.plan, created_at: saved.created_at } };
}
