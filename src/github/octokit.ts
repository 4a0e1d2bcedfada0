/**
 * The GitHub REST client reconcile uses: `@octokit/rest` with `@octokit/plugin-retry` (3 retries of 5xx and network
 * errors, none of 4xx; ANCHORS.md "octokit") and `@octokit/plugin-throttling` (GitHub's recommended pacing: writes
 * at least 1 s apart, comments 3 s; primary and secondary rate limits retried a bounded number of times).
 */
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";

/** The Octokit class with the retry and throttling plugins. */
export const GitHubClient = Octokit.plugin(retry, throttling);

/** An instance of `GitHubClient`. */
export type GitHub = InstanceType<typeof GitHubClient>;

/** Options of `createGitHub`. */
export interface GitHubOptions {
  /** A token: `GITHUB_TOKEN` in Actions, an installation token in App mode. Never printed. */
  token: string;
  /** The REST API root: `GITHUB_API_URL` in Actions; a local double in tests. Default https://api.github.com. */
  baseUrl?: string;
  /**
   * Pace requests as GitHub asks (default true). Tests against a local double turn it off: its process-wide
   * spacing of writes (3 s between comments) only slows them down.
   */
  throttle?: boolean;
  /** Retries of 5xx and network errors (default 3, plugin-retry's). */
  retries?: number;
  /** Where rate-limit notes go (stderr in the CLI); never receives the token. */
  warn?: (line: string) => void;
}

/** How many times a rate-limited request is retried before the error reaches the caller. */
const RATE_LIMIT_RETRIES = 2;

/**
 * A GitHub client for `options`. Rate-limited requests are retried up to twice after GitHub's `retry-after`, with a
 * note on `warn`; a third rate limit fails the request.
 */
export function createGitHub(options: GitHubOptions): GitHub {
  const warn = options.warn ?? (() => {});
  const onLimit =
    (kind: string) => (retryAfter: number, request: { method: string; url: string }, _o: unknown, count: number) => {
      warn(`GitHub ${kind} rate limit on ${request.method} ${request.url}; retrying in ${retryAfter}s\n`);
      return count < RATE_LIMIT_RETRIES;
    };
  return new GitHubClient({
    auth: options.token,
    baseUrl: options.baseUrl ?? "https://api.github.com",
    userAgent: "reconcile",
    throttle: {
      enabled: options.throttle !== false,
      onRateLimit: onLimit("primary"),
      onSecondaryRateLimit: onLimit("secondary"),
    },
    ...(options.retries !== undefined ? { request: { retries: options.retries } } : {}),
    log: { debug: () => {}, info: () => {}, warn: (m: string) => warn(`${m}\n`), error: (m: string) => warn(`${m}\n`) },
  });
}
