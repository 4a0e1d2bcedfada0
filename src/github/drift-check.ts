/**
 * One drift check of one target, shared by `reconcile drift [--github-issue]` and the App's scheduled drift check:
 * plan the checkout against live state (read only; a mass archive is reported, not refused), build the drift report
 * (src/reconcile/drift.ts), and keep the target's drift issue in step with it (`syncDriftIssue`).
 */
import type Anthropic from "@anthropic-ai/sdk";
import { buildDriftReport, type DriftReport, driftMarker, renderDriftIssue } from "../reconcile/drift.js";
import type { Plan } from "../reconcile/plan.js";
import { needsRotation, secretHealth } from "../reconcile/secrets-health.js";
import { type LoadedProject, type PrepareOptions, preparePlan } from "../reconcile/workflow.js";
import type { SecretSource } from "../spec/types.js";
import { type DriftIssueResult, type RepoRef, syncDriftIssue } from "./drift-issue.js";
import type { GitHub } from "./octokit.js";

/** Inputs of `checkDrift`. */
export interface DriftCheckOptions {
  project: LoadedProject;
  client: Anthropic;
  secrets: SecretSource;
  /** The allowed clock skew between this machine and the API, in milliseconds (`clockSkewMs`). */
  clockSkewMs: number;
  /** The commit the specs come from, when known (shown in the report and the closing note). */
  commit?: string;
  /** The live state when the caller started observing early (`PrepareOptions.observed`). */
  observed?: PrepareOptions["observed"];
}

/**
 * Plans `project` against live state and builds its drift report. Reads only: nothing is written to the API.
 * @returns the report and the plan it was built from (for rendering)
 * @throws what `preparePlan` throws (API errors)
 */
export async function checkDrift(options: DriftCheckOptions): Promise<{ report: DriftReport; plan: Plan }> {
  const { plan, live, desired } = await preparePlan({
    project: options.project,
    client: options.client,
    secrets: options.secrets,
    // Nothing is written, so a mass archive is reported rather than refused.
    allowMassPrune: true,
    observed: options.observed,
  });
  // Credentials due for rotation or expiring (issue 9 item 2) count as drift too.
  const health = secretHealth(desired, live, { now: new Date() })
    .filter(needsRotation)
    .map(({ address, status, reason }) => ({ address, status, reason }));
  const report = buildDriftReport(plan, live, {
    clockSkewMs: options.clockSkewMs,
    secretHealth: health,
    ...(options.commit ? { commit: options.commit } : {}),
  });
  return { report, plan };
}

/**
 * Opens, updates or closes the drift issue of the report's stack and target in `repository` (`syncDriftIssue`).
 * `author`: only issues by this login count as reconcile's (`github-actions[bot]`, `<app slug>[bot]`).
 * @throws the octokit `RequestError` of a failed request
 */
export function publishDrift(
  github: GitHub,
  repository: RepoRef,
  drift: { report: DriftReport; plan: Plan },
  options: { commit?: string; author?: string } = {},
): Promise<DriftIssueResult> {
  const { report, plan } = drift;
  const { title, body } = renderDriftIssue(report, plan);
  return syncDriftIssue(github, repository, {
    marker: driftMarker(report.stack, report.target),
    title,
    body: report.drifted ? body : null,
    fingerprint: report.fingerprint,
    resolvedNote: `Live state matches the specs again${options.commit ? ` (checked against commit ${options.commit.slice(0, 12)})` : ""}; closing.`,
    ...(options.author ? { author: options.author } : {}),
  });
}
