/**
 * `reconcile github serve [--port N] [--host H] [--drift-interval DURATION] [--api-url URL]`: run the webhook
 * server of a GitHub App (issue 7 item 4; docs/github-app.md; ADR 0016). Configured by the environment only:
 * `GITHUB_APP_ID`, `GITHUB_APP_PRIVATE_KEY` or `GITHUB_APP_PRIVATE_KEY_PATH`, `GITHUB_WEBHOOK_SECRET`
 * (`loadAppConfig`), and `GITHUB_API_URL` for GitHub Enterprise. A missing or malformed value stops it before it
 * listens (exit 1, the variable named, its value never printed). Logs are JSON lines on stderr. Runs until SIGINT
 * or SIGTERM, then stops accepting deliveries, aborts running plans and waits for running applies; exit 0.
 */
import { Command, InvalidArgumentError } from "commander";
import ms from "ms";
import { startGitHubApp } from "../../github/app.js";
import { AppConfigError, loadAppConfig } from "../../github/app-config.js";
import type { AppPipeline } from "../../github/app-pipeline.js";
import { appBotLogin, appPipeline } from "../../github/app-wiring.js";
import { clockSkewMs } from "../../reconcile/origin.js";
import { cliHost } from "../github-host.js";
import type { Output } from "../output.js";

/** Flags of `github serve`. */
export interface GithubServeFlags {
  host: string;
  port: string;
  driftInterval?: number;
  apiUrl?: string;
}

/**
 * `--drift-interval DURATION` → milliseconds: a number with a unit (`30m`, `1h`, `1d`; parsed by `ms`), from 1m to
 * 7d; a bare number is refused.
 * @throws InvalidArgumentError (commander prints it as a usage error)
 */
export function parseDriftInterval(value: string): number {
  const parsed = /[a-z]\s*$/i.test(value.trim()) ? ms(value.trim() as ms.StringValue) : Number.NaN;
  if (typeof parsed !== "number" || !Number.isFinite(parsed) || parsed < 60_000 || parsed > 7 * 86_400_000) {
    throw new InvalidArgumentError("expected a duration with a unit from 1m to 7d, like 30m, 1h or 1d");
  }
  return Math.round(parsed);
}

/** Resolves on SIGINT or SIGTERM. */
const signalled = () =>
  new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });

/**
 * Runs the server until a signal; returns the exit code (1 when the configuration is bad or it cannot listen).
 * `pipeline` defaults to the real one (`appPipeline` over the CLI's host: each target connects with the API key and
 * base URL of its environment variables; comments count only when by the App's `<slug>[bot]`). The pipeline's own
 * lines (plan text, errors) become `pipeline output` JSON log lines.
 */
export async function runGithubServe(
  flags: GithubServeFlags,
  output: Output,
  pipeline?: AppPipeline,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  let config: Awaited<ReturnType<typeof loadAppConfig>>;
  try {
    config = await loadAppConfig(env);
  } catch (error) {
    if (!(error instanceof AppConfigError)) throw error;
    output.err(
      `reconcile github serve: cannot start:\n${error.message
        .split("\n")
        .map((line) => `  - ${line}\n`)
        .join("")}See docs/github-app.md for how to create the App and set these variables.\n`,
    );
    return 1;
  }
  const port = Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    output.err(`reconcile github serve: --port must be a number from 0 to 65535\n`);
    return 1;
  }
  let server: Awaited<ReturnType<typeof startGitHubApp>> | undefined;
  const toLog = (text: string) => server?.log("pipeline output", { text: text.replace(/\n$/, "") });
  const wired =
    pipeline ??
    appPipeline({
      host: cliHost({}, { out: toLog, err: toLog, color: false }),
      botLogin: appBotLogin(() => {
        if (!server) throw new Error("the App server is not running");
        return server.app;
      }),
      clockSkewMs: clockSkewMs(env),
    });
  try {
    server = await startGitHubApp({
      config,
      pipeline: wired,
      host: flags.host,
      port,
      ...(flags.driftInterval !== undefined ? { driftIntervalMs: flags.driftInterval } : {}),
      ...((flags.apiUrl ?? env.GITHUB_API_URL) ? { baseUrl: flags.apiUrl ?? env.GITHUB_API_URL } : {}),
      write: output.err,
    });
  } catch (error) {
    output.err(`reconcile github serve: cannot listen on ${flags.host}:${flags.port}: ${(error as Error).message}\n`);
    return 1;
  }
  server.log("listening", {
    url: server.url,
    webhook_path: "/api/github/webhooks",
    app_id: config.appId,
    drift_interval_ms: flags.driftInterval ?? null,
  });
  await signalled();
  server.log("shutting down");
  await server.close();
  return 0;
}

/** The commander definition of `serve` (a subcommand of `github`). */
export function githubServeCommand(output: Output, setExit: (code: number) => void): Command {
  return new Command("serve")
    .description(
      "run the GitHub App webhook server: plan pull requests, apply merges, check drift (configured by GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY[_PATH], GITHUB_WEBHOOK_SECRET)",
    )
    .option("--host <host>", "the address to bind", "127.0.0.1")
    .option("--port <port>", "the port (0 picks a free one)", "8080")
    .option(
      "--drift-interval <duration>",
      "check drift of every installation repository this often (1m to 7d)",
      parseDriftInterval,
    )
    .option("--api-url <url>", "the GitHub REST API root (default GITHUB_API_URL, else https://api.github.com)")
    .action(async (flags: GithubServeFlags) => setExit(await runGithubServe(flags, output)));
}
