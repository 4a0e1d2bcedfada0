/**
 * What the GitHub App calls to plan, apply and check drift: the same pipeline the Actions mode runs
 * (src/github/pipeline*.ts), seen through a small interface so the App only handles delivery, checkout, ordering and
 * check runs. Inputs are generic (a checked-out repository folder, an installation-authenticated client, owner/repo,
 * the commit), so both modes share one implementation.
 */
import type { GitHub } from "./octokit.js";

/** What every call gets. */
export interface RepositoryContext {
  /** A GitHub client authenticated as the App's installation on this repository (token cached and renewed). */
  octokit: GitHub;
  owner: string;
  repo: string;
  /**
   * The targets to work on; undefined means every target of reconcile.yaml. The App passes undefined: it serialises
   * applies per repository, which covers every target.
   */
  targets?: string[];
  /**
   * Aborted when the result is no longer wanted (a newer push to the pull request, server shutdown). A pipeline
   * should stop, and must not post a comment once it is aborted.
   */
  signal: AbortSignal;
  /** One JSON line per event, for the server log (never a token or secret). */
  log: (fields: Record<string, unknown>) => void;
}

/** A pull request to plan, at `head_sha`. */
export interface PullRequestContext extends RepositoryContext {
  pull_number: number;
  head_sha: string;
  base_ref: string;
}

/** A push to the default branch to apply, at `sha` (the merge commit). */
export interface MergeContext extends RepositoryContext {
  sha: string;
  ref: string;
}

/** A drift check of the default branch at `sha`. */
export interface DriftContext extends RepositoryContext {
  sha: string;
  default_branch: string;
}

/** The outcome the App shows in the `reconcile/plan` check run (the pipeline posts its own comment). */
export interface PlanOutcome {
  /** success: planned (with or without changes); failure: invalid specs or a refused plan. */
  conclusion: "success" | "failure" | "neutral";
  /** One line, such as `Plan: 1 to create, 2 to update, 0 to archive` or `No changes`. */
  title: string;
  /** Markdown for the check run page (cut to GitHub's 65,535 characters by the App). */
  summary: string;
}

/** The outcome of an apply or a drift check, for the server log. */
export interface RunOutcome {
  conclusion: "success" | "failure" | "neutral";
  title: string;
}

/**
 * The pipeline the App drives.
 * - `planPullRequest`: validate and plan every target of the checkout, upsert the plan comment on the pull request
 *   (unless `ctx.signal` is aborted), return the check run outcome.
 * - `applyMerge`: apply the merge commit under the "only what was reviewed" rule and comment the result on the
 *   merged pull request. The App never runs two of one repository at once.
 * - `driftCheck`: plan the default branch against live state and open, update or close the drift issue.
 * A throw is shown as a failed check run (plan) or logged (apply, drift) with its message.
 */
export interface AppPipeline {
  planPullRequest(checkoutDir: string, ctx: PullRequestContext): Promise<PlanOutcome>;
  applyMerge(checkoutDir: string, ctx: MergeContext): Promise<RunOutcome>;
  driftCheck(checkoutDir: string, ctx: DriftContext): Promise<RunOutcome>;
}
