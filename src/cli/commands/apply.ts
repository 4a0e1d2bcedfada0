/**
 * `reconcile apply [PLANFILE] [--dir DIR] [--target NAME] [--local] [--prune] [--allow-mass-prune] [--auto-approve]
 * [--concurrency N] [--skip-unready] [--lock-timeout DURATION] [--only ADDRESS]...`. With PLANFILE, the target
 * and `--local` recorded in the plan are used (`savedPlanFlags`; a conflicting flag is an error naming both).
 *
 * Without PLANFILE: build the plan, show it, ask for confirmation (like `terraform apply`: only `yes` proceeds; never
 * waits on a stdin that is not a terminal), then execute it. With PLANFILE (from `plan --out`): execute exactly that
 * plan, without asking (it was reviewed), after checking that neither the specs nor the live state changed since it
 * was made; a stale plan is refused before anything is written. Either way: dependency order, one line per resource
 * as it completes, exit 0 when everything applied and 1 when anything failed; a re-run converges. The whole run holds
 * the lock of the stack and target (taken before observing; ADR 8); a held lock fails at once, or after waiting up to
 * `--lock-timeout`, naming its holder.
 *
 * Before the first write, `preflight` checks what can be known to fail (unset secrets, missing parents, metadata
 * limits): any problem and nothing is written (exit 1), unless `--skip-unready` skips the affected resources and
 * their dependents and applies the rest (exit 0 when the rest applied; the next plan still shows the skipped ones).
 */
import { createInterface } from "node:readline/promises";
import { Command, InvalidArgumentError } from "commander";
import { createColors } from "picocolors";
import { parseDuration } from "../../providers/lock.js";
import { type ApplyResult, applyPlan } from "../../reconcile/apply.js";
import { escapeControl as safe } from "../../reconcile/escape.js";
import { ACTION_PAST, type Plan, planHasChanges } from "../../reconcile/plan.js";
import { readPlanFile, savedPlanFlags } from "../../reconcile/plan-file.js";
import { preflight } from "../../reconcile/preflight.js";
import { renderPlanText } from "../../reconcile/render-text.js";
import { type PreparedPlan, preparePlan, prepareSavedPlan } from "../../reconcile/workflow.js";
import { withLockedProject } from "../apply-lock.js";
import { currentCommit } from "../commit.js";
import { reportError } from "../errors.js";
import type { Output } from "../output.js";
import { findRoot } from "../root.js";
import { onlyOption, type ProjectFlags, projectOptions } from "../session.js";

/** Flags of `apply`. */
export interface ApplyFlags extends ProjectFlags {
  autoApprove?: boolean;
  concurrency?: number;
  prune?: boolean;
  allowMassPrune?: boolean;
  skipUnready?: boolean;
  /** `--lock-timeout`, in ms. */
  lockTimeout?: number;
  /** `--only ADDRESS`, repeatable (a saved plan records its own). */
  only?: string[];
}

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

/**
 * Runs `preflight` on a prepared plan. Returns the actions to skip (empty when ready), or null after printing every
 * problem when the plan is not ready and `--skip-unready` was not given (nothing may be written then).
 */
function checkReady(prepared: PreparedPlan, flags: ApplyFlags, output: Output): Map<string, string> | null {
  const { problems, unready } = preflight(prepared.plan, prepared.desired, prepared.live);
  if (problems.length === 0) return unready;
  const lines = problems.map((p) => `  - ${p.address}: ${p.problem}\n`).join("");
  if (!flags.skipUnready) {
    output.err(
      `Error: apply would fail part-way; nothing was applied:\n${lines}Fix these and apply again, or re-run with --skip-unready to apply everything else and skip these resources and what depends on them.\n`,
    );
    return null;
  }
  const skipped = [...unready].map(([key, why]) => `  - ${key.split("#")[0]}: ${why}\n`).join("");
  output.err(`Skipping ${unready.size} resource${unready.size === 1 ? "" : "s"} (--skip-unready):\n${skipped}`);
  return unready;
}

/** What `applyPrepared` did: the exit code, and the outcomes when anything was attempted. */
export interface AppliedRun {
  code: number;
  result?: ApplyResult;
}

/**
 * The apply path after the plan is known, shared by `reconcile apply` and `reconcile github apply`: `preflight`
 * (nothing is written when it finds a problem, unless `--skip-unready`), then `applyPlan` printing one line per
 * resource and a closing line. Run it under the lock (`withLockedProject`) and pass its signal.
 * @returns exit code 0 when everything applied (or was skipped as not ready), 1 otherwise
 */
export async function applyPrepared(
  prepared: PreparedPlan,
  flags: ApplyFlags,
  output: Output,
  client: Parameters<typeof applyPlan>[0],
  signal?: AbortSignal,
): Promise<AppliedRun> {
  const skip = checkReady(prepared, flags, output);
  return skip ? execute(prepared, flags, output, client, skip, signal) : { code: 1 };
}

/** Executes a prepared plan, printing one line per resource, and returns the exit code and the outcomes. */
async function execute(
  prepared: PreparedPlan,
  flags: ApplyFlags,
  output: Output,
  client: Parameters<typeof applyPlan>[0],
  skip: ReadonlyMap<string, string> = new Map(),
  signal?: AbortSignal,
): Promise<AppliedRun> {
  const c = createColors(output.color);
  output.out("\n");
  const commit = await currentCommit(findRoot(flags.dir));
  const result = await applyPlan(client, prepared.plan, prepared.desired, prepared.live, prepared.ctx, {
    ...(flags.concurrency ? { concurrency: flags.concurrency } : {}),
    ...(commit ? { commit } : {}),
    skip,
    ...(signal ? { signal } : {}),
    onOutcome: (o) => {
      const time = c.dim(`[${(o.duration_ms / 1000).toFixed(1)}s${o.attempts > 1 ? `, ${o.attempts} attempts` : ""}]`);
      const address = safe(o.address);
      if (o.status === "done")
        output.out(`${c.green("✓")} ${address}: ${ACTION_PAST[o.action]}${o.id ? ` (${safe(o.id)})` : ""} ${time}\n`);
      else if (o.status === "failed")
        output.out(`${c.red("✗")} ${address}: ${o.action} failed: ${safe(`${o.error}`)}\n`);
      else output.out(`${c.yellow("-")} ${address}: ${safe(`${o.error}`)}\n`);
    },
  });
  const unready = result.outcomes.filter((o) => o.unready).length;
  if (result.failed + result.skipped - unready === 0) {
    const rest = unready > 0 ? ` ${unready} skipped as not ready; the next plan still shows them.` : "";
    output.out(
      `\n${c.bold(`Apply complete: ${result.done} resource${result.done === 1 ? "" : "s"} changed.${rest}`)}\n`,
    );
    return { code: 0, result };
  }
  output.out(
    `\n${c.red(c.bold(`Apply finished with errors: ${result.done} done, ${result.failed} failed, ${result.skipped} not attempted.`))}\n`,
  );
  for (const o of result.outcomes.filter((x) => x.status !== "done")) {
    output.out(`  ${safe(o.address)}: ${safe(`${o.error}`)}\n`);
    if (o.archived) {
      output.out(
        `  ${safe(o.address)} is now missing: its old resource ${safe(o.archived)} was archived and the new one was not created; the next plan shows it as + create.\n`,
      );
    }
  }
  output.out("Fix the cause and run apply again: what succeeded is not repeated.\n");
  return { code: 1, result };
}

/** Runs apply (of a fresh plan, or of `planFile`) and returns the exit code. */
export async function runApply(planFile: string | undefined, flags: ApplyFlags, output: Output): Promise<number> {
  // A saved plan fixes its target and local-ness (`savedPlanFlags`), so it is read before connecting.
  const saved = planFile ? await readSavedPlan(planFile, flags, output) : undefined;
  if (saved === null) return 1;
  // An apply that will refuse for want of confirmation cannot write, so it takes no lock.
  const refuses = !planFile && !flags.autoApprove && !process.stdin.isTTY;
  const lock = refuses ? null : { operation: "apply", timeoutMs: flags.lockTimeout ?? 0 };
  const run = saved ? savedPlanFlags(saved, flags) : flags;
  return withLockedProject(run, output, lock, async (project, connection, signal) => {
    const base = { project, client: connection.client, secrets: connection.secrets, local: run.local === true };
    if (saved) {
      if (flags.prune || flags.allowMassPrune || flags.only) {
        output.err(
          "Error: --prune, --allow-mass-prune and --only are fixed by the saved plan; make a new plan to change them.\n",
        );
        return 1;
      }
      const prepared = await prepareSavedPlan(saved, base);
      output.out(renderPlanText(prepared.plan, { color: output.color }));
      if (!planHasChanges(prepared.plan)) return 0;
      return (await applyPrepared(prepared, flags, output, connection.client, signal)).code;
    }
    const prepared = await preparePlan({
      ...base,
      prune: flags.prune === true,
      allowMassPrune: flags.allowMassPrune === true,
      ...(flags.only ? { only: flags.only } : {}),
    });
    output.out(renderPlanText(prepared.plan, { color: output.color }));
    if (!planHasChanges(prepared.plan)) return 0;
    const skip = checkReady(prepared, flags, output);
    if (!skip) return 1;
    if (!flags.autoApprove) {
      if (!process.stdin.isTTY) {
        output.err(
          "Error: apply needs confirmation, and stdin is not a terminal. Review the plan above, then re-run with --auto-approve (or save it with `plan --out FILE` and run `apply FILE`).\n",
        );
        return 1;
      }
      if (!(await confirm(output))) {
        output.err("Apply cancelled; nothing was changed.\n");
        return 1;
      }
    }
    return (await execute(prepared, flags, output, connection.client, skip, signal)).code;
  });
}

/** Reads a saved plan for `apply FILE`; null after printing the error (unreadable, edited, or flags that conflict). */
async function readSavedPlan(file: string, flags: ApplyFlags, output: Output): Promise<Plan | null> {
  try {
    const plan = await readPlanFile(file);
    savedPlanFlags(plan, flags);
    return plan;
  } catch (error) {
    reportError(error, output);
    return null;
  }
}

function duration(value: string): number {
  try {
    return parseDuration(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new InvalidArgumentError("expected a whole number from 1 to 64");
  return n;
}

/** The commander definition of `apply`. */
export function applyCommand(output: Output, setExit: (code: number) => void): Command {
  return onlyOption(projectOptions(new Command("apply")))
    .description("apply the plan to the live state (a fresh plan after confirmation, or exactly a saved PLANFILE)")
    .argument("[planfile]", "a plan saved with `reconcile plan --out FILE`; refused if anything changed since")
    .option("--prune", "archive resources this stack owns whose spec was removed (default: keep them)")
    .option("--allow-mass-prune", "allow archiving more than max_prune_share of the stack in one apply")
    .option("--auto-approve", "skip the confirmation (required when stdin is not a terminal)")
    .option("--concurrency <n>", "API writes in flight at once (1-64, default 4)", positiveInt)
    .option(
      "--skip-unready",
      "when a resource fails a precondition (unset secret, missing parent, metadata limits), skip it and its dependents and apply the rest (default: apply nothing)",
    )
    .option("--lock-timeout <duration>", "wait this long for the stack's lock (0, 30s, 5m, 1h; default 0)", duration)
    .action(async (planFile: string | undefined, flags: ApplyFlags) =>
      setExit(await runApply(planFile, flags, output)),
    );
}
