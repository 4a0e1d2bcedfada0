/**
 * The drift issue: one open GitHub issue per stack and target while live state differs from the default branch,
 * found again by a hidden marker on its first line (like the sticky plan comment), updated while the drift persists
 * (a comment only when the drift itself changed, never one per scheduled run), and closed with a comment when live
 * state matches again. The pattern of Terraform drift tools that open an issue per workspace (ANCHORS.md).
 */
import type { GitHub } from "./octokit.js";

/** The label every drift issue carries; listing by it keeps the search to a page or two. */
export const DRIFT_LABEL = "reconcile-drift";

/** A repository. */
export interface RepoRef {
  owner: string;
  repo: string;
}

/** What the scheduled run found. */
export interface DriftReport {
  /** One line HTML comment naming the stack and target, such as `<!-- reconcile-drift stack=fleet target=prod -->`. */
  marker: string;
  /** The issue title while drifted. */
  title: string;
  /**
   * The issue body while drifted (it must start with `marker`), or null when live state matches the specs. Must hold
   * no secret (render it from the plan, which is masked).
   */
  body: string | null;
  /**
   * A digest of the drift itself (for example the plan digest): equal fingerprints mean the same drift, so the issue
   * is left untouched. Kept in the body as a hidden line.
   */
  fingerprint: string;
  /** Closing comment text when the drift is gone (for example, which commit was checked). */
  resolvedNote?: string;
  /** Only issues by this login count (`github-actions[bot]`, `<app>[bot]`); see `StickyOptions.author`. */
  author?: string;
}

/** What `syncDriftIssue` did: `none` means clean and no issue was open. */
export interface DriftIssueResult {
  action: "opened" | "updated" | "unchanged" | "closed" | "none";
  number?: number;
  url?: string;
}

interface IssueRow {
  number: number;
  body?: string | null;
  html_url: string;
  user: { login: string } | null;
  pull_request?: unknown;
}

const fingerprintLine = (fingerprint: string) => `<!-- reconcile-drift-fingerprint ${fingerprint} -->`;
const firstLine = (body: string | null | undefined) => (body ?? "").split("\n", 1)[0]?.replace(/\r$/, "") ?? "";

/**
 * Opens, updates or closes the drift issue for `report.marker` so that it reflects `report`. Duplicate open issues
 * with the marker (two runs at once) are closed as duplicates of the lowest-numbered one.
 * @throws Error when the body does not start with the marker, or the fingerprint is not a plain token
 * @throws the octokit `RequestError` of a failed request (after plugin-retry's retries)
 */
export async function syncDriftIssue(github: GitHub, repo: RepoRef, report: DriftReport): Promise<DriftIssueResult> {
  if (report.body !== null && firstLine(report.body) !== report.marker) {
    throw new Error("the drift issue body must start with its marker line");
  }
  if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(report.fingerprint))
    throw new Error("the drift fingerprint must be a plain token");
  const open = (
    (await github.paginate(github.rest.issues.listForRepo, {
      ...repo,
      state: "open",
      labels: DRIFT_LABEL,
      per_page: 100,
    })) as IssueRow[]
  )
    .filter((i) => !i.pull_request && firstLine(i.body) === report.marker)
    .filter((i) => report.author === undefined || i.user?.login === report.author)
    .sort((a, b) => a.number - b.number);
  const [current, ...extra] = open;
  for (const duplicate of extra) {
    await github.rest.issues.createComment({
      ...repo,
      issue_number: duplicate.number,
      body: `Duplicate of #${current?.number}; closing.`,
    });
    await github.rest.issues.update({
      ...repo,
      issue_number: duplicate.number,
      state: "closed",
      state_reason: "not_planned",
    });
  }

  if (report.body === null) {
    if (!current) return { action: "none" };
    await github.rest.issues.createComment({
      ...repo,
      issue_number: current.number,
      body: report.resolvedNote ?? "Live state matches the specs again; closing.",
    });
    await github.rest.issues.update({
      ...repo,
      issue_number: current.number,
      state: "closed",
      state_reason: "completed",
    });
    return { action: "closed", number: current.number, url: current.html_url };
  }

  const [head, ...rest] = report.body.split("\n");
  const body = [head, fingerprintLine(report.fingerprint), ...rest].join("\n");
  if (!current) {
    const { data } = await github.rest.issues.create({ ...repo, title: report.title, body, labels: [DRIFT_LABEL] });
    return { action: "opened", number: data.number, url: data.html_url };
  }
  if ((current.body ?? "").includes(fingerprintLine(report.fingerprint))) {
    return { action: "unchanged", number: current.number, url: current.html_url };
  }
  await github.rest.issues.update({ ...repo, issue_number: current.number, title: report.title, body });
  await github.rest.issues.createComment({
    ...repo,
    issue_number: current.number,
    body: "The drift changed; the description above shows it as of this run.",
  });
  return { action: "updated", number: current.number, url: current.html_url };
}
