/**
 * The GitHub App mode (`reconcile github serve`, issue 7 item 4; docs/github-app.md, ADR 0016): an `@octokit/app`
 * App (installation auth and token caching by @octokit/auth-app; our octokit with retry and throttling) behind the
 * verifying webhook server (src/github/webhook-server.ts), turning deliveries into ordered work:
 *
 * - `pull_request` opened / synchronize / reopened: check out the head commit (tarball through the API, capped,
 *   extracted by `extractRepositoryTarball` into a fresh temp folder, always removed), run
 *   `pipeline.planPullRequest`, and show the outcome as the check run `reconcile/plan` (in progress, then
 *   completed). Plans of one pull request never overlap and a newer head supersedes an older one (`LatestPerKey`):
 *   the older run is aborted, its check run completes as `cancelled`, and the comment always ends on the newest head.
 * - `push` to the default branch: check out the pushed commit and run `pipeline.applyMerge`, one at a time per
 *   repository (`SerialPerKey`), so applies never overlap.
 * - `driftSweep()` (every `--drift-interval`): for every repository of every installation, check out the default
 *   branch's head and run `pipeline.driftCheck` in the same per-repository queue as applies.
 * - Redeliveries (same `X-GitHub-Delivery`) are dropped by the webhook server; a different delivery for a head or
 *   merge commit already queued or running is dropped here.
 * Every event is a JSON log line without tokens or secrets (`jsonLog`).
 */
import { App } from "@octokit/app";
import { type CheckoutOptions, withCheckout } from "./app-checkout.js";
import type { AppConfig } from "./app-config.js";
import { type AppLog, jsonLog, redact } from "./app-log.js";
import type { AppPipeline, PlanOutcome } from "./app-pipeline.js";
import { LatestPerKey, SerialPerKey } from "./app-queue.js";
import { type GitHub, GitHubClient } from "./octokit.js";
import { UnsafeTarballError } from "./tarball.js";
import { startWebhookServer, type WebhookServer } from "./webhook-server.js";

/** The name of the check run the App sets on each pull request head. */
export const PLAN_CHECK_NAME = "reconcile/plan";

/** GitHub's limit on a check run's `output.summary`, in characters. */
const CHECK_SUMMARY_MAX = 65_535;

/** Options of `createReconcileApp`. */
export interface ReconcileAppOptions {
  config: AppConfig;
  pipeline: AppPipeline;
  /** The REST API root (default https://api.github.com; GitHub Enterprise: https://HOST/api/v3; tests: a double). */
  baseUrl?: string;
  /** Pace requests as GitHub asks (default true; tests against a double turn it off). */
  throttle?: boolean;
  /** Retries of 5xx and network errors (default plugin-retry's 3). */
  retries?: number;
  /** Temp folder, download and extraction caps. */
  checkout?: CheckoutOptions;
  /** Where JSON log lines go (default stderr). */
  write?: (line: string) => void;
}

/** The App with its handlers registered. */
export interface ReconcileApp {
  /** The @octokit/app instance (its `webhooks` verify signatures with the configured secret). */
  app: App;
  /** Runs one drift check per installation repository; resolves when every check has ended (never rejects). */
  driftSweep(): Promise<void>;
  /** Resolves when no plan, apply or drift check runs or waits. */
  idle(): Promise<void>;
  /** Aborts running work (pipelines see `signal`), drops waiting plans, and waits for the rest. */
  close(): Promise<void>;
  log: AppLog;
}

/** The fields every pull_request / push payload we use carries. */
interface RepositoryPayload {
  repository: { name: string; owner: { login?: string; name?: string | null } | null; default_branch: string };
}

const ownerOf = (repository: RepositoryPayload["repository"]) =>
  repository.owner?.login ?? repository.owner?.name ?? "";

/** `text` cut to `max` characters, with a note that it was cut. */
const cut = (text: string, max: number) =>
  text.length <= max ? text : `${text.slice(0, max - 60)}\n\n... (cut: the full output is in the comment)`;

/** The message of an error for a person: a refused tarball as is, an API error with its status. */
function reason(error: unknown): string {
  if (error instanceof UnsafeTarballError) return error.message;
  const status = (error as { status?: unknown }).status;
  const message = error instanceof Error ? error.message : String(error);
  return typeof status === "number" ? `GitHub answered ${status}: ${message}` : message;
}

/**
 * Builds the App and registers its webhook handlers; serve `app.webhooks` with `startWebhookServer` (or use
 * `startGitHubApp`, which does both).
 */
export function createReconcileApp(options: ReconcileAppOptions): ReconcileApp {
  const { config, pipeline } = options;
  const secrets = [config.webhookSecret, config.privateKey];
  const log = jsonLog(options.write ?? ((line) => process.stderr.write(line)), secrets);
  const octokitLog = {
    debug: () => {},
    info: () => {},
    warn: (message: string) => log("octokit warning", { message }),
    error: (message: string) => log("octokit error", { message }),
  };
  const noteLimit = (kind: string) => (retryAfter: number, request: { method: string; url: string }) => {
    log("rate limit", { kind, method: request.method, url: request.url, retry_after_s: retryAfter });
    return true;
  };
  const Octokit = GitHubClient.defaults({
    baseUrl: options.baseUrl ?? "https://api.github.com",
    userAgent: "reconcile-app",
    throttle: {
      enabled: options.throttle !== false,
      onRateLimit: noteLimit("primary"),
      onSecondaryRateLimit: noteLimit("secondary"),
    },
    ...(options.retries !== undefined ? { request: { retries: options.retries } } : {}),
    // octokit's own notes (deprecations, request failures) become JSON lines too, never plain console output.
    log: octokitLog,
  });
  const app = new App({
    appId: config.appId,
    privateKey: config.privateKey,
    webhooks: { secret: config.webhookSecret },
    Octokit,
    log: octokitLog,
  });
  const plans = new LatestPerKey();
  const serial = new SerialPerKey();
  const checkout = options.checkout ?? {};
  const stepLog = (base: Record<string, unknown>) => (fields: Record<string, unknown>) =>
    log("pipeline", { ...base, ...fields });

  /** Creates the in-progress check run; a failure to do so is logged and the plan still runs. */
  async function startCheck(octokit: GitHub, owner: string, repo: string, head_sha: string) {
    try {
      const { data } = await octokit.rest.checks.create({
        owner,
        repo,
        name: PLAN_CHECK_NAME,
        head_sha,
        status: "in_progress",
        started_at: new Date().toISOString(),
      });
      return data.id;
    } catch (error) {
      log("check run not created", { repository: `${owner}/${repo}`, head_sha, error: reason(error) });
      return undefined;
    }
  }

  async function finishCheck(
    octokit: GitHub,
    where: { owner: string; repo: string; head_sha: string },
    id: number | undefined,
    outcome: PlanOutcome | { conclusion: "cancelled"; title: string; summary: string },
  ) {
    if (id === undefined) return;
    try {
      await octokit.rest.checks.update({
        owner: where.owner,
        repo: where.repo,
        check_run_id: id,
        status: "completed",
        conclusion: outcome.conclusion,
        completed_at: new Date().toISOString(),
        output: { title: cut(outcome.title, 1000), summary: cut(outcome.summary, CHECK_SUMMARY_MAX) },
      });
    } catch (error) {
      log("check run not updated", { repository: `${where.owner}/${where.repo}`, ...where, error: reason(error) });
    }
  }

  app.webhooks.on(
    ["pull_request.opened", "pull_request.synchronize", "pull_request.reopened"],
    ({ id: delivery, payload, octokit: installationOctokit }) => {
      const octokit = installationOctokit as unknown as GitHub;
      const owner = ownerOf(payload.repository);
      const repo = payload.repository.name;
      const pull_number = payload.pull_request.number;
      const head_sha = payload.pull_request.head.sha;
      const where = { owner, repo, head_sha };
      const fields = { delivery, repository: `${owner}/${repo}`, pull_number, head_sha };
      const { submitted, done } = plans.submit(`${owner}/${repo}#${pull_number}`, {
        id: head_sha,
        run: async (signal) => {
          log("plan started", fields);
          const check = await startCheck(octokit, owner, repo, head_sha);
          let outcome: PlanOutcome;
          try {
            outcome = await withCheckout(octokit, { owner, repo, ref: head_sha }, checkout, (dir) =>
              pipeline.planPullRequest(dir, {
                octokit,
                owner,
                repo,
                pull_number,
                head_sha,
                base_ref: payload.pull_request.base.ref,
                signal,
                log: stepLog(fields),
              }),
            );
          } catch (error) {
            log("plan failed", { ...fields, error: reason(error) });
            outcome = {
              conclusion: "failure",
              title: error instanceof UnsafeTarballError ? "Refused the repository tarball" : "The plan failed",
              // The check run is public to the repository's readers: no token or secret in it either.
              summary: redact(reason(error), secrets),
            };
          }
          if (signal.aborted) {
            const why = signal.reason instanceof Error ? signal.reason.message : "superseded";
            log("plan superseded", { ...fields, reason: why });
            await finishCheck(octokit, where, check, {
              conclusion: "cancelled",
              title: "Superseded by a newer push",
              summary: `This plan was not posted: ${why}.`,
            });
            return;
          }
          log("plan finished", { ...fields, conclusion: outcome.conclusion, title: outcome.title });
          await finishCheck(octokit, where, check, outcome);
        },
      });
      if (submitted !== "started") log(`plan ${submitted}`, fields);
      return done;
    },
  );

  app.webhooks.on("push", ({ id: delivery, payload, octokit: installationOctokit }) => {
    const octokit = installationOctokit as unknown as GitHub;
    const owner = ownerOf(payload.repository);
    const repo = payload.repository.name;
    const sha = payload.after;
    const fields = { delivery, repository: `${owner}/${repo}`, ref: payload.ref, sha };
    if (payload.ref !== `refs/heads/${payload.repository.default_branch}` || payload.deleted || /^0+$/.test(sha)) {
      log("push ignored (not a new commit on the default branch)", fields);
      return;
    }
    const { submitted, done } = serial.submit(`${owner}/${repo}`, {
      id: `apply:${sha}`,
      run: async (signal) => {
        log("apply started", fields);
        try {
          const outcome = await withCheckout(octokit, { owner, repo, ref: sha }, checkout, (dir) =>
            pipeline.applyMerge(dir, { octokit, owner, repo, sha, ref: payload.ref, signal, log: stepLog(fields) }),
          );
          log("apply finished", { ...fields, conclusion: outcome.conclusion, title: outcome.title });
        } catch (error) {
          log("apply failed", { ...fields, error: reason(error) });
        }
      },
    });
    if (submitted !== "started") log(`apply ${submitted}`, fields);
    return done;
  });

  let sweeping: Promise<void> | undefined;
  async function sweep(): Promise<void> {
    const runs: Promise<void>[] = [];
    try {
      for await (const { octokit: installationOctokit, repository } of app.eachRepository.iterator()) {
        const octokit = installationOctokit as unknown as GitHub;
        const owner = repository.owner.login;
        const repo = repository.name;
        const fields = { repository: `${owner}/${repo}`, default_branch: repository.default_branch };
        const { done } = serial.submit(`${owner}/${repo}`, {
          id: `drift:${repository.default_branch}`,
          run: async (signal) => {
            try {
              const { data } = await octokit.rest.repos.getBranch({ owner, repo, branch: repository.default_branch });
              const sha = data.commit.sha;
              log("drift check started", { ...fields, sha });
              const outcome = await withCheckout(octokit, { owner, repo, ref: sha }, checkout, (dir) =>
                pipeline.driftCheck(dir, {
                  octokit,
                  owner,
                  repo,
                  sha,
                  default_branch: repository.default_branch,
                  signal,
                  log: stepLog(fields),
                }),
              );
              log("drift check finished", { ...fields, sha, conclusion: outcome.conclusion, title: outcome.title });
            } catch (error) {
              log("drift check failed", { ...fields, error: reason(error) });
            }
          },
        });
        runs.push(done);
      }
    } catch (error) {
      log("drift sweep could not list the installations' repositories", { error: reason(error) });
    }
    await Promise.all(runs);
  }

  return {
    app,
    log,
    driftSweep: () => {
      // A sweep still running when the next one is due is not doubled: the caller gets the running one.
      sweeping ??= sweep().finally(() => {
        sweeping = undefined;
      });
      return sweeping;
    },
    idle: async () => {
      await Promise.all([plans.idle(), serial.idle(), sweeping]);
    },
    close: async () => {
      const stop = new Error("the server is shutting down");
      plans.abortAll(stop);
      serial.abortAll(stop);
      await Promise.all([plans.idle(), serial.idle(), sweeping]);
    },
  };
}

/** Options of `startGitHubApp`. */
export interface StartAppOptions extends ReconcileAppOptions {
  host?: string;
  port?: number;
  /** Run `driftSweep` this often, in milliseconds (undefined: never). */
  driftIntervalMs?: number;
  /** Largest webhook body, in bytes (default 25 MiB). */
  bodyLimit?: number;
}

/** A running App server. */
export interface RunningApp extends ReconcileApp {
  /** `http://host:port`; webhooks go to `${url}/api/github/webhooks`. */
  url: string;
  server: WebhookServer;
}

/**
 * Builds the App (`createReconcileApp`), serves its webhooks (`startWebhookServer`) and starts the drift timer.
 * `close()` stops the timer, stops accepting deliveries, aborts running work and waits for it.
 * @throws the listen error (port in use, permission)
 */
export async function startGitHubApp(options: StartAppOptions): Promise<RunningApp> {
  const reconcileApp = createReconcileApp(options);
  const { log } = reconcileApp;
  const server = await startWebhookServer({
    webhooks: reconcileApp.app.webhooks,
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.bodyLimit !== undefined ? { bodyLimit: options.bodyLimit } : {}),
    log: (line) => {
      const { outcome, event, ...fields } = JSON.parse(line) as Record<string, unknown>;
      log(`delivery ${String(outcome)}`, { ...fields, github_event: event });
    },
  });
  const timer =
    options.driftIntervalMs !== undefined
      ? setInterval(() => void reconcileApp.driftSweep(), options.driftIntervalMs)
      : undefined;
  return {
    ...reconcileApp,
    url: server.url,
    server,
    idle: async () => {
      await server.idle();
      await reconcileApp.idle();
    },
    close: async () => {
      if (timer) clearInterval(timer);
      await server.app.close();
      await reconcileApp.close();
      await server.idle();
    },
  };
}
