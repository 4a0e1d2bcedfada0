/**
 * The plan workflow the CLI (and later the GitHub integration) runs: load and check the specs, observe the live
 * state, build the plan. One function so that `plan` and `apply` cannot drift apart in how they see the world.
 */
import type Anthropic from "@anthropic-ai/sdk";
import type { DesiredResource, ProviderContext } from "../providers/types.js";
import { loadProject } from "../spec/index.js";
import type { ProjectConfig } from "../spec/project-config.js";
import { loadProjectConfig } from "../spec/project-config.js";
import type { DesiredSpecs, SecretSource, SpecError } from "../spec/types.js";
import { desiredResources } from "./desired.js";
import { type LiveState, observe } from "./observe.js";
import { buildPlan, type Plan } from "./plan.js";

/** Thrown when the specs or the project configuration have errors: nothing is observed, nothing is written. */
export class SpecErrorsFound extends Error {
  constructor(readonly errors: SpecError[]) {
    super(
      `${errors.length} error${errors.length === 1 ? "" : "s"} in the specs; run \`reconcile validate\` to see them`,
    );
    this.name = "SpecErrorsFound";
  }
}

/** Everything a plan was built from, so apply executes against exactly the same inputs. */
export interface PreparedPlan {
  plan: Plan;
  desired: DesiredResource[];
  live: LiveState;
  ctx: ProviderContext;
}

/** A repository whose configuration and specs loaded without errors. */
export interface LoadedProject {
  root: string;
  config: ProjectConfig;
  specs: DesiredSpecs;
  files: string[];
}

/**
 * Loads `reconcile.yaml` and every spec under `root`, validated and resolved. Reads files only.
 * @throws SpecErrorsFound with every error at once, sorted by file:line:col
 */
export async function loadSpecs(root: string): Promise<LoadedProject> {
  const [{ config, errors: configErrors }, project] = await Promise.all([loadProjectConfig(root), loadProject(root)]);
  const errors = [...configErrors, ...project.errors];
  if (errors.length > 0) throw new SpecErrorsFound(errors);
  return { root, config, specs: project.specs, files: project.files };
}

/** Inputs of `preparePlan`. */
export interface PrepareOptions {
  project: LoadedProject;
  client: Anthropic;
  /** Where `${env:NAME}` values come from (for fingerprints at plan time, values at apply time). */
  secrets: SecretSource;
  prune?: boolean;
}

/**
 * Observes what the stack owns and builds the plan for a loaded project.
 * @throws the SDK's `APIError` when observing fails
 */
export async function preparePlan(options: PrepareOptions): Promise<PreparedPlan> {
  const { config, specs } = options.project;
  const ctx: ProviderContext = { stack: config.stack, secrets: options.secrets };
  const desired = desiredResources(specs, ctx);
  const live = await observe(options.client, ctx);
  const plan = buildPlan(desired, live, { stack: config.stack, prune: options.prune ?? false });
  return { plan, desired, live, ctx };
}
