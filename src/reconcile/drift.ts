/**
 * Drift: what differs between the checked-out specs and the live state, per resource, and why (issue 7 item 3,
 * issue 9 item 3; docs/drift.md). Built from a plan and the live state it was made from; pure.
 *
 * Each resource the plan would write gets a cause:
 * - `changed_outside`: someone other than reconcile wrote it after reconcile's last apply (a console edit): its
 *   version or `updated_at` moved past the `reconcile/applied` stamp (`origin.ts`). For a credential this is how a
 *   secret replaced in the console shows, although its fingerprint still matches the spec;
 * - `not_applied`: reconcile's stamp is the last write, so the specs hold changes that were never applied (a spec
 *   added, edited or removed under prune, an `adopt:` entry not yet applied);
 * - `unknown`: the resource carries no stamp (written before reconcile recorded its writes), or it is a duplicate.
 * Resources kept because prune is off are listed, but are not drift, and neither is an update that only follows
 * another resource's change (every change `(known after apply)`).
 */
import type { LiveResource, ResourceType } from "../providers/types.js";
import type { LiveState } from "./observe.js";
import { lastWriter } from "./origin.js";
import { digest, type Plan, type PlannedAction } from "./plan.js";
import { codeSpan, markdownText } from "./render-markdown.js";
import { SYMBOL, summaryLine } from "./render-text.js";

/** Why a resource differs from its spec. */
export type DriftCause = "changed_outside" | "not_applied" | "unknown";

/** One drifted resource. Holds no secret values (the plan masks them). */
export interface DriftEntry {
  address: string;
  type: ResourceType;
  name: string;
  /** What apply would do about it. */
  action: Exclude<PlannedAction["action"], "keep">;
  /** The live id, when the resource exists. */
  id?: string;
  cause: DriftCause;
  /** The evidence for the cause, as a sentence. */
  reason: string;
  /** The field paths that differ (`system`, `secret`, `tools["mcp_toolset:x"]...`); every top-level field for a create. */
  fields: string[];
  /** Reconcile's last recorded write to the live resource, when it has one. */
  last_applied?: { at: string; commit?: string; version?: number };
}

/**
 * A credential whose secret is due for rotation or expiring (issue 9 item 2), from `secretHealth`
 * (src/reconcile/secrets-health.ts); `reconcile drift` fills it (docs/drift.md, "Secret health").
 */
export interface SecretHealthEntry {
  address: string;
  status: string;
  reason: string;
}

/** The drift of one stack and target: `reconcile drift --json` (schemas/drift.schema.json). */
export interface DriftReport {
  format_version: 1;
  stack: string;
  target: string;
  /** When the live state was read (ISO 8601). */
  checked_at: string;
  /** The commit the specs were read from, when known. */
  commit?: string;
  /** True when any resource differs (`resources` not empty) or a secret is due: `reconcile drift` exits 2. */
  drifted: boolean;
  resources: DriftEntry[];
  /** Resources the stack owns that no spec declares, kept because prune is off. Not drift. */
  kept: Array<{ address: string; id: string }>;
  secret_health: SecretHealthEntry[];
  /** The plan's warnings (a secret not available to compare, ...). */
  warnings: string[];
  /**
   * A digest of the drift itself (addresses, causes, evidence and the plan's changes), independent of the time of the
   * run: equal fingerprints mean the same drift (the GitHub issue is left alone).
   */
  fingerprint: string;
}

const CAUSE_TEXT: Record<DriftCause, string> = {
  changed_outside: "changed outside reconcile",
  not_applied: "not applied yet",
  unknown: "unknown",
};

function liveOf(action: PlannedAction, live: LiveState): LiveResource | undefined {
  const all = [...live.resources.values(), ...live.duplicates, ...live.adoptions.values()];
  return all.find((r) => r.id === action.id && r.address === action.address);
}

/** The cause of one planned action, with its evidence. */
function classify(action: PlannedAction, live: LiveResource | undefined, toleranceMs: number) {
  if (action.changed_outside) return { cause: "changed_outside" as const, reason: action.changed_outside };
  switch (action.action) {
    case "create":
      return {
        cause: "not_applied" as const,
        reason: "declared in the specs but not in the workspace (never applied, or archived outside reconcile)",
      };
    case "adopt":
      return { cause: "not_applied" as const, reason: `an adopt: entry names ${action.id}, and it was never applied` };
    case "archive":
    case "delete":
      if (action.duplicate_of) {
        return { cause: "unknown" as const, reason: `a duplicate of ${action.duplicate_of} (an interrupted apply?)` };
      }
      return { cause: "not_applied" as const, reason: "its spec was removed, and prune never ran" };
    default: {
      if (!live) return { cause: "unknown" as const, reason: "the live resource was not found" };
      const writer = lastWriter(live, toleranceMs);
      if (writer.by === "reconcile") {
        const commit = writer.commit ? ` from commit ${writer.commit.slice(0, 12)}` : "";
        return {
          cause: "not_applied" as const,
          reason: `the specs changed since reconcile's last apply at ${writer.at}${commit}`,
        };
      }
      // An `outside` writer is already on the action (`changed_outside`); anything else proves nothing.
      return { cause: "unknown" as const, reason: writer.by === "unknown" ? writer.why : writer.evidence };
    }
  }
}

/** Options of `buildDriftReport`. */
export interface DriftOptions {
  /** The clock-skew tolerance the plan was built with (`clockSkewMs`). */
  clockSkewMs: number;
  /** The commit the specs were read from. */
  commit?: string;
  /** Credentials due for rotation or expiring (from `secretHealth`, when available); each makes the report drifted. */
  secretHealth?: SecretHealthEntry[];
}

/**
 * The drift report of `plan` (built with prune as configured, never applied) against the live state it was made from.
 * @returns the report; `drifted` is true when any resource would be written or a secret is due
 */
export function buildDriftReport(plan: Plan, live: LiveState, options: DriftOptions): DriftReport {
  const resources: DriftEntry[] = [];
  const kept: DriftReport["kept"] = [];
  for (const action of plan.actions) {
    if (action.action === "keep") {
      kept.push({ address: action.address, id: action.id ?? "" });
      continue;
    }
    // An update whose every change is `(known after apply)` only follows a change of what it refers to (a deployment
    // repointed to the version an agent update produces): not drift of its own; the resource it follows is reported.
    if (action.action === "update" && action.changes.length > 0 && action.changes.every((c) => c.unknown)) continue;
    const current = action.id ? liveOf(action, live) : undefined;
    const { cause, reason } = classify(action, current, options.clockSkewMs);
    const stamp = current?.applied;
    resources.push({
      address: action.address,
      type: action.type,
      name: action.name,
      action: action.action,
      ...(action.id ? { id: action.id } : {}),
      cause,
      reason,
      fields: [...new Set(action.changes.map((c) => c.path))],
      ...(stamp ? { last_applied: { ...stamp } } : {}),
    });
  }
  const secretHealth = options.secretHealth ?? [];
  const fingerprint = digest({
    stack: plan.stack,
    target: plan.target,
    resources: resources.map((r) => ({ ...r, last_applied: null })),
    changes: plan.actions.filter((a) => a.action !== "keep").map((a) => [a.address, a.id ?? null, a.changes]),
    secret_health: secretHealth,
  });
  return {
    format_version: 1,
    stack: plan.stack,
    target: plan.target,
    checked_at: plan.created_at,
    ...(options.commit ? { commit: options.commit } : {}),
    drifted: resources.length > 0 || secretHealth.length > 0,
    resources,
    kept,
    secret_health: secretHealth,
    warnings: plan.warnings,
    fingerprint,
  };
}

/** The drift report as terminal text (unescaped values go through `safe`, the caller's control-character escaper). */
export function renderDriftText(report: DriftReport, plan: Plan, safe: (text: string) => string): string {
  const out: string[] = [];
  if (!report.drifted) {
    out.push(`No drift: live state of stack ${safe(report.stack)} (target ${safe(report.target)}) matches the specs.`);
  } else {
    out.push(`Drift in stack ${safe(report.stack)} (target ${safe(report.target)}):`, "");
    for (const entry of report.resources) {
      out.push(`  ${SYMBOL[entry.action]} ${safe(entry.address)}: ${CAUSE_TEXT[entry.cause]}`);
      out.push(`      why: ${safe(entry.reason)}`);
      if (entry.fields.length > 0) out.push(`      fields: ${entry.fields.map(safe).join(", ")}`);
    }
    for (const health of report.secret_health) {
      out.push(`  ! ${safe(health.address)}: secret ${safe(health.status)} (${safe(health.reason)})`);
    }
    out.push("", summaryLine(plan));
  }
  for (const warning of report.warnings) out.push(`  ! ${safe(warning)}`);
  return `${out.join("\n")}\n`;
}

/** The hidden first line of the drift issue of `stack` and `target` (`syncDriftIssue` finds the issue by it). */
export function driftMarker(stack: string, target: string): string {
  // Percent-encoded, and no `--` (which would end an HTML comment early).
  const token = (text: string) => encodeURIComponent(text).replace(/-(?=-)/g, "%2D");
  return `<!-- reconcile-drift stack=${token(stack)} target=${token(target)} -->`;
}

/** Longest list of resources in the issue body; the rest is counted (an issue body holds at most 65,536 characters). */
const ISSUE_ROWS = 200;

/**
 * The drift issue body: the marker, a summary, and one list item per resource (cause, evidence, fields). Every value
 * from the specs or the live state is escaped (`markdownText`, `codeSpan`: no mention, issue link, HTML or fence
 * escapes); secrets are masked in the plan already.
 */
export function renderDriftIssue(report: DriftReport, plan: Plan): { title: string; body: string } {
  const lines = [
    driftMarker(report.stack, report.target),
    `### reconcile: drift in stack ${codeSpan(report.stack, 200)}, target ${codeSpan(report.target, 200)}`,
    "",
    `${markdownText(summaryLine(plan))} Checked at ${codeSpan(report.checked_at)}${report.commit ? ` against commit ${codeSpan(report.commit)}` : ""}.`,
    "",
  ];
  for (const entry of report.resources.slice(0, ISSUE_ROWS)) {
    const fields = entry.fields.slice(0, 20).map((f) => codeSpan(f, 200));
    const more = entry.fields.length > 20 ? `, and ${entry.fields.length - 20} more` : "";
    lines.push(
      `- ${codeSpan(`${SYMBOL[entry.action]} ${entry.address}`, 300)} **${CAUSE_TEXT[entry.cause]}**: ${markdownText(entry.reason, 500)}${fields.length > 0 ? `. Fields: ${fields.join(", ")}${more}` : ""}`,
    );
  }
  if (report.resources.length > ISSUE_ROWS) lines.push(`- and ${report.resources.length - ISSUE_ROWS} more resources`);
  for (const health of report.secret_health.slice(0, ISSUE_ROWS)) {
    lines.push(
      `- ${codeSpan(health.address, 300)} secret ${markdownText(health.status)}: ${markdownText(health.reason)}`,
    );
  }
  if (report.warnings.length > 0) {
    lines.push("", "Warnings:");
    for (const warning of report.warnings.slice(0, 50)) lines.push(`- ${markdownText(warning, 500)}`);
  }
  lines.push(
    "",
    "Changed outside reconcile: someone edited the resource after the last apply (console, script); apply restores the specs, or change the specs to keep the edit. Not applied yet: the specs hold changes no apply wrote. This issue closes itself when live state matches again.",
  );
  return { title: `Drift: stack ${report.stack}, target ${report.target}`.slice(0, 200), body: lines.join("\n") };
}
