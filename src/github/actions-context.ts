/**
 * What a GitHub Actions run tells reconcile about itself, read from the variables and the event file the runner
 * sets (docs.github.com "Variables" and "Events that trigger workflows"): the repository, the API root, the token,
 * the event, the pull request (number, head SHA, whether it comes from a fork), and the job summary file.
 */
import { readFile } from "node:fs/promises";

/** The run as reconcile needs it. */
export interface ActionsContext {
  owner: string;
  repo: string;
  /** `GITHUB_API_URL` (GitHub Enterprise Server has its own), default https://api.github.com. */
  apiUrl: string;
  /** `GITHUB_EVENT_NAME`: `pull_request`, `push`, `schedule`, `workflow_dispatch`, ... */
  event: string;
  /** `GITHUB_SHA`: the commit the run is for (for `pull_request`, the test merge commit). */
  sha: string;
  /** `GITHUB_REF`. */
  ref: string;
  /** The pull request of a `pull_request` event (and `pull_request_target`, which reconcile does not use). */
  pullRequest?: {
    number: number;
    /** The head commit: what the author pushed, shown in the plan comment. */
    head_sha: string;
    /** The head repository is not the base repository: the run has no secrets and a read-only token. */
    fork: boolean;
  };
  /** `GITHUB_STEP_SUMMARY`: a file whose Markdown shows on the run's summary page. */
  stepSummary?: string;
}

/** Thrown when the process is not in a GitHub Actions run or the run lacks what the command needs. */
export class NotInActionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotInActionsError";
  }
}

interface PullRequestEvent {
  pull_request?: {
    number?: unknown;
    head?: { sha?: unknown; repo?: { full_name?: unknown } | null };
    base?: { repo?: { full_name?: unknown } };
  };
}

/**
 * Reads the Actions context from `env` (default `process.env`).
 * @throws NotInActionsError when `GITHUB_REPOSITORY` or `GITHUB_EVENT_NAME` is not set, or the event file of a
 *   pull-request event cannot be read or lacks the pull request
 */
export async function readActionsContext(env: NodeJS.ProcessEnv = process.env): Promise<ActionsContext> {
  const repository = env.GITHUB_REPOSITORY ?? "";
  const [owner, repo, ...rest] = repository.split("/");
  if (!owner || !repo || rest.length > 0 || !env.GITHUB_EVENT_NAME) {
    throw new NotInActionsError(
      "not in a GitHub Actions run (GITHUB_REPOSITORY and GITHUB_EVENT_NAME are not set); run this command from a workflow, or use `reconcile plan --markdown` to see what it would post",
    );
  }
  const context: ActionsContext = {
    owner,
    repo,
    apiUrl: env.GITHUB_API_URL || "https://api.github.com",
    event: env.GITHUB_EVENT_NAME,
    sha: env.GITHUB_SHA ?? "",
    ref: env.GITHUB_REF ?? "",
    ...(env.GITHUB_STEP_SUMMARY ? { stepSummary: env.GITHUB_STEP_SUMMARY } : {}),
  };
  if (context.event === "pull_request" || context.event === "pull_request_target") {
    const file = env.GITHUB_EVENT_PATH;
    if (!file) throw new NotInActionsError("GITHUB_EVENT_PATH is not set; the pull request cannot be found");
    let event: PullRequestEvent;
    try {
      event = JSON.parse(await readFile(file, "utf8")) as PullRequestEvent;
    } catch (error) {
      throw new NotInActionsError(`cannot read the event file ${file} (${(error as Error).message})`);
    }
    const pr = event.pull_request;
    if (typeof pr?.number !== "number" || typeof pr.head?.sha !== "string") {
      throw new NotInActionsError(`the event file ${file} holds no pull request`);
    }
    const head = pr.head.repo?.full_name;
    const base = pr.base?.repo?.full_name;
    context.pullRequest = {
      number: pr.number,
      head_sha: pr.head.sha,
      // A deleted fork has no head repo: treat it as a fork (no trust).
      fork: typeof head !== "string" || head !== (typeof base === "string" ? base : repository),
    };
  }
  return context;
}
