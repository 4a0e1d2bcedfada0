/**
 * Saved plans: `reconcile plan --out FILE` writes the plan as JSON (schemas/plan.schema.json), and
 * `reconcile apply FILE` reads it back. The file holds no secret value (sensitive fields are masked before a plan
 * exists), so it can be kept as a CI artifact like a Terraform plan file.
 *
 * The file carries its `planDigest`; reading it checks the digest, so an action edited by hand (an archive added, an
 * update turned into an archive, `options.prune` flipped) is refused even before the fresh plan is compared with it
 * (`prepareSavedPlan`, which catches a recomputed digest too).
 */
import { readFile, rename, writeFile } from "node:fs/promises";
import { schemaProblems } from "../spec/validate.js";
import type { Plan } from "./plan.js";
import { planDigest } from "./plan-digest.js";

/** The plan as JSON text with its `digest` (`planDigest`), as `plan --json` prints it and `plan --out` saves it. */
export function renderPlanJson(plan: Plan): string {
  return `${JSON.stringify({ ...plan, digest: planDigest(plan) }, null, 2)}\n`;
}

/** Thrown when a file is not a plan this version of reconcile can apply; the message says what is wrong with it. */
export class InvalidPlanFileError extends Error {
  constructor(file: string, problems: string[]) {
    super(
      `${file} is not a reconcile plan:\n${problems.map((p) => `  - ${p}`).join("\n")}\nMake it with \`reconcile plan --out ${file}\`.`,
    );
    this.name = "InvalidPlanFileError";
  }
}

/** Writes `plan` to `file` atomically (a temp file renamed over it), so a crash never leaves half a plan. */
export async function writePlanFile(file: string, plan: Plan): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, renderPlanJson(plan), { mode: 0o644 });
  await rename(tmp, file);
}

/**
 * Reads and checks a saved plan.
 * @throws InvalidPlanFileError when the file cannot be read, is not JSON, does not match schemas/plan.schema.json,
 *   or its `digest` is missing or does not match its stack, target, options and actions
 */
export async function readPlanFile(file: string): Promise<Plan> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new InvalidPlanFileError(file, [
      `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    ]);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new InvalidPlanFileError(file, [`not JSON (${(error as Error).message})`]);
  }
  const problems = schemaProblems("plan.schema.json", data);
  if (problems.length > 0) {
    throw new InvalidPlanFileError(
      file,
      problems.map((p) => `${p.path.length > 0 ? `${p.path.join(".")}: ` : ""}${p.message}`),
    );
  }
  const plan = data as Plan;
  if (plan.digest === undefined) {
    throw new InvalidPlanFileError(file, ["it has no digest (it was made by an older reconcile, or edited)"]);
  }
  if (plan.digest !== planDigest(plan)) {
    throw new InvalidPlanFileError(file, [
      "its digest does not match its actions or options: it was edited after `reconcile plan --out` wrote it; nothing was applied",
    ]);
  }
  return plan;
}

/** Thrown when `apply FILE` is given a `--target` or `--local` that contradicts what the saved plan records. */
export class SavedPlanConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SavedPlanConflictError";
  }
}

/**
 * The connection flags `apply FILE` runs with: the saved plan's `target` and `options.local` (issue 10: following
 * "apply exactly this plan with: reconcile apply FILE" must work as printed). A `--target` equal to the plan's, or
 * `--local` on a local plan, is accepted; anything else is refused, naming both, before anything is connected.
 * @returns a copy of `flags` with `target` and `local` set from the plan
 * @throws SavedPlanConflictError when `flags.target` names another target, or `flags.local` is set for a plan made
 *   against an API
 */
export function savedPlanFlags<F extends { target?: string; local?: boolean }>(plan: Plan, flags: F): F {
  const local = plan.options.local === true;
  const where = local ? `target "${plan.target}" with --local` : `target "${plan.target}"`;
  if (flags.target !== undefined && flags.target !== plan.target) {
    throw new SavedPlanConflictError(
      `the saved plan was made for ${where}, and --target ${flags.target} asks for another: leave out --target (apply FILE uses the plan's target), or make a new plan with \`reconcile plan --target ${flags.target} --out FILE\``,
    );
  }
  if (flags.local === true && !local) {
    throw new SavedPlanConflictError(
      `the saved plan was made for ${where} against its API, and --local asks for the local emulator: leave out --local, or make a new plan with \`reconcile plan --local --out FILE\``,
    );
  }
  return { ...flags, target: plan.target, local };
}
