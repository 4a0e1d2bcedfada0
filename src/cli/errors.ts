/**
 * Turns any error a command meets into stderr lines and an exit code, without ever printing a secret: spec errors
 * as `file:line:col: Kind/name: message`, refused and stale plans with every reason, API errors with status and
 * request id, a missing key with what to do. Messages quote names, paths and server messages, so every line goes
 * through `escapeControl` (line breaks kept): a control character or bidi override prints as a `\u001b` escape.
 */
import { describeError } from "../reconcile/apply.js";
import { escapeControl } from "../reconcile/escape.js";
import { PlanRefused } from "../reconcile/plan.js";
import { SpecErrorsFound } from "../reconcile/workflow.js";
import { formatSpecError } from "../spec/index.js";
import type { Output } from "./output.js";

/** Prints `error` for a person and returns the exit code 1. */
export function reportError(error: unknown, output: Output): number {
  const err = (text: string) => output.err(escapeControl(text, { keepNewlines: true }));
  if (error instanceof SpecErrorsFound) {
    for (const e of error.errors) err(`${formatSpecError(e)}\n`);
    err(`${error.errors.length} error${error.errors.length === 1 ? "" : "s"}; nothing was planned or changed.\n`);
    return 1;
  }
  if (error instanceof PlanRefused) {
    err(`Error: the plan was refused; nothing was changed:\n${error.reasons.map((r) => `  - ${r}\n`).join("")}`);
    return 1;
  }
  err(`Error: ${describeError(error)}\n`);
  return 1;
}
