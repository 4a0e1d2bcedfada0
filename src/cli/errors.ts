/**
 * Turns any error a command meets into stderr lines and an exit code, without ever printing a secret: spec errors
 * as `file:line:col: Kind/name: message`, refused and stale plans with every reason, API errors with status and
 * request id, a missing key with what to do. Messages quote names, paths and server messages, so every line goes
 * through `escapeControl` (line breaks kept): a control character or bidi override prints as a `\u001b` escape.
 * Under `--json` the same errors go to stdout as one JSON document (`errorReport`, schemas/errors.schema.json).
 */
import { describeError } from "../reconcile/apply.js";
import { escapeControl, escapeJsonText } from "../reconcile/escape.js";
import { PlanRefused } from "../reconcile/plan.js";
import { SpecErrorsFound } from "../reconcile/workflow.js";
import { formatSpecError } from "../spec/index.js";
import type { SpecError } from "../spec/types.js";
import type { Output } from "./output.js";

/**
 * One error in the `--json` error report (schemas/errors.schema.json): `spec` errors carry their location and, when
 * known, the spec's kind and name; `refused` is one reason a plan was refused; `error` is anything else (API errors
 * with status and request id in the message, a missing key, a bad flag value).
 */
export interface ErrorEntry {
  type: "spec" | "refused" | "error";
  message: string;
  file?: string;
  line?: number;
  col?: number;
  kind?: string;
  name?: string;
}

/** The `--json` error report: `{"ok": false, "errors": [...]}` (schemas/errors.schema.json). */
export interface ErrorReport {
  ok: false;
  errors: ErrorEntry[];
}

/** The error report of `error`, every error at once, in the order the text output prints them. Never holds a secret. */
export function errorReport(error: unknown): ErrorReport {
  if (error instanceof SpecErrorsFound) return specErrorReport(error.errors);
  if (error instanceof PlanRefused) {
    return { ok: false, errors: error.reasons.map((message) => ({ type: "refused", message })) };
  }
  return { ok: false, errors: [{ type: "error", message: describeError(error) }] };
}

/** The error report of spec errors (validate's and every command's `SpecErrorsFound`). */
export function specErrorReport(errors: readonly SpecError[]): ErrorReport {
  return {
    ok: false,
    errors: errors.map((e) => ({
      type: "spec",
      message: e.message,
      file: e.location.file,
      line: e.location.line,
      col: e.location.col,
      ...(e.kind === undefined ? {} : { kind: e.kind }),
      ...(e.name === undefined ? {} : { name: e.name }),
    })),
  };
}

/** Prints `report` as the only JSON document on stdout (control and bidi characters escaped); returns exit code 1. */
export function printErrorReport(report: ErrorReport, output: Output): number {
  output.out(escapeJsonText(`${JSON.stringify(report, null, 2)}\n`));
  return 1;
}

/**
 * Prints `error` for a person on stderr and returns the exit code 1. With `json`, prints the error report on stdout
 * instead (`--json` commands print only JSON on stdout, errors included) and nothing on stderr.
 */
export function reportError(error: unknown, output: Output, json = false): number {
  if (json) return printErrorReport(errorReport(error), output);
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
