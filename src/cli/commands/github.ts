/**
 * `reconcile github plan` and `reconcile github apply`: the GitHub Actions mode (issue 7; docs/github.md, ADR 15).
 *
 * - `github plan [--target T ...] [--plan-dir DIR] [--no-comment]`, in a `pull_request` run: validate, plan every
 *   target (or those given), upsert one sticky comment per target, append the Markdown to `$GITHUB_STEP_SUMMARY`,
 *   save each plan under `--plan-dir` (default `.reconcile/plans/` under the repository root). Exit 1 on invalid specs,
 *   a refused or failed plan; 0 otherwise (changes are not failures). A fork's pull request is only validated.
 * - `github apply [--target T ...] [--plan-digest D]`, in a `push` run on the default branch (or `workflow_dispatch`):
 *   apply only the plan reviewed on the merged pull request, or the plan whose digest a person gave; exit 1 when
 *   anything was refused or failed.
 *
 * Reads the run from the runner's variables (`readActionsContext`); the token from `GITHUB_TOKEN`; comments count as
 * ours only when written by `--comment-author` (default `github-actions[bot]`, or `RECONCILE_COMMENT_AUTHOR`).
 */
import { join } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { appendStepSummary, eventDefaultBranch } from "../../github/actions.js";
import { type ActionsContext, readActionsContext } from "../../github/actions-context.js";
import { createGitHub, type GitHub } from "../../github/octokit.js";
import { applyMerge, findMergedPullRequest, planPullRequest } from "../../github/pipeline.js";
import { parseDuration } from "../../providers/lock.js";
import { escapeControl } from "../../reconcile/escape.js";
import { reportError } from "../errors.js";
import { cliHost, type HostFlags } from "../github-host.js";
import type { Output } from "../output.js";
import { findRoot } from "../root.js";
import { parseTimeout } from "../session.js";
import { githubServeCommand } from "./github-serve.js";

/** The login of comments written with the `GITHUB_TOKEN` of an Actions run. */
export const ACTIONS_BOT = "github-actions[bot]";

/** Flags shared by both subcommands. */
interface GitHubFlags extends HostFlags {
  dir?: string;
  target: string[];
  comment: boolean;
  commentAuthor?: string;
}

interface PlanFlags extends GitHubFlags {
  planDir?: string;
}

interface ApplyFlags extends GitHubFlags {
  planDigest?: string;
  lockTimeout?: number;
}

/** Thrown for a run this command cannot work in; the message says what to do. */
class GitHubUsageError extends Error {}

/** Whether `url` points at this machine (a local API double, never GitHub): its requests are not paced. */
function isLoopback(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === "localhost" || host === "[::1]" || /^127\./.test(host);
  } catch {
    return false;
  }
}

/**
 * The GitHub client of the run, from `GITHUB_TOKEN`.
 * @throws GitHubUsageError when the token is not set
 */
function gitHubFor(context: ActionsContext, output: Output): GitHub {
  const token = process.env.GITHUB_TOKEN;
  if (!token) {
    throw new GitHubUsageError(
      "GITHUB_TOKEN is not set: pass it to the step (env: GITHUB_TOKEN: ${{ github.token }}, or the action's github-token input), or use --no-comment",
    );
  }
  return createGitHub({ token, baseUrl: context.apiUrl, throttle: !isLoopback(context.apiUrl), warn: output.err });
}

const author = (flags: GitHubFlags) => flags.commentAuthor ?? process.env.RECONCILE_COMMENT_AUTHOR ?? ACTIONS_BOT;

/** Runs `body`, turning any error into stderr lines and exit code 1. */
async function guarded(output: Output, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof GitHubUsageError) {
      output.err(`Error: ${escapeControl(error.message)}\n`);
      return 1;
    }
    return reportError(error, output);
  }
}

/** Runs `github plan` and returns the exit code. */
export function runGitHubPlan(flags: PlanFlags, output: Output): Promise<number> {
  return guarded(output, async () => {
    const context = await readActionsContext();
    if (context.event === "pull_request_target") {
      throw new GitHubUsageError(
        "reconcile does not plan in pull_request_target runs: they hold secrets and a write token, and planning would run the pull request's specs with them (docs/github.md). Trigger the workflow on pull_request.",
      );
    }
    if (context.event !== "pull_request" || !context.pullRequest) {
      throw new GitHubUsageError(
        `github plan runs in a pull_request run, not a ${context.event} run; use \`reconcile plan\` elsewhere`,
      );
    }
    const root = findRoot(flags.dir);
    const pullRequest = context.pullRequest;
    const comment = flags.comment && !pullRequest.fork;
    const result = await planPullRequest({
      root,
      ...(comment ? { github: gitHubFor(context, output) } : {}),
      repository: { owner: context.owner, repo: context.repo },
      host: cliHost(flags, output),
      targets: flags.target,
      author: author(flags),
      comment,
      pullRequest,
      planDir: flags.planDir ?? join(root, ".reconcile", "plans"),
    });
    const summary = pullRequest.fork
      ? `### reconcile\n\nThis pull request comes from a fork: the specs were validated (${result.code === 0 ? "no errors" : "errors, see the job log"}); no plan was made against the API. See the job log for how a maintainer gets a plan.\n`
      : result.markdown;
    await appendStepSummary(context.stepSummary, summary);
    return result.code;
  });
}

/** Runs `github apply` and returns the exit code. */
export function runGitHubApply(flags: ApplyFlags, output: Output): Promise<number> {
  return guarded(output, async () => {
    const context = await readActionsContext();
    if (context.event !== "push" && context.event !== "workflow_dispatch") {
      throw new GitHubUsageError(
        `github apply runs on a push to the default branch or a workflow_dispatch run, not a ${context.event} run`,
      );
    }
    if (flags.planDigest && context.event !== "workflow_dispatch") {
      throw new GitHubUsageError(
        "--plan-digest is for workflow_dispatch runs (a person approving a plan); a push applies only the plan reviewed on its pull request",
      );
    }
    const branch = await eventDefaultBranch();
    if (!branch || context.ref !== `refs/heads/${branch}`) {
      throw new GitHubUsageError(
        `github apply runs on the default branch${branch ? ` (${branch})` : ""}, not ${context.ref || "an unknown ref"}; nothing was applied`,
      );
    }
    if (!context.sha) throw new GitHubUsageError("GITHUB_SHA is not set; the commit to apply is unknown");
    const github = gitHubFor(context, output);
    const repository = { owner: context.owner, repo: context.repo };
    const pullRequest = await findMergedPullRequest(github, repository, context.sha, branch);
    if (pullRequest) output.err(`Commit ${context.sha} is the merge of pull request #${pullRequest.number}.\n`);
    const { code } = await applyMerge({
      root: findRoot(flags.dir),
      github,
      repository,
      host: cliHost(flags, output),
      targets: flags.target,
      author: author(flags),
      comment: flags.comment,
      sha: context.sha,
      ...(pullRequest ? { pullRequest } : {}),
      ...(flags.planDigest ? { planDigest: flags.planDigest } : {}),
    });
    return code;
  });
}

const collect = (value: string, previous: string[]) => [...previous, value];

function digestArg(value: string): string {
  if (!/^[0-9a-f]{32}$/.test(value)) {
    throw new InvalidArgumentError("expected a plan digest: 32 lower-case hex characters, as the plan comment shows");
  }
  return value;
}

function duration(value: string): number {
  try {
    return parseDuration(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function shared(command: Command): Command {
  return command
    .option("--dir <path>", "repository root (default: nearest directory with reconcile.yaml or .git)")
    .option("--target <name>", "a target from reconcile.yaml; repeat for several (default: every target)", collect, [])
    .option("--no-comment", "write no pull-request comment")
    .option(
      "--comment-author <login>",
      "only comments by this login count as reconcile's (default: RECONCILE_COMMENT_AUTHOR, else github-actions[bot])",
    )
    .option("--timeout <duration>", "the longest wait for one API request, like 30s or 2m (default 60s)", parseTimeout)
    .option("--insecure-base-url", "allow a plain http:// base URL to a host other than loopback");
}

/** The commander definition of `github` and its subcommands. */
export function githubCommand(output: Output, setExit: (code: number) => void): Command {
  const github = new Command("github").description(
    "GitHub integration: plan comments on pull requests and apply only the reviewed plan on merge, from Actions (docs/github.md) or as a GitHub App (`github serve`, docs/github-app.md)",
  );
  github.addCommand(
    shared(new Command("plan"))
      .description(
        "in a pull_request run: validate, plan every target, upsert one plan comment per target, write the job summary",
      )
      .option("--plan-dir <dir>", "save each target's plan JSON here (default: .reconcile/plans under the root)")
      .action(async (flags: PlanFlags) => setExit(await runGitHubPlan(flags, output)))
      .exitOverride()
      .configureOutput({ writeOut: output.out, writeErr: output.err }),
  );
  github.addCommand(
    shared(new Command("apply"))
      .description(
        "on a push to the default branch: re-plan and apply only when the plan equals the one reviewed on the merged pull request",
      )
      .option("--plan-digest <digest>", "workflow_dispatch: apply when the fresh plan's digest is this one", digestArg)
      .option("--lock-timeout <duration>", "wait this long for the stack's lock (default 0)", duration)
      .action(async (flags: ApplyFlags) => setExit(await runGitHubApply(flags, output)))
      .exitOverride()
      .configureOutput({ writeOut: output.out, writeErr: output.err }),
  );
  github.addCommand(
    githubServeCommand(output, setExit).exitOverride().configureOutput({ writeOut: output.out, writeErr: output.err }),
  );
  return github;
}
