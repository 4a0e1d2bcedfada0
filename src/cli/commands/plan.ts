/**
 * `reconcile plan [--dir DIR] [--target NAME] [--local] [--prune] [--allow-mass-prune] [--out FILE]
 * [--only ADDRESS]... [--json | --markdown] [--detailed-exitcode]`: show what apply would change.
 *
 * Exit codes follow `terraform plan`: 0 success (with `--detailed-exitcode`: 0 no changes, 2 changes), 1 error or a
 * refused plan. `--json` prints only the plan JSON (schemas/plan.schema.json) on stdout; notes go to stderr.
 * `--markdown` prints the pull-request comment bodies (`renderPlanMarkdown`), each part after a line
 * `<!-- reconcile: part N of M -->`. `--out FILE` saves the plan for `reconcile apply FILE`.
 */
import { stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { Command, Option } from "commander";
import { escapeControl, escapeJsonText } from "../../reconcile/escape.js";
import { planHasChanges } from "../../reconcile/plan.js";
import { renderPlanJson, writePlanFile } from "../../reconcile/plan-file.js";
import { renderPlanMarkdown } from "../../reconcile/render-markdown.js";
import { renderPlanText } from "../../reconcile/render-text.js";
import { preparePlan } from "../../reconcile/workflow.js";
import type { Output } from "../output.js";
import { onlyOption, type ProjectFlags, projectOptions, withProjectObserving } from "../session.js";

/** Flags of `plan`. */
export interface PlanFlags extends ProjectFlags {
  detailedExitcode?: boolean;
  json?: boolean;
  markdown?: boolean;
  out?: string;
  prune?: boolean;
  allowMassPrune?: boolean;
  /** `--only ADDRESS`, repeatable. */
  only?: string[];
}

/** Thrown when `--out` cannot be written; the message names the path and what to do. */
export class PlanOutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PlanOutError";
  }
}

/**
 * Checks, before any work, that `--out FILE` can be written: its directory exists and is a directory.
 * @throws PlanOutError naming the directory
 */
async function checkOutDir(file: string): Promise<void> {
  const dir = dirname(resolve(file));
  const info = await stat(dir).catch(() => undefined);
  if (!info)
    throw new PlanOutError(
      `cannot save the plan to ${file}: the directory ${dir} does not exist; create it or choose another --out path`,
    );
  if (!info.isDirectory()) throw new PlanOutError(`cannot save the plan to ${file}: ${dir} is not a directory`);
}

/** Writes the plan file, turning a filesystem error into a `PlanOutError` that names `file` (not a temp path). */
async function savePlan(file: string, plan: Parameters<typeof writePlanFile>[1]): Promise<void> {
  try {
    await writePlanFile(file, plan);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? `the directory ${dirname(resolve(file))} does not exist`
        : code === "EACCES" || code === "EPERM"
          ? "permission denied"
          : code === "EISDIR"
            ? "it is a directory"
            : (code ?? "write failed");
    throw new PlanOutError(`cannot save the plan to ${file}: ${why}; choose another --out path`);
  }
}

/** The `--markdown` output: every comment part, each after a line `<!-- reconcile: part N of M -->`. */
export function markdownParts(parts: readonly string[]): string {
  return parts.map((part, i) => `<!-- reconcile: part ${i + 1} of ${parts.length} -->\n${part}`).join("");
}

/** Runs plan and returns the exit code. */
export function runPlan(flags: PlanFlags, output: Output): Promise<number> {
  return withProjectObserving(flags, output, async (project, connection, observed) => {
    if (flags.out) await checkOutDir(flags.out);
    const { plan } = await preparePlan({
      project,
      client: connection.client,
      secrets: connection.secrets,
      prune: flags.prune === true,
      allowMassPrune: flags.allowMassPrune === true,
      local: flags.local === true,
      ...(flags.only ? { only: flags.only } : {}),
      observed,
    });
    output.out(
      flags.json
        ? escapeJsonText(renderPlanJson(plan))
        : flags.markdown
          ? markdownParts(renderPlanMarkdown(plan))
          : renderPlanText(plan, { color: output.color }),
    );
    if (flags.out) {
      await savePlan(flags.out, plan);
      const file = escapeControl(flags.out);
      const dir = flags.dir ? ` --dir ${escapeControl(flags.dir)}` : "";
      output.err(`Saved the plan to ${file}. Apply exactly this plan with: reconcile apply ${file}${dir}\n`);
    }
    return flags.detailedExitcode && planHasChanges(plan) ? 2 : 0;
  });
}

/** The commander definition of `plan`. */
export function planCommand(output: Output, setExit: (code: number) => void): Command {
  return onlyOption(projectOptions(new Command("plan")))
    .description("compare the specs with the live state and show what apply would change")
    .option("--prune", "archive resources this stack owns whose spec was removed (default: keep them)")
    .option("--allow-mass-prune", "allow archiving more than max_prune_share of the stack in one plan")
    .option("--out <file>", "save the plan as JSON for `reconcile apply FILE`")
    .addOption(new Option("--json", "print the plan as JSON only (schemas/plan.schema.json)").conflicts("markdown"))
    .addOption(
      new Option(
        "--markdown",
        "print the plan as the GitHub pull-request comment(s) it would post, each part after `<!-- reconcile: part N of M -->`",
      ).conflicts("json"),
    )
    .option("--detailed-exitcode", "exit 0 when there are no changes, 2 when there are, 1 on error")
    .action(async (flags: PlanFlags) => setExit(await runPlan(flags, output)));
}
