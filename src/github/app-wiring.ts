/**
 * The real pipeline of the GitHub App (`reconcile github serve`): adapts the host-agnostic steps the Actions mode
 * runs (src/github/pipeline.ts: `planPullRequest`, `findMergedPullRequest`, `applyMerge`; src/github/drift-check.ts)
 * to the `AppPipeline` interface the App server drives. What depends on where it runs (connecting to a target, the
 * apply lock, the apply path) comes in as a `PipelineHost`; the CLI passes its own (src/cli/github-host.ts).
 *
 * Comments and drift issues count as reconcile's only when written by the App's bot login (`<app slug>[bot]`,
 * `appBotLogin`), so a comment forged by anyone else is never read as the reviewed plan.
 */
import type { App } from "@octokit/app";
import { summaryLine } from "../reconcile/render-text.js";
import type { LoadedProject } from "../reconcile/workflow.js";
import { loadSpecs, SpecErrorsFound } from "../reconcile/workflow.js";
import { loadProjectConfig } from "../spec/project-config.js";
import type { AppPipeline, PlanOutcome, RunOutcome } from "./app-pipeline.js";
import { checkDrift, publishDrift } from "./drift-check.js";
import { applyMerge, findMergedPullRequest, type PipelineHost, planPullRequest } from "./pipeline.js";

/** Options of `appPipeline`. */
export interface AppWiringOptions {
  /** Connects to targets, locks and applies (the CLI's `cliHost`). */
  host: PipelineHost;
  /**
   * The App's bot login (`<app slug>[bot]`), resolved when first needed (`appBotLogin`); only comments and issues by
   * it count as reconcile's.
   */
  botLogin: () => Promise<string>;
  /** The allowed clock skew between this machine and the API for drift reports, in milliseconds (default 0). */
  clockSkewMs?: number;
}

/**
 * The App's bot login: `<slug>[bot]`, from `GET /app` authenticated with the App's JWT (`app.octokit`). Asked once;
 * a failed request is asked again on the next call.
 * @throws the octokit `RequestError` of `GET /app`, or Error when the answer has no slug
 */
export function appBotLogin(app: () => App): () => Promise<string> {
  let login: Promise<string> | undefined;
  return () => {
    login ??= app()
      .octokit.request("GET /app")
      .then(({ data }) => {
        const slug = (data as { slug?: unknown } | null)?.slug;
        if (typeof slug !== "string" || slug === "") throw new Error("GET /app answered without the App's slug");
        return `${slug}[bot]`;
      })
      .catch((error: unknown) => {
        login = undefined;
        throw error;
      });
    return login;
  };
}

/** Thrown when a run is no longer wanted before it starts (a newer push, server shutdown). */
function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error("the run was aborted");
}

/** `host` with `showPlan` also recording each target's summary line (the check run title). */
function recordingHost(host: PipelineHost, lines: string[]): PipelineHost {
  return {
    ...host,
    showPlan: (prepared) => {
      lines.push(`${prepared.plan.target}: ${summaryLine(prepared.plan)}`);
      host.showPlan?.(prepared);
    },
  };
}

/** The `AppPipeline` running the real steps through `options.host`. */
export function appPipeline(options: AppWiringOptions): AppPipeline {
  const { host } = options;
  return {
    async planPullRequest(dir, ctx): Promise<PlanOutcome> {
      throwIfAborted(ctx.signal);
      const author = await options.botLogin();
      throwIfAborted(ctx.signal);
      const lines: string[] = [];
      const result = await planPullRequest({
        root: dir,
        github: ctx.octokit,
        repository: { owner: ctx.owner, repo: ctx.repo },
        host: recordingHost(host, lines),
        ...(ctx.targets ? { targets: ctx.targets } : {}),
        author,
        pullRequest: { number: ctx.pull_number, head_sha: ctx.head_sha, fork: false },
      });
      for (const r of result.results) if (r.status !== "planned") lines.push(`${r.target}: ${r.status}`);
      ctx.log({ step: "plan", code: result.code, targets: result.results.map((r) => [r.target, r.status]) });
      return {
        conclusion: result.code === 0 ? "success" : "failure",
        title: lines.join("; ") || (result.code === 0 ? "No targets" : "The plan failed"),
        summary: result.markdown,
      };
    },

    async applyMerge(dir, ctx): Promise<RunOutcome> {
      throwIfAborted(ctx.signal);
      const author = await options.botLogin();
      const repository = { owner: ctx.owner, repo: ctx.repo };
      const branch = ctx.ref.replace(/^refs\/heads\//, "");
      const pullRequest = await findMergedPullRequest(ctx.octokit, repository, ctx.sha, branch);
      ctx.log({ step: "apply", pull_number: pullRequest?.number ?? null });
      const { code, results } = await applyMerge({
        root: dir,
        github: ctx.octokit,
        repository,
        host,
        ...(ctx.targets ? { targets: ctx.targets } : {}),
        author,
        sha: ctx.sha,
        ...(pullRequest ? { pullRequest } : {}),
      });
      const title = results.map((r) => `${r.target}: ${r.status}`).join("; ");
      return {
        conclusion: code === 0 ? "success" : "failure",
        title: title || (pullRequest ? "Nothing to apply" : "A direct push: nothing applied"),
      };
    },

    async driftCheck(dir, ctx): Promise<RunOutcome> {
      throwIfAborted(ctx.signal);
      const author = await options.botLogin();
      const { config, errors } = await loadProjectConfig(dir);
      if (errors.length > 0) {
        host.reportError(new SpecErrorsFound(errors));
        return { conclusion: "failure", title: "reconcile.yaml is invalid" };
      }
      const names = ctx.targets ?? config.targets.map((t) => t.name);
      const lines: string[] = [];
      let failed = false;
      for (const name of names) {
        if (ctx.signal.aborted) break;
        try {
          const project: LoadedProject = await loadSpecs(dir, name, { parseCache: false });
          const drift = await host.open(project, false, (run) =>
            checkDrift({
              project,
              client: run.client,
              secrets: run.secrets,
              clockSkewMs: options.clockSkewMs ?? 0,
              commit: ctx.sha,
            }),
          );
          if (ctx.signal.aborted) break;
          const issue = await publishDrift(ctx.octokit, { owner: ctx.owner, repo: ctx.repo }, drift, {
            commit: ctx.sha,
            author,
          });
          ctx.log({ step: "drift", target: name, drifted: drift.report.drifted, issue: issue.action });
          lines.push(`${name}: ${drift.report.drifted ? "drift" : "no drift"}`);
        } catch (error) {
          host.reportError(error);
          failed = true;
          lines.push(`${name}: failed`);
        }
      }
      return { conclusion: failed ? "failure" : "success", title: lines.join("; ") || "No targets" };
    },
  };
}
