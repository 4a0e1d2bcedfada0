/**
 * `reconcile show FILE [--json | --markdown]`: print a plan saved with `reconcile plan --out FILE` without applying
 * it and without connecting to anything (like `terraform show PLANFILE`). The file is checked as `apply FILE` checks
 * it (schemas/plan.schema.json and its digest), so what `show` prints is what `apply` would execute, provided
 * nothing changed since. Text is the plan as `plan` printed it, headed by its stack, target, local-ness and creation
 * time; `--json` prints the file's plan (with its digest) only; `--markdown` the pull-request comment part(s).
 * Exit 0, or 1 when the file is not a valid plan.
 */
import { Command, Option } from "commander";
import { escapeControl, escapeJsonText } from "../../reconcile/escape.js";
import { readPlanFile, renderPlanJson } from "../../reconcile/plan-file.js";
import { renderPlanMarkdown } from "../../reconcile/render-markdown.js";
import { renderPlanText } from "../../reconcile/render-text.js";
import { reportError } from "../errors.js";
import type { Output } from "../output.js";
import { markdownParts } from "./plan.js";

/** Flags of `show`. */
export interface ShowFlags {
  json?: boolean;
  markdown?: boolean;
}

/** Prints the saved plan `file` and returns the exit code. */
export async function runShow(file: string, flags: ShowFlags, output: Output): Promise<number> {
  try {
    const plan = await readPlanFile(file);
    if (flags.json) output.out(escapeJsonText(renderPlanJson(plan)));
    else if (flags.markdown) output.out(markdownParts(renderPlanMarkdown(plan)));
    else {
      const local = plan.options.local === true ? " (--local)" : "";
      output.out(
        escapeControl(
          `Saved plan for stack ${plan.stack}, target ${plan.target}${local}, made ${plan.created_at}, digest ${plan.digest}\n\n`,
        ),
      );
      output.out(renderPlanText(plan, { color: output.color }));
    }
    return 0;
  } catch (error) {
    return reportError(error, output);
  }
}

/** The commander definition of `show`. */
export function showCommand(output: Output, setExit: (code: number) => void): Command {
  return new Command("show")
    .description("print a plan saved with `reconcile plan --out FILE`, without applying it")
    .argument("<planfile>", "a plan saved with `reconcile plan --out FILE`")
    .addOption(new Option("--json", "print the plan as JSON only (schemas/plan.schema.json)").conflicts("markdown"))
    .addOption(
      new Option(
        "--markdown",
        "print the plan as the GitHub pull-request comment(s), each part after `<!-- reconcile: part N of M -->`",
      ).conflicts("json"),
    )
    .action(async (file: string, flags: ShowFlags) => setExit(await runShow(file, flags, output)));
}
