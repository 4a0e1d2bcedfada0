/**
 * `reconcile plan [--dir DIR] [--target NAME] [--local] [--prune] [--allow-mass-prune] [--out FILE] [--json]
 * [--detailed-exitcode]`: show what apply would change.
 *
 * Exit codes follow `terraform plan`: 0 success (with `--detailed-exitcode`: 0 no changes, 2 changes), 1 error or a
 * refused plan. `--json` prints only the plan JSON (schemas/plan.schema.json) on stdout; notes go to stderr.
 * `--out FILE` saves the plan for `reconcile apply FILE`.
 */
import { Command } from "commander";
import { planHasChanges } from "../../reconcile/plan.js";
import { renderPlanJson, writePlanFile } from "../../reconcile/plan-file.js";
import { renderPlanText } from "../../reconcile/render-text.js";
import { preparePlan } from "../../reconcile/workflow.js";
import type { Output } from "../output.js";
import { type ProjectFlags, projectOptions, withProject } from "../session.js";

/** Flags of `plan`. */
export interface PlanFlags extends ProjectFlags {
  detailedExitcode?: boolean;
  json?: boolean;
  out?: string;
  prune?: boolean;
  allowMassPrune?: boolean;
}

/** Runs plan and returns the exit code. */
export function runPlan(flags: PlanFlags, output: Output): Promise<number> {
  return withProject(flags, output, async (project, connection) => {
    const { plan } = await preparePlan({
      project,
      client: connection.client,
      secrets: connection.secrets,
      prune: flags.prune === true,
      allowMassPrune: flags.allowMassPrune === true,
    });
    output.out(flags.json ? renderPlanJson(plan) : renderPlanText(plan, { color: output.color }));
    if (flags.out) {
      await writePlanFile(flags.out, plan);
      output.err(`Saved the plan to ${flags.out}. Apply exactly this plan with: reconcile apply ${flags.out}\n`);
    }
    return flags.detailedExitcode && planHasChanges(plan) ? 2 : 0;
  });
}

/** The commander definition of `plan`. */
export function planCommand(output: Output, setExit: (code: number) => void): Command {
  return projectOptions(new Command("plan"))
    .description("compare the specs with the live state and show what apply would change")
    .option("--prune", "archive resources this stack owns whose spec was removed (default: keep them)")
    .option("--allow-mass-prune", "allow archiving more than max_prune_share of the stack in one plan")
    .option("--out <file>", "save the plan as JSON for `reconcile apply FILE`")
    .option("--json", "print the plan as JSON only (schemas/plan.schema.json)")
    .option("--detailed-exitcode", "exit 0 when there are no changes, 2 when there are, 1 on error")
    .action(async (flags: PlanFlags) => setExit(await runPlan(flags, output)));
}
