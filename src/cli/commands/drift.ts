/**
 * `reconcile drift [--dir DIR] [--target NAME] [--local] [--json] [--github-issue]`: compare the checked-out specs
 * with the live state and say, per resource, which fields differ and why: changed outside reconcile, not applied yet,
 * or unknown (docs/drift.md). Reads only: no lock, no prune, no write to the API.
 *
 * Exit codes follow `terraform plan -detailed-exitcode`: 0 no drift, 2 drift, 1 error. `--json` prints only the
 * report (schemas/drift.schema.json) on stdout. `--github-issue` keeps one issue per stack and target in the
 * repository named by `GITHUB_REPOSITORY` (token `GITHUB_TOKEN`, API `GITHUB_API_URL`): opened on drift, its body
 * updated only when the drift changes, closed with a comment when clean (`syncDriftIssue`).
 */
import { Command, Option } from "commander";
import { checkDrift, publishDrift } from "../../github/drift-check.js";
import { createGitHub } from "../../github/octokit.js";
import { renderDriftText } from "../../reconcile/drift.js";
import { escapeControl, escapeJsonText } from "../../reconcile/escape.js";
import { clockSkewMs } from "../../reconcile/origin.js";
import { currentCommit } from "../commit.js";
import type { Output } from "../output.js";
import { type ProjectFlags, projectOptions, withProjectObserving } from "../session.js";

/** Flags of `drift`. */
export interface DriftFlags extends ProjectFlags {
  json?: boolean;
  githubIssue?: boolean;
}

/** Where `--github-issue` writes, from the Actions environment. */
interface GitHubTarget {
  owner: string;
  repo: string;
  token: string;
  baseUrl: string;
}

/**
 * Reads `GITHUB_REPOSITORY` (`owner/repo`), `GITHUB_TOKEN` and `GITHUB_API_URL` (default https://api.github.com).
 * @throws Error naming the missing or malformed variable (never its value, for the token)
 */
function githubTarget(env: NodeJS.ProcessEnv): GitHubTarget {
  const repository = env.GITHUB_REPOSITORY ?? "";
  const match = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(repository);
  if (!match) {
    throw new Error(
      "--github-issue needs GITHUB_REPOSITORY as owner/repo (GitHub Actions sets it; elsewhere, export it)",
    );
  }
  const token = env.GITHUB_TOKEN ?? "";
  if (token === "") {
    throw new Error(
      "--github-issue needs GITHUB_TOKEN with issues: write (in Actions: `env: GITHUB_TOKEN: ${{ github.token }}`)",
    );
  }
  const baseUrl = env.GITHUB_API_URL || "https://api.github.com";
  if (!/^https?:\/\//.test(baseUrl)) throw new Error("GITHUB_API_URL must be an http(s) URL");
  return { owner: match[1] as string, repo: match[2] as string, token, baseUrl };
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Runs drift and returns the exit code. */
export function runDrift(flags: DriftFlags, output: Output, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return withProjectObserving(flags, output, async (project, connection, observed) => {
    const github = flags.githubIssue ? githubTarget(env) : undefined;
    const skew = clockSkewMs(env);
    const commit = await currentCommit(project.root, env);
    const { report, plan } = await checkDrift({
      project,
      client: connection.client,
      secrets: connection.secrets,
      clockSkewMs: skew,
      ...(commit ? { commit } : {}),
      observed,
    });
    output.out(
      flags.json
        ? `${escapeJsonText(JSON.stringify(report, null, 2))}\n`
        : renderDriftText(report, plan, escapeControl),
    );
    if (github) {
      const client = createGitHub({
        token: github.token,
        baseUrl: github.baseUrl,
        // A GitHub double or proxy on loopback needs no pacing.
        throttle: !LOOPBACK.has(new URL(github.baseUrl).hostname),
        warn: output.err,
      });
      const author = env.RECONCILE_GITHUB_AUTHOR || (env.GITHUB_ACTIONS === "true" ? "github-actions[bot]" : undefined);
      const result = await publishDrift(
        client,
        { owner: github.owner, repo: github.repo },
        { report, plan },
        { ...(commit ? { commit } : {}), ...(author ? { author } : {}) },
      );
      const where = result.url ? ` ${escapeControl(result.url)}` : "";
      output.err(`Drift issue: ${result.action}${where}\n`);
    }
    return report.drifted ? 2 : 0;
  });
}

/** The commander definition of `drift`. */
export function driftCommand(output: Output, setExit: (code: number) => void): Command {
  return projectOptions(new Command("drift"))
    .description(
      "compare the specs with the live state and report drift per resource: changed outside reconcile, not applied yet, or unknown (exit 0 clean, 2 drift, 1 error)",
    )
    .addOption(new Option("--json", "print the report as JSON only (schemas/drift.schema.json)"))
    .option(
      "--github-issue",
      "keep one GitHub issue per stack and target in GITHUB_REPOSITORY (GITHUB_TOKEN, GITHUB_API_URL): opened on drift, updated when it changes, closed when clean",
    )
    .action(async (flags: DriftFlags) => setExit(await runDrift(flags, output)));
}
