/**
 * `reconcile plan [--dir DIR] [--local] [--detailed-exitcode]`: show what apply would change.
 *
 * Exit codes follow `terraform plan`: 0 success (with `--detailed-exitcode`: 0 no changes, 2 changes), 1 error.
 */
import { Command } from "commander";
import { planHasChanges } from "../../reconcile/plan.js";
import { renderPlanText } from "../../reconcile/render-text.js";
import { loadSpecs, preparePlan } from "../../reconcile/workflow.js";
import { connect } from "../connect.js";
import { reportError } from "../errors.js";
import type { Output } from "../output.js";
import { findRoot } from "../root.js";

/** Flags of `plan`. */
export interface PlanFlags {
  dir?: string;
  local?: boolean;
  detailedExitcode?: boolean;
}

/** Runs plan and returns the exit code. */
export async function runPlan(flags: PlanFlags, output: Output): Promise<number> {
  const root = findRoot(flags.dir);
  let connection: Awaited<ReturnType<typeof connect>> | undefined;
  try {
    const project = await loadSpecs(root);
    connection = await connect({ root, local: flags.local === true, warn: output.err });
    const { plan } = await preparePlan({ project, client: connection.client, secrets: connection.secrets });
    output.out(renderPlanText(plan, { color: output.color }));
    return flags.detailedExitcode && planHasChanges(plan) ? 2 : 0;
  } catch (error) {
    return reportError(error, output);
  } finally {
    await connection?.close();
  }
}

/** The commander definition of `plan`. */
export function planCommand(output: Output, setExit: (code: number) => void): Command {
  return new Command("plan")
    .description("compare the specs with the live state and show what apply would change")
    .option("--dir <path>", "repository root (default: nearest directory with reconcile.yaml or .git)")
    .option("--local", "plan against the embedded emulator (.reconcile/local-state.json) instead of the API")
    .option("--detailed-exitcode", "exit 0 when there are no changes, 2 when there are, 1 on error")
    .action(async (flags: PlanFlags) => setExit(await runPlan(flags, output)));
}
