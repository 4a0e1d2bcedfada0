/**
 * Retrying transient faults, for reads and writes alike: one backoff, one budget, one definition of "transient".
 *
 * Reads (every list page, every retrieve: observe, export, apply's landed-checks) are retried per request with
 * `retryTransient`. Writes are retried by apply through `verifiedWrite`, which first checks whether the lost write
 * landed after all (ADR 7), so a create whose answer was lost is never sent twice. The SDK's own retries are off
 * (`maxRetries: 0` on every request, see `client.ts`), so the budget here is the whole budget.
 *
 * What is transient follows the SDK's own retry rule (`client.js#shouldRetry`): 408, 429 (honouring `retry-after`),
 * 5xx and connection errors, timeouts included. A 409 is a conflict, never retried.
 */
import Anthropic from "@anthropic-ai/sdk";
import pRetry from "p-retry";
import type { AppliedRef } from "./types.js";

/** How transient faults are retried. */
export interface RetryPolicy {
  /** Retries after the first attempt (default 4). */
  retries: number;
  /** First backoff delay in milliseconds, doubled each retry with jitter (default 500). */
  minDelayMs: number;
  /** Longest backoff delay in milliseconds (default 8000); a longer `retry-after` is still honoured. */
  maxDelayMs: number;
  /**
   * The longest wait for a `retry-after`, in milliseconds (default 60000: a hostile `retry-after: 999999` must not
   * park the run for days). `RECONCILE_TEST_RETRY_DELAY_MS` lowers it for tests; see `DEFAULT_RETRY`.
   */
  maxRetryAfterMs: number;
}

/**
 * The environment variable that shortens every retry wait to at most N milliseconds (backoff and `retry-after`),
 * so tests of hostile or faulty servers finish quickly. For tests only: against a real API it ignores the server's
 * `retry-after`.
 */
export const TEST_RETRY_DELAY_ENV = "RECONCILE_TEST_RETRY_DELAY_MS";

/** The policy `RECONCILE_TEST_RETRY_DELAY_MS` asks for, or undefined when it is unset or not a number ≥ 0. */
function testDelayOverride(value: string | undefined): Partial<RetryPolicy> | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const ms = Number(value);
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  return { minDelayMs: Math.min(ms, 500), maxDelayMs: ms, maxRetryAfterMs: ms };
}

/**
 * The default policy: 4 retries, 0.5 s doubling to 8 s with jitter (about 15 s of backoff at most before a request
 * gives up), `retry-after` honoured up to 60 s. `RECONCILE_TEST_RETRY_DELAY_MS` (tests only) caps every wait.
 */
export const DEFAULT_RETRY: RetryPolicy = {
  retries: 4,
  minDelayMs: 500,
  maxDelayMs: 8000,
  maxRetryAfterMs: 60_000,
  ...testDelayOverride(process.env[TEST_RETRY_DELAY_ENV]),
};

/** An error of ours that is worth retrying (a request that timed out or could not connect); see `client.ts`. */
export interface TransientError extends Error {
  readonly transient: true;
}

/** True for faults worth retrying: 408, 429, 5xx, connection errors and timeouts (the SDK's and ours). */
export function isTransient(error: unknown): boolean {
  if ((error as Partial<TransientError> | null)?.transient === true) return true;
  if (error instanceof Anthropic.APIUserAbortError) return false;
  if (error instanceof Anthropic.APIConnectionError) return true;
  if (error instanceof Anthropic.APIError && error.status !== undefined) {
    return error.status === 408 || error.status === 429 || error.status >= 500;
  }
  return false;
}

/** The server's `retry-after` (seconds, or an HTTP date) in milliseconds, or 0. */
export function retryAfterMs(error: unknown): number {
  const header = error instanceof Anthropic.APIError ? error.headers?.get("retry-after") : null;
  if (!header) return 0;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? 0 : Math.max(0, date - Date.now());
}

/** Called before each retry with the error that caused it and the attempt number that failed (1 = the first). */
export type OnRetry = (error: unknown, attempt: number) => void;

/**
 * Runs `operation` (which receives the 1-based attempt number), retrying transient faults per `policy`: exponential
 * backoff with jitter, and at least the server's `retry-after`. Anything else, or the last transient fault, is
 * thrown as it is.
 */
export async function retryTransient<T>(
  operation: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  onRetry?: OnRetry,
): Promise<T> {
  let lastError: unknown;
  return pRetry(
    async (attempt) => {
      try {
        return await operation(attempt);
      } catch (error) {
        lastError = error;
        throw error;
      }
    },
    {
      retries: policy.retries,
      minTimeout: policy.minDelayMs,
      maxTimeout: policy.maxDelayMs,
      randomize: true,
      shouldRetry: () => isTransient(lastError),
      onFailedAttempt: async (context) => {
        if (!isTransient(lastError) || context.retriesLeft === 0) return;
        onRetry?.(lastError, context.attemptNumber);
        const wait = Math.min(retryAfterMs(lastError), policy.maxRetryAfterMs);
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      },
    },
  );
}

/**
 * Runs `write`, retrying transient faults per `policy`. Before each retry, `landed` checks whether the lost write
 * took effect after all; its answer is used instead of writing again (ADR 7). `counter.attempts` counts write
 * attempts. `landed` is a read: it retries its own transient faults, and one that still fails counts as a failed
 * attempt of the write.
 */
export async function verifiedWrite(
  write: () => Promise<AppliedRef>,
  landed: () => Promise<AppliedRef | undefined>,
  policy: RetryPolicy,
  counter: { attempts: number },
): Promise<AppliedRef> {
  return retryTransient(async (attempt) => {
    if (attempt > 1) {
      const found = await landed();
      if (found) return found;
    }
    counter.attempts++;
    return await write();
  }, policy);
}
