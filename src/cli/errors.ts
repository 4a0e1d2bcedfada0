/**
 * Turns any error a command meets into stderr lines and an exit code, without ever printing a secret: spec errors
 * as `file:line:col: Kind/name: message`, refused and stale plans with every reason, API errors with status and
 * request id, a missing key with what to do.
 */
import { describeError } from "../reconcile/apply.js";
import { PlanRefused } from "../reconcile/plan.js";
import { SpecErrorsFound } from "../reconcile/workflow.js";
import { formatSpecError } from "../spec/index.js";
import type { Output } from "./output.js";

/** Prints `error` for a person and returns the exit code 1. */
export function reportError(error: unknown, output: Output): number {
  if (error instanceof SpecErrorsFound) {
    for (const e of error.errors) output.err(`${formatSpecError(e)}\n`);
    output.err(
      `${error.errors.length} error${error.errors.length === 1 ? "" : "s"}; nothing was planned or changed.\n`,
    );
    return 1;
  }
  if (error instanceof PlanRefused) {
    output.err(`Error: the plan was refused; nothing was changed:\n${error.reasons.map((r) => `  - ${r}\n`).join("")}`);
    return 1;
  }
  output.err(`Error: ${describeError(error)}\n`);
  return 1;
}
