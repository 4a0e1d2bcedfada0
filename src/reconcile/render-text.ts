/**
 * Renders a plan as terminal text, Terraform-style: one block per resource with its symbol (`+ ~ -/+ -`), the
 * changed fields, multi-line strings (system prompts) as unified diffs, secrets as `(sensitive)`, and the summary
 * line `Plan: N to create, M to update, R to replace, K to archive.` or `No changes. Live state matches the specs.`
 */
import { structuredPatch } from "diff";
import { createColors } from "picocolors";
import { stringify } from "yaml";
import type { Json } from "../providers/types.js";
import type { FieldChange } from "./diff.js";
import { escapeControl as safe } from "./escape.js";
import type { ActionKind, Plan, PlannedAction } from "./plan.js";

/** Rendering options. */
export interface TextOptions {
  /** ANSI colours; callers pass false for NO_COLOR or a non-terminal stream. */
  color: boolean;
}

type Colors = ReturnType<typeof createColors>;

/** The Terraform-style symbol of each action (`+ ~ -/+ -`, `<=` adopt, `=` keep). */
export const SYMBOL: Record<ActionKind, string> = {
  adopt: "<=",
  create: "+",
  update: "~",
  replace: "-/+",
  archive: "-",
  delete: "-",
  keep: "=",
};

/** Longest single-line value shown for a created field before it is cut. */
const MAX_VALUE = 100;

function paint(c: Colors, action: ActionKind, text: string): string {
  switch (action) {
    case "adopt":
      return c.cyan(text);
    case "create":
      return c.green(text);
    case "update":
      return c.yellow(text);
    case "replace":
      return c.magenta(text);
    case "archive":
      return c.red(text);
    case "delete":
      return c.bold(c.red(text));
    case "keep":
      return c.dim(text);
  }
}

/**
 * A value on one line, as JSON (`"text"`, `3`, `{"a":1}`; `null` for absent), cut to `MAX_VALUE` characters with `…`
 * when `cut`. Not yet escaped for a terminal: callers pass it through `escapeControl` or the Markdown escapers.
 */
export function showValue(value: Json | undefined, cut = false): string {
  const text = JSON.stringify(value) ?? "null";
  return cut && text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 1)}…` : text;
}

const show = (value: Json | undefined, cut = false): string => safe(showValue(value, cut));

/** True for a string value shown as a diff (a system prompt): one with a line break. */
export const multiline = (v: Json | undefined): v is string => typeof v === "string" && v.includes("\n");

/**
 * The largest edit distance (in lines) a prompt diff searches for a minimal diff. Myers' algorithm costs
 * O(lines × distance), so two unrelated 20,000-line prompts would take minutes; beyond this the diff replaces every
 * line (all `-`, then all `+`), which is still exact.
 */
const MAX_EDIT_LENGTH = 1000;

/**
 * The unified diff of a multi-line string change (live → specs, 3 lines of context): `@@ -a,b +c,d @@` headers and
 * ` `/`-`/`+` lines, unescaped (each renderer escapes them its own way). Texts too different for a minimal diff
 * (`MAX_EDIT_LENGTH`) give one hunk that removes every old line and adds every new one.
 */
export function promptDiff(change: FieldChange): string[] {
  const before = typeof change.before === "string" ? change.before : "";
  const after = typeof change.after === "string" ? change.after : "";
  const patch = structuredPatch("live", "specs", `${before}\n`, `${after}\n`, undefined, undefined, {
    context: 3,
    maxEditLength: MAX_EDIT_LENGTH,
  });
  if (patch === undefined) {
    const old = before.split("\n");
    const now = after.split("\n");
    return [
      `@@ -1,${old.length} +1,${now.length} @@`,
      ...old.map((line) => `-${line}`),
      ...now.map((line) => `+${line}`),
    ];
  }
  const lines: string[] = [];
  for (const hunk of patch.hunks) {
    lines.push(`@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`);
    lines.push(...hunk.lines);
  }
  return lines;
}

function textDiff(c: Colors, change: FieldChange, indent: string): string[] {
  const lines = [`${indent}~ ${safe(change.path)}:`];
  for (const line of promptDiff(change)) {
    const text = `${indent}    ${safe(line)}`;
    lines.push(
      line.startsWith("@@")
        ? c.cyan(text)
        : line.startsWith("+")
          ? c.green(text)
          : line.startsWith("-")
            ? c.red(text)
            : text,
    );
  }
  return lines;
}

/** True for a value a created resource does not show: null, absent, `{}` or `[]`. */
export const isEmpty = (v: Json | undefined): boolean =>
  v === null || v === undefined || (typeof v === "object" && Object.keys(v).length === 0);

/**
 * The lines of a created field, unescaped: scalars inline, a prompt as its first line and length, nested values as
 * indented YAML.
 */
export function createdLines(change: FieldChange, indent: string): string[] {
  const value = change.after;
  if (multiline(value)) {
    return [`${indent}${change.path}: ${showValue(value.split("\n")[0], true)} (${value.split("\n").length} lines)`];
  }
  if (typeof value !== "object" || value === null) return [`${indent}${change.path}: ${showValue(value, true)}`];
  const body = stringify(value, { lineWidth: 0 }).trimEnd().split("\n");
  return [`${indent}${change.path}:`, ...body.map((line) => `${indent}  ${line}`)];
}

function changeLines(c: Colors, action: PlannedAction, indent: string): string[] {
  const lines: string[] = [];
  for (const change of action.changes) {
    if (action.action === "create") {
      if (!isEmpty(change.after)) lines.push(...createdLines(change, indent).map((line) => safe(line)));
    } else if (!change.sensitive && (multiline(change.before) || multiline(change.after))) {
      lines.push(...textDiff(c, change, indent));
    } else if (!("before" in change)) {
      lines.push(c.green(`${indent}+ ${safe(change.path)}: ${show(change.after)}`));
    } else if (!("after" in change)) {
      lines.push(c.red(`${indent}- ${safe(change.path)}: ${show(change.before)}`));
    } else {
      lines.push(`${indent}~ ${safe(change.path)}: ${show(change.before)} → ${show(change.after)}`);
    }
  }
  return lines;
}

/**
 * The one-line summary that ends every plan: `Plan: N to create, M to update, R to replace, K to archive.`
 * (with `A to adopt, ` first when the plan adopts, and `, D to delete` last when prune deletes), or
 * `No changes. Live state matches the specs.` -- unless resources no longer declared are kept (prune off), which
 * is not a match: then `No changes to apply; N resource(s) no longer declared in the specs kept (archive with --prune).`
 */
export function summaryLine(plan: Plan): string {
  const s = plan.summary;
  if (s.adopt + s.create + s.update + s.replace + s.archive + s.delete === 0) {
    const kept = plan.actions.filter((a) => a.action === "keep").length;
    if (kept === 0) return "No changes. Live state matches the specs.";
    return `No changes to apply; ${plural(kept, "resource")} no longer declared in the specs ${kept === 1 ? "is" : "are"} kept (archive ${kept === 1 ? "it" : "them"} with --prune).`;
  }
  const adopt = s.adopt > 0 ? `${s.adopt} to adopt, ` : "";
  const del = s.delete > 0 ? `, ${s.delete} to delete` : "";
  return `Plan: ${adopt}${s.create} to create, ${s.update} to update, ${s.replace} to replace, ${s.archive} to archive${del}.`;
}

/** `1 vault`, `2 vaults`: a count with its noun in the right number (regular English plurals only). */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/**
 * The parenthesised note after an action's address, unescaped: that it was changed outside reconcile (first, so a
 * cut note keeps it), why it is replaced, where it moved from, what it adopts.
 */
export function actionNote(action: PlannedAction): string | undefined {
  const outside = action.changed_outside ? `changed outside reconcile: ${action.changed_outside}` : undefined;
  const note = baseNote(action);
  return outside && note ? `${outside}; ${note}` : (outside ?? note);
}

function baseNote(action: PlannedAction): string | undefined {
  if (action.moved_from) return `moved from ${action.moved_from}`;
  if (action.action === "adopt") return `adopting ${action.id}`;
  if (action.duplicate_of) return `${action.id}: ${action.reason}`;
  return action.reason;
}

/**
 * The whole plan as text (ends with the summary line and a newline). Every value from a spec or the live state
 * (stack, addresses, ids, paths, values, prompt lines, reasons, warnings, the variables credentials read) goes through `escapeControl`, so control
 * characters and bidi overrides print as `\u001b`-style escapes and only the colours are real escape sequences.
 */
export function renderPlanText(plan: Plan, options: TextOptions): string {
  const c = createColors(options.color);
  const out: string[] = [];
  const changes = plan.actions.filter((a) => a.action !== "keep");
  if (changes.length > 0) {
    out.push(`reconcile will perform the following actions on stack ${c.bold(safe(plan.stack))}:`, "");
    for (const action of changes) {
      const note = actionNote(action);
      const why = note ? c.dim(`  (${safe(note)})`) : "";
      out.push(`${paint(c, action.action, `  ${SYMBOL[action.action]} ${safe(action.address)}`)}${why}`);
      out.push(...changeLines(c, action, "      "));
      for (const line of plan.annotations?.[action.address] ?? []) out.push(c.dim(`      # ${safe(line)}`));
      out.push("");
    }
  }
  const kept = plan.actions.filter((a) => a.action === "keep");
  if (kept.length > 0) {
    out.push("No longer declared in the specs, kept (archive them with --prune):");
    for (const action of kept) out.push(c.dim(`  = ${safe(action.address)} (${safe(action.id ?? "")})`));
    out.push("");
  }
  const variables = Object.entries(plan.secret_variables ?? {}).filter(([, names]) => names.length > 0);
  if (variables.length > 0) {
    out.push("Credentials read these variables (names only):");
    for (const [address, names] of variables) out.push(c.dim(`  ${safe(address)}: ${safe(names.join(", "))}`));
    out.push("");
  }
  if (plan.warnings.length > 0) {
    out.push(c.yellow("Warnings:"));
    for (const warning of plan.warnings) out.push(c.yellow(`  ! ${safe(warning)}`));
    out.push("");
  }
  out.push(c.bold(summaryLine(plan)));
  return `${out.join("\n")}\n`;
}
