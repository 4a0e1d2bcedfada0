/**
 * Saved plans: `reconcile plan --out FILE` writes the plan as JSON (schemas/plan.schema.json), and
 * `reconcile apply FILE` reads it back. The file holds no secret value (sensitive fields are masked before a plan
 * exists), so it can be kept as a CI artifact like a Terraform plan file.
 */
import { readFile, rename, writeFile } from "node:fs/promises";
import { schemaProblems } from "../spec/validate.js";
import type { Plan } from "./plan.js";

/** The plan as JSON text, as `plan --json` prints it and `plan --out` saves it. */
export function renderPlanJson(plan: Plan): string {
  return `${JSON.stringify(plan, null, 2)}\n`;
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
 * @throws InvalidPlanFileError when the file cannot be read, is not JSON, or does not match schemas/plan.schema.json
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
  return data as Plan;
}
