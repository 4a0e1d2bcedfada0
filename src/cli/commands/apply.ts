/**
 * `reconcile apply [--dir DIR] [--local] [--auto-approve] [--concurrency N]`: build the plan, show it, ask for
 * confirmation (like `terraform apply`: only `yes` proceeds; never waits on a stdin that is not a terminal), then
 * execute it in dependency order, one line per resource as it completes. Exit 0 when everything applied, 1 when
 * anything failed or could not start; a re-run converges.
 */
import { createInterface } from "node:readline/promises";
import { Command, InvalidArgumentError } from "commander";
import { createColors } from "picocolors";
import { type ApplyOutcome, applyPlan } from "../../reconcile/apply.js";
import { planHasChanges } from "../../reconcile/plan.js";
import { renderPlanText } from "../../reconcile/render-text.js";
import { loadSpecs, preparePlan } from "../../reconcile/workflow.js";
import { connect } from "../connect.js";
import { reportError } from "../errors.js";
import type { Output } from "../output.js";
import { findRoot } from "../root.js";

/** Flags of `apply`. */
export interface ApplyFlags {
  dir?: string;
  local?: boolean;
  autoApprove?: boolean;
  concurrency?: number;
}

const PAST: Record<ApplyOutcome["action"], string> = {
  adopt: "adopted",
  create: "created",
  update: "updated",
  replace: "replaced",
  archive: "archived",
  keep: "kept",
};

/** Asks the terminal for `yes`. Resolves false on anything else. */
async function confirm(output: Output): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(
      "\nDo you want to perform these actions?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ",
    );
    return answer.trim() === "yes";
  } finally {
    rl.close();
    output.err("\n");
  }
}

/** Runs apply and returns the exit code. */
export async function runApply(flags: ApplyFlags, output: Output): Promise<number> {
  const root = findRoot(flags.dir);
  const c = createColors(output.color);
  let connection: Awaited<ReturnType<typeof connect>> | undefined;
  try {
    const project = await loadSpecs(root);
    connection = await connect({ root, local: flags.local === true, warn: output.err });
    const prepared = await preparePlan({ project, client: connection.client, secrets: connection.secrets });
    output.out(renderPlanText(prepared.plan, { color: output.color }));
    if (!planHasChanges(prepared.plan)) return 0;
    if (!flags.autoApprove) {
      if (!process.stdin.isTTY) {
        output.err(
          "Error: apply needs confirmation, and stdin is not a terminal. Review the plan above, then re-run with --auto-approve.\n",
        );
        return 1;
      }
      if (!(await confirm(output))) {
        output.err("Apply cancelled; nothing was changed.\n");
        return 1;
      }
    }
    output.out("\n");
    const result = await applyPlan(connection.client, prepared.plan, prepared.desired, prepared.live, prepared.ctx, {
      concurrency: flags.concurrency,
      onOutcome: (o) => {
        const time = c.dim(`[${(o.duration_ms / 1000).toFixed(1)}s]`);
        if (o.status === "done")
          output.out(`${c.green("✓")} ${o.address}: ${PAST[o.action]}${o.id ? ` (${o.id})` : ""} ${time}\n`);
        else if (o.status === "failed") output.out(`${c.red("✗")} ${o.address}: ${o.action} failed: ${o.error}\n`);
        else output.out(`${c.yellow("-")} ${o.address}: ${o.error}\n`);
      },
    });
    if (result.failed + result.skipped === 0) {
      output.out(`\n${c.bold(`Apply complete: ${result.done} resource${result.done === 1 ? "" : "s"} changed.`)}\n`);
      return 0;
    }
    output.out(
      `\n${c.red(c.bold(`Apply finished with errors: ${result.done} done, ${result.failed} failed, ${result.skipped} not attempted.`))}\n`,
    );
    for (const o of result.outcomes.filter((x) => x.status !== "done")) output.out(`  ${o.address}: ${o.error}\n`);
    output.out("Fix the cause and run apply again: what succeeded is not repeated.\n");
    return 1;
  } catch (error) {
    return reportError(error, output);
  } finally {
    await connection?.close();
  }
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new InvalidArgumentError("expected a whole number from 1 to 64");
  return n;
}

/** The commander definition of `apply`. */
export function applyCommand(output: Output, setExit: (code: number) => void): Command {
  return new Command("apply")
    .description("build the plan, confirm it, and apply it to the live state")
    .option("--dir <path>", "repository root (default: nearest directory with reconcile.yaml or .git)")
    .option("--local", "apply to the embedded emulator (.reconcile/local-state.json) instead of the API")
    .option("--auto-approve", "skip the confirmation (required when stdin is not a terminal)")
    .option("--concurrency <n>", "API writes in flight at once (1-64)", positiveInt, 4)
    .action(async (flags: ApplyFlags) => setExit(await runApply(flags, output)));
}
