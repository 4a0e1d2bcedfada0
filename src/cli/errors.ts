/**
 * Turns any error a command meets into stderr lines and an exit code, without ever printing a secret: spec errors
 * as `file:line:col: Kind/name: message`, API errors with status and request id, a missing key with what to do.
 */
import { describeError } from "../reconcile/apply.js";
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
  output.err(`Error: ${describeError(error)}\n`);
  return 1;
}
