/**
 * The GitHub pipeline of reconcile, independent of where it runs (an Actions job or the App's webhook server): plan a
 * pull request's checkout for every target and post one sticky comment per target; on merge, re-plan at the merge
 * commit and apply only what was reviewed (ADR 15).
 *
 * The reviewed-plan rule: the plan comment carries the plan digest (`planDigest`, which ignores timestamps) on a
 * hidden meta line (`planMetaLine`). The merge run reads the digest of the last plan posted on the merged pull
 * request (only from comments by `author`), re-plans, and applies only when the fresh digest is equal. Otherwise it
 * posts the fresh plan in a separate comment (marker `reconcile-merge-plan`, never read back as reviewed, so
 * re-running the job cannot apply it), applies nothing and fails; a person then applies it by its digest.
 *
 * What depends on the host (how a target connects, the lock, how the apply prints) comes in through `PipelineHost`,
 * so the CLI and the App run the same steps. Nothing here prints a secret: plans mask them, and the result comment
 * holds addresses, ids and escaped error messages only.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type Anthropic from "@anthropic-ai/sdk";
import type { ApplyResult } from "../reconcile/apply.js";
import { ACTION_PAST, PlanRefused, planHasChanges } from "../reconcile/plan.js";
import { planDigest } from "../reconcile/plan-digest.js";
import { writePlanFile } from "../reconcile/plan-file.js";
import {
  codeSpan,
  GITHUB_COMMENT_MAX,
  markdownText,
  parsePlanMeta,
  planMarker,
  renderPlanMarkdown,
} from "../reconcile/render-markdown.js";
import { summaryLine } from "../reconcile/render-text.js";
import {
  type LoadedProject,
  loadSpecs,
  type PreparedPlan,
  preparePlan,
  SpecErrorsFound,
} from "../reconcile/workflow.js";
import { loadProjectConfig } from "../spec/project-config.js";
import type { SecretSource } from "../spec/types.js";
import { type IssueRef, readStickyComments, upsertStickyComments } from "./comments.js";
import type { GitHub } from "./octokit.js";

/** A target's open connection, as the host gives it to a pipeline step. */
export interface TargetRun {
  client: Anthropic;
  secrets: SecretSource;
  /** Aborts when the apply lock is lost or the run is interrupted: start no new write after that. */
  signal: AbortSignal;
}

/** What the pipeline needs from where it runs. */
export interface PipelineHost {
  /** A line for the job log (stderr in the CLI); never given a secret. */
  log(text: string): void;
  /** Prints an error for a person (spec errors with file:line:col, API errors with status). */
  reportError(error: unknown): void;
  /**
   * Connects to the target of `project` and runs `body`; with `lock`, under the apply lock of the stack and target
   * (ADR 8), taken before `body` observes anything. Closes the connection after.
   * @throws what connecting or locking throws (a missing API key, a held lock), and what `body` throws
   */
  open<T>(project: LoadedProject, lock: boolean, body: (run: TargetRun) => Promise<T>): Promise<T>;
  /** Executes a reviewed plan through the `reconcile apply` path (preflight, then apply with progress lines). */
  apply(prepared: PreparedPlan, run: TargetRun): Promise<{ code: number; result?: ApplyResult }>;
  /** Output of plans in the job log (the text rendering); optional. */
  showPlan?(prepared: PreparedPlan): void;
}

/** A repository and the commit or pull request a step is about. */
export interface RepoRef {
  owner: string;
  repo: string;
}

/** Options shared by the steps. */
export interface StepOptions {
  /** The checkout: the repository root holding `reconcile.yaml`. */
  root: string;
  /** The GitHub client; required to comment and to read a pull request's reviewed plan. */
  github?: GitHub;
  repository: RepoRef;
  host: PipelineHost;
  /** Targets to work on; default every target in `reconcile.yaml`. */
  targets?: readonly string[];
  /** Only comments by this login count as ours (see `upsertStickyComments`): `github-actions[bot]` in Actions. */
  author?: string;
  /** Write comments (default true). */
  comment?: boolean;
}

/** How one target's plan ended. */
export interface TargetPlanResult {
  target: string;
  status: "planned" | "invalid" | "refused" | "failed" | "validated";
  digest?: string;
  changes?: boolean;
  /** The Markdown posted (or that would be posted), all parts joined. */
  markdown?: string;
  /** The comment URL, when one was written. */
  url?: string;
}

/** The marker of the comment that shows a merge-commit plan the merge run refused (never read back as reviewed). */
export function mergePlanMarker(stack: string, target: string): string {
  return planMarker(stack, target).replace("<!-- reconcile-plan ", "<!-- reconcile-merge-plan ");
}

/** The marker of the apply-result comment on the merged pull request. */
export function applyMarker(stack: string, target: string): string {
  return planMarker(stack, target).replace("<!-- reconcile-plan ", "<!-- reconcile-apply ");
}

/** Room left in a part for a note added after rendering. */
const NOTE_ROOM = 4_000;

/** A file-name-safe form of a target name. */
const fileSafe = (name: string) => encodeURIComponent(name).replace(/[%*']/g, "_");

/**
 * The targets to work on, each loaded (specs validated) or reported invalid.
 * @returns the loaded projects, and how many targets were invalid (their errors printed by the host)
 */
async function loadTargets(
  options: StepOptions,
): Promise<{ loaded: LoadedProject[]; invalid: string[]; stack: string | undefined; declared: Set<string> }> {
  const { config, errors } = await loadProjectConfig(options.root);
  if (errors.length > 0) {
    options.host.reportError(new SpecErrorsFound(errors));
    return { loaded: [], invalid: ["(reconcile.yaml)"], stack: undefined, declared: new Set() };
  }
  const names = options.targets && options.targets.length > 0 ? options.targets : config.targets.map((t) => t.name);
  const loaded: LoadedProject[] = [];
  const invalid: string[] = [];
  for (const name of names) {
    try {
      loaded.push(await loadSpecs(options.root, name, { parseCache: false }));
    } catch (error) {
      options.host.log(`Target ${name}: invalid\n`);
      options.host.reportError(error);
      invalid.push(name);
    }
  }
  return { loaded, invalid, stack: config.stack, declared: new Set(config.targets.map((t) => t.name)) };
}

/** A short comment for a target whose plan could not be made: marker, title, what happened, where to look. */
function failureComment(stack: string, target: string, what: string, reasons: readonly string[]): string {
  const marker = planMarker(stack, target);
  const title = `### reconcile plan for ${codeSpan(stack)} on ${codeSpan(target)}`;
  const list = reasons.map((r) => `- ${markdownText(r)}`).join("\n");
  return `${marker}\n${title}\n\n**${what}**${list ? `\n\n${list}` : ""}\n\nSee the job log for details; nothing was applied.\n`.slice(
    0,
    GITHUB_COMMENT_MAX,
  );
}

/** Options of `planPullRequest`. */
export interface PlanPullRequestOptions extends StepOptions {
  pullRequest: { number: number; head_sha: string; fork: boolean };
  /** Where to save each target's plan JSON (`<target>.plan.json`, the `plan --out` format); none when absent. */
  planDir?: string;
}

/** What `planPullRequest` did. */
export interface PlanPullRequestResult {
  /** 0 when every target planned (changes are not failures), 1 on invalid specs, a refused or failed plan. */
  code: number;
  results: TargetPlanResult[];
  /** The Markdown of every target, for the job summary. */
  markdown: string;
}

/**
 * Plans a pull request's checkout for every target and upserts one sticky comment per target (all parts of
 * `renderPlanMarkdown`, with the head SHA and the digest on the meta line). A fork's pull request is only validated:
 * the run has no secrets and a read-only token, so nothing is connected and nothing is posted.
 * @throws the octokit `RequestError` when a comment cannot be written
 */
export async function planPullRequest(options: PlanPullRequestOptions): Promise<PlanPullRequestResult> {
  const { host, pullRequest } = options;
  const issue: IssueRef = { ...options.repository, issue_number: pullRequest.number };
  const { loaded, invalid, stack, declared } = await loadTargets(options);
  const results: TargetPlanResult[] = invalid.map((target) => ({ target, status: "invalid" }));
  if (!pullRequest.fork && stack !== undefined && options.comment !== false && options.github) {
    // An earlier push's plan must not stay on show (or count as reviewed) once the specs are invalid.
    // Only declared targets: a mistyped --target gets no comment of its own.
    for (const target of invalid.filter((t) => declared.has(t))) {
      const body = failureComment(stack, target, "The specs are invalid; no plan was made.", []);
      await upsertStickyComments(options.github, issue, {
        marker: planMarker(stack, target),
        parts: [body],
        ...(options.author ? { author: options.author } : {}),
      });
    }
  }
  if (pullRequest.fork) {
    for (const project of loaded) results.push({ target: project.target.name, status: "validated" });
    host.log(
      `This pull request comes from a fork: its run has no secrets and a read-only token, so reconcile validated the specs (${invalid.length === 0 ? "no errors" : `${invalid.length} invalid target(s)`}) and made no plan against the API and posted no comment.\n` +
        "To get a plan, a maintainer can push the branch to this repository and open the pull request from there, or merge it: the merge run then refuses to apply, posts the merge-commit plan on the pull request, and a maintainer applies it with the workflow_dispatch plan_digest input after reviewing it.\n",
    );
    return { code: invalid.length > 0 ? 1 : 0, results, markdown: "" };
  }
  const markdown: string[] = [];
  for (const project of loaded) {
    const target = project.target.name;
    const marker = planMarker(project.config.stack, target);
    let parts: string[];
    let result: TargetPlanResult;
    try {
      const prepared = await host.open(project, false, (run) =>
        preparePlan({ project, client: run.client, secrets: run.secrets }),
      );
      host.showPlan?.(prepared);
      parts = renderPlanMarkdown(prepared.plan, { head_sha: pullRequest.head_sha });
      const digest = planDigest(prepared.plan);
      result = { target, status: "planned", digest, changes: planHasChanges(prepared.plan) };
      if (options.planDir) {
        await mkdir(options.planDir, { recursive: true });
        const file = join(options.planDir, `${fileSafe(target)}.plan.json`);
        await writePlanFile(file, prepared.plan);
        host.log(`Target ${target}: saved the plan to ${file}\n`);
      }
      host.log(`Target ${target}: ${summaryLine(prepared.plan)} Plan digest: ${digest}\n`);
    } catch (error) {
      host.reportError(error);
      const refused = error instanceof PlanRefused;
      result = { target, status: refused ? "refused" : "failed" };
      parts = [
        failureComment(
          project.config.stack,
          target,
          refused ? "The plan was refused." : "The plan failed.",
          refused ? error.reasons : [],
        ),
      ];
    }
    result.markdown = parts.join("\n");
    markdown.push(result.markdown);
    if (options.comment !== false) {
      if (!options.github) throw new Error("planPullRequest: comment is on, but no GitHub client was given");
      const posted = await upsertStickyComments(options.github, issue, {
        marker,
        parts,
        ...(options.author ? { author: options.author } : {}),
      });
      result.url = posted.url;
      host.log(`Target ${target}: plan comment ${posted.url}\n`);
    }
    results.push(result);
  }
  const ok = results.every((r) => r.status === "planned");
  return { code: ok ? 0 : 1, results, markdown: markdown.join("\n\n") };
}

/** A pull request as the commits API lists it (the fields read here). */
interface PullRow {
  number: number;
  merged_at: string | null;
  merge_commit_sha: string | null;
  base: { ref: string };
  head: { sha: string };
}

/**
 * The pull request whose merge produced `sha` (`GET /repos/{owner}/{repo}/commits/{sha}/pulls`): a merged one whose
 * `merge_commit_sha` is `sha` (merge, squash or rebase), else the only merged one into `branch`.
 * @returns its number and head SHA, or undefined for a direct push
 */
export async function findMergedPullRequest(
  github: GitHub,
  repository: RepoRef,
  sha: string,
  branch?: string,
): Promise<{ number: number; head_sha: string } | undefined> {
  const { data } = await github.rest.repos.listPullRequestsAssociatedWithCommit({
    ...repository,
    commit_sha: sha,
    per_page: 100,
  });
  const merged = (data as PullRow[]).filter((p) => p.merged_at !== null && (!branch || p.base.ref === branch));
  const found = merged.find((p) => p.merge_commit_sha === sha) ?? (merged.length === 1 ? merged[0] : undefined);
  return found ? { number: found.number, head_sha: found.head.sha } : undefined;
}

/** Options of `applyMerge`. */
export interface ApplyMergeOptions extends StepOptions {
  /** The commit being applied (the merge commit on the default branch). */
  sha: string;
  /** The merged pull request, when there is one (`findMergedPullRequest`). */
  pullRequest?: { number: number; head_sha: string };
  /** A digest a person approved (`workflow_dispatch`): applied instead of the pull request's last posted one. */
  planDigest?: string;
}

/** How one target's merge apply ended. */
export interface TargetApplyResult {
  target: string;
  status: "applied" | "failed" | "unchanged" | "refused" | "no-review" | "invalid" | "error";
  reviewed?: string;
  digest?: string;
}

/**
 * The digest of the last plan posted on the pull request for the project's stack and target (the meta line of the
 * first part of the sticky plan comment by `author`), or undefined when there is none or it cannot be read.
 */
export async function reviewedDigest(
  github: GitHub,
  issue: IssueRef,
  project: LoadedProject,
  author?: string,
): Promise<{ digest: string; head_sha?: string } | undefined> {
  const comments = await readStickyComments(
    github,
    issue,
    planMarker(project.config.stack, project.target.name),
    author,
  );
  for (const comment of comments) {
    const meta = parsePlanMeta(comment.body ?? "");
    if (meta?.part === 1) return { digest: meta.digest, ...(meta.head_sha ? { head_sha: meta.head_sha } : {}) };
  }
  return undefined;
}

/**
 * The apply-result comment: per resource done / failed / skipped with its id, never a secret (outcome errors are
 * escaped Markdown text); cut with a note when it would pass GitHub's limit.
 */
export function renderApplyResult(
  project: LoadedProject,
  sha: string,
  digest: string,
  code: number,
  result: ApplyResult | undefined,
): string {
  const marker = applyMarker(project.config.stack, project.target.name);
  const title = `### reconcile apply for ${codeSpan(project.config.stack)} on ${codeSpan(project.target.name)}`;
  const headline = !result
    ? "Nothing was applied: a precondition failed (see the job log)."
    : code === 0
      ? `Apply complete: ${result.done} resource${result.done === 1 ? "" : "s"} changed.`
      : `Apply finished with errors: ${result.done} done, ${result.failed} failed, ${result.skipped} not attempted.`;
  const facts = `- Commit: ${codeSpan(sha)}\n- Plan digest: ${codeSpan(digest)}`;
  const lines = (result?.outcomes ?? []).map((o) => {
    const id = o.id ? ` (${codeSpan(o.id)})` : "";
    if (o.status === "done") return `- ✓ ${codeSpan(o.address)}: ${ACTION_PAST[o.action]}${id}`;
    const what = o.status === "failed" ? `${o.action} failed` : "not attempted";
    return `- ${o.status === "failed" ? "✗" : "-"} ${codeSpan(o.address)}: ${what}${id}: ${markdownText(`${o.error ?? ""}`)}`;
  });
  let body = `${marker}\n${title}\n\n**${headline}**\n\n${facts}\n`;
  const limit = GITHUB_COMMENT_MAX - 200;
  for (const [i, line] of lines.entries()) {
    if (body.length + line.length + 1 > limit) {
      body += `\n… and ${lines.length - i} more; see the job log.\n`;
      break;
    }
    body += `${i === 0 ? "\n" : ""}${line}\n`;
  }
  return body;
}

/** The note on top of a refused merge-commit plan: why nothing was applied and how to proceed. */
function refusalNote(reviewed: string | undefined, fresh: string, sha: string): string {
  const why = reviewed
    ? `The plan at the merge commit (digest ${codeSpan(fresh)}) differs from the last plan reviewed on this pull request (digest ${codeSpan(reviewed)}): the live state or the default branch changed since.`
    : "No reviewed plan was found on this pull request for this target (its plan comment is missing or was not written by reconcile).";
  return `> [!WARNING]\n> **Nothing was applied.** ${why}\n>\n> Review the plan below (made at ${codeSpan(sha)}). To apply it, run the apply workflow by hand (workflow_dispatch) with \`plan_digest\` = ${codeSpan(fresh)}. To change it instead, open a new pull request.`;
}

/**
 * Applies a merge: per target, takes the apply lock, re-plans at the checkout, and applies only when the fresh
 * plan's digest equals the reviewed one (`planDigest` option, else the pull request's last posted plan). A
 * different or missing digest applies nothing: the fresh plan is posted on the pull request with how to proceed.
 * After an apply, the result is commented on the pull request. Without a pull request and without `planDigest`
 * (a direct push), nothing is applied.
 * @returns 0 when every target applied or had nothing to do; 1 when any was refused, invalid or failed
 */
export async function applyMerge(options: ApplyMergeOptions): Promise<{ code: number; results: TargetApplyResult[] }> {
  const { host, pullRequest } = options;
  if (!pullRequest && !options.planDigest) {
    host.log(
      `Commit ${options.sha} is not the merge of a pull request (a direct push): nothing was applied, since no plan was reviewed. Open a pull request, or run the apply workflow by hand (workflow_dispatch) with the plan_digest of a plan you reviewed.\n`,
    );
    return { code: 0, results: [] };
  }
  const { loaded, invalid } = await loadTargets(options);
  const results: TargetApplyResult[] = invalid.map((target) => ({ target, status: "invalid" }));
  if (options.planDigest && loaded.length !== 1) {
    host.reportError(
      new Error(
        `--plan-digest applies the plan of one target, but ${loaded.length} targets are selected; choose one with --target`,
      ),
    );
    return { code: 1, results };
  }
  const { github } = options;
  const issue = pullRequest && github ? { ...options.repository, issue_number: pullRequest.number } : undefined;
  const comment = options.comment !== false && issue !== undefined;
  for (const project of loaded) {
    const target = project.target.name;
    try {
      const reviewed = options.planDigest
        ? { digest: options.planDigest }
        : issue
          ? await reviewedDigest(github as GitHub, issue, project, options.author)
          : undefined;
      const outcome = await host.open(project, true, async (run) => {
        const prepared = await preparePlan({ project, client: run.client, secrets: run.secrets });
        const fresh = planDigest(prepared.plan);
        // Applying nothing is always safe: a re-run after a successful apply ends here.
        if (!planHasChanges(prepared.plan)) return { kind: "unchanged" as const, fresh };
        if (fresh !== reviewed?.digest) return { kind: "refused" as const, prepared, fresh };
        host.showPlan?.(prepared);
        return { kind: "applied" as const, fresh, ...(await host.apply(prepared, run)) };
      });
      if (outcome.kind === "refused") {
        host.showPlan?.(outcome.prepared);
        host.log(
          `Target ${target}: refused; nothing was applied. ${reviewed ? `The fresh plan's digest ${outcome.fresh} differs from the reviewed ${reviewed.digest}` : "No reviewed plan was found on the pull request"}. Review the plan${comment ? " posted on the pull request" : " above"}; to apply it, run the apply workflow by hand with plan_digest=${outcome.fresh} (reconcile github apply --target ${target} --plan-digest ${outcome.fresh}).\n`,
        );
        if (comment && issue && github) {
          const parts = renderPlanMarkdown(outcome.prepared.plan, {
            head_sha: options.sha,
            maxChars: GITHUB_COMMENT_MAX - NOTE_ROOM,
          });
          const marker = mergePlanMarker(project.config.stack, target);
          const note = refusalNote(reviewed?.digest, outcome.fresh, options.sha);
          const bodies = parts.map((part, i) => {
            const [, meta, ...rest] = part.split("\n");
            return [marker, meta, ...(i === 0 ? [note, ""] : []), ...rest].join("\n");
          });
          const posted = await upsertStickyComments(github, issue, {
            marker,
            parts: bodies,
            ...(options.author ? { author: options.author } : {}),
          });
          host.log(`Target ${target}: merge-commit plan posted at ${posted.url}\n`);
        }
        results.push({
          target,
          status: reviewed ? "refused" : "no-review",
          digest: outcome.fresh,
          ...(reviewed ? { reviewed: reviewed.digest } : {}),
        });
        continue;
      }
      if (outcome.kind === "unchanged") {
        host.log(`Target ${target}: no changes; nothing to apply.\n`);
        results.push({ target, status: "unchanged", digest: outcome.fresh });
        continue;
      }
      host.log(`Target ${target}: the plan matches the reviewed one (digest ${outcome.fresh}); applied.\n`);
      if (comment && issue && github) {
        const body = renderApplyResult(project, options.sha, outcome.fresh, outcome.code, outcome.result);
        const posted = await upsertStickyComments(github, issue, {
          marker: applyMarker(project.config.stack, target),
          parts: [body],
          ...(options.author ? { author: options.author } : {}),
        });
        host.log(`Target ${target}: apply result posted at ${posted.url}\n`);
      }
      results.push({ target, status: outcome.code === 0 ? "applied" : "failed", digest: outcome.fresh });
    } catch (error) {
      host.reportError(error);
      results.push({ target, status: "error" });
    }
  }
  const ok = results.every((r) => r.status === "applied" || r.status === "unchanged");
  return { code: ok ? 0 : 1, results };
}
