/**
 * Apply: executes a plan through the providers, in dependency order, with bounded concurrency.
 *
 * Each action waits for the actions it depends on (a credential for its vault); a failed action fails only its
 * dependents, never independent resources (as Terraform continues independent branches).
 *
 * Transient faults (429, 408, 5xx, dropped connections) are retried with exponential backoff, honouring
 * `retry-after`, a bounded number of times. A write whose answer was lost may still have happened, so before each
 * retry apply looks at the API: a create is not repeated when an object with this stack's ownership metadata for
 * that address exists (no duplicates), an update is not repeated when the live state already matches. A 409 is a
 * conflict (someone else changed the resource, or the agent's version moved): reported, never retried.
 */
import Anthropic from "@anthropic-ai/sdk";
import pLimit from "p-limit";
import pRetry from "p-retry";
import { lifecycleOf, ownerOf, ownershipMetadata } from "../providers/ownership.js";
import { providerFor } from "../providers/registry.js";
import type { AppliedRef, DesiredResource, LiveResource, Provider, ProviderContext } from "../providers/types.js";
import { diffState, pathsOverlap } from "./diff.js";
import type { LiveState } from "./observe.js";
import { type ActionKind, changedFields, type Plan, type PlannedAction } from "./plan.js";

/** The outcome of one action. */
export interface ApplyOutcome {
  address: string;
  action: ActionKind;
  status: "done" | "failed" | "skipped";
  /** The id of the resource after the action (the new one for create and replace). */
  id?: string;
  /** Why it failed or was skipped; never contains a secret value. */
  error?: string;
  /** Write attempts made (more than 1 after a transient fault). */
  attempts: number;
  /** Wall time of the action in milliseconds. */
  duration_ms: number;
}

/** The outcomes of a whole apply, in completion order. */
export interface ApplyResult {
  outcomes: ApplyOutcome[];
  done: number;
  failed: number;
  skipped: number;
}

/** How transient faults are retried. */
export interface RetryPolicy {
  /** Retries after the first attempt (default 4). */
  retries: number;
  /** First backoff delay in milliseconds, doubled each retry with jitter (default 500). */
  minDelayMs: number;
  /** Longest backoff delay in milliseconds (default 8000); a longer `retry-after` is still honoured. */
  maxDelayMs: number;
}

/** Options of `applyPlan`. */
export interface ApplyOptions {
  /** At most this many API writes in flight (default 4). */
  concurrency?: number;
  retry?: Partial<RetryPolicy>;
  /** Called as each action completes, for progress output. */
  onOutcome?: (outcome: ApplyOutcome) => void;
  /** Once aborted (e.g. the apply lock was lost), no further write starts; each fails with the abort reason. */
  signal?: AbortSignal;
}

const DEFAULT_RETRY: RetryPolicy = { retries: 4, minDelayMs: 500, maxDelayMs: 8000 };

/**
 * A one-line, secret-free explanation of an apply error, with what to do next where there is something to do.
 * API errors quote the server's message (the API never echoes secret values).
 */
export function describeError(error: unknown): string {
  if (error instanceof Anthropic.APIError && error.status !== undefined) {
    const type = error.type ?? "error";
    const message = error.apiMessage ?? error.message;
    const request = error.requestID ? ` (request ${error.requestID})` : "";
    if (error.status === 409) {
      return `conflict: ${message}${request}. The resource changed since it was observed; run plan again and review the new changes`;
    }
    return `${error.status} ${type}: ${message}${request}`;
  }
  if (error instanceof Anthropic.APIConnectionError) return `could not reach the API: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/** True for faults worth retrying: 408, 429, 5xx, and connection errors (including timeouts). */
export function isTransient(error: unknown): boolean {
  if (error instanceof Anthropic.APIConnectionError) return true;
  if (error instanceof Anthropic.APIError && error.status !== undefined) {
    return error.status === 408 || error.status === 429 || error.status >= 500;
  }
  return false;
}

/** The server's `retry-after` (seconds, or an HTTP date) in milliseconds, or 0. */
function retryAfterMs(error: unknown): number {
  const header = error instanceof Anthropic.APIError ? error.headers?.get("retry-after") : null;
  if (!header) return 0;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? 0 : Math.max(0, date - Date.now());
}

/**
 * Runs `write`, retrying transient faults per `policy`. Before each retry, `landed` checks whether the lost write
 * took effect after all; its answer is used instead of writing again. `counter.attempts` counts write attempts.
 */
async function verifiedWrite(
  write: () => Promise<AppliedRef>,
  landed: () => Promise<AppliedRef | undefined>,
  policy: RetryPolicy,
  counter: { attempts: number },
): Promise<AppliedRef> {
  let lastError: unknown;
  return pRetry(
    async (attempt) => {
      try {
        if (attempt > 1) {
          const found = await landed();
          if (found) return found;
        }
        counter.attempts++;
        return await write();
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
      onFailedAttempt: async () => {
        const wait = retryAfterMs(lastError);
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      },
    },
  );
}

/** An owned object for `desired`'s address under `parentId`, other than `exclude` (the one being replaced). */
async function findCreated(
  client: Anthropic,
  provider: Provider,
  desired: DesiredResource,
  ctx: ProviderContext,
  parentId: string | undefined,
  exclude: string | undefined,
): Promise<AppliedRef | undefined> {
  const objects = await provider.list(client, parentId);
  const match = objects.find((o) => {
    const owner = ownerOf(o.metadata);
    return o.id !== exclude && owner?.stack === ctx.stack && owner.name === desired.name;
  });
  if (!match) return undefined;
  return { id: match.id, ...(typeof match.version === "number" ? { version: match.version } : {}) };
}

/** The live object already holds `desired`'s state and the requested ownership keys: the update landed. */
async function updateLanded(
  client: Anthropic,
  provider: Provider,
  desired: DesiredResource,
  live: LiveResource,
  ownership: Record<string, string | null>,
): Promise<AppliedRef | undefined> {
  const object = await provider.retrieve(client, live.id, live.parentId);
  const differs = diffState(provider.state(object), desired.state, desired.sensitive).some(
    (c) => "after" in c || !desired.serverChosen.some((path) => pathsOverlap(c.path, path)),
  );
  const metadata = object.metadata ?? {};
  const keysMatch = Object.entries(ownership).every(([key, value]) =>
    value === null ? !(key in metadata) : metadata[key] === value,
  );
  if (differs || !keysMatch) return undefined;
  return { id: object.id, ...(typeof object.version === "number" ? { version: object.version } : {}) };
}

/**
 * Executes `plan`. `desired` and `live` must be the ones the plan was built from (for a saved plan: rebuilt and
 * checked with `staleInputs` first).
 * @returns every action's outcome; never throws for a failed action (the outcome says why)
 */
export async function applyPlan(
  client: Anthropic,
  plan: Plan,
  desired: readonly DesiredResource[],
  live: LiveState,
  ctx: ProviderContext,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const limit = pLimit(options.concurrency ?? 4);
  const desiredBy = new Map(desired.map((d) => [d.address, d]));
  const running = new Map<string, Promise<AppliedRef | null>>();
  const outcomes: ApplyOutcome[] = [];

  const parentId = async (resource: DesiredResource): Promise<string | undefined> => {
    const parentType = providerFor(resource.type).parent;
    const parent = parentType ? resource.dependsOn.find((address) => address.startsWith(`${parentType}.`)) : undefined;
    if (!parent) return undefined;
    const applied = await running.get(parent);
    return applied?.id ?? live.resources.get(parent)?.id ?? live.adoptions.get(parent)?.id;
  };

  const liveFor = (action: PlannedAction): LiveResource => {
    const found = live.resources.get(action.moved_from ?? action.address) ?? live.adoptions.get(action.address);
    if (!found) throw new Error(`internal: no live resource for ${action.address}`);
    return found;
  };

  const execute = async (action: PlannedAction, counter: { attempts: number }): Promise<AppliedRef | null> => {
    const provider = providerFor(action.type);
    const resource = desiredBy.get(action.address);
    const create = async (exclude?: string) => {
      const res = resource as DesiredResource;
      const parent = await parentId(res);
      const ownership = ownershipMetadata(ctx.stack, res.name, lifecycleOf(res));
      return verifiedWrite(
        () => provider.create(client, res, ctx, ownership, parent),
        () => findCreated(client, provider, res, ctx, parent, exclude),
        policy,
        counter,
      );
    };
    switch (action.action) {
      case "create":
        return create();
      case "update":
      case "adopt": {
        const res = resource as DesiredResource;
        const current = liveFor(action);
        const request = { fields: changedFields(action), ownership: action.ownership ?? {} };
        return verifiedWrite(
          () => provider.update(client, res, current, request, ctx),
          () => updateLanded(client, provider, res, current, request.ownership),
          policy,
          counter,
        );
      }
      case "replace": {
        const current = liveFor(action);
        if (provider.replaceOrder === "archive-first") await provider.archive(client, current);
        const created = await create(current.id);
        if (provider.replaceOrder === "create-first") await provider.archive(client, current);
        return created;
      }
      case "archive":
        counter.attempts++;
        await provider.archive(client, liveFor(action));
        return null;
      case "delete":
        counter.attempts++;
        if (!provider.delete) throw new Error(`${action.type} resources cannot be deleted, only archived`);
        await provider.delete(client, liveFor(action));
        return null;
      case "keep":
        return null;
    }
  };

  const start = (action: PlannedAction): Promise<AppliedRef | null> => {
    const deps = action.depends_on.filter((address) => running.has(address));
    const promise = (async () => {
      const results = await Promise.allSettled(deps.map((address) => running.get(address)));
      const failedDep = deps.find((_, i) => results[i]?.status === "rejected");
      const began = Date.now();
      const counter = { attempts: 0 };
      const record = (outcome: Pick<ApplyOutcome, "status" | "id" | "error">) => {
        const full: ApplyOutcome = {
          address: action.address,
          action: action.action,
          ...outcome,
          attempts: counter.attempts,
          duration_ms: Date.now() - began,
        };
        outcomes.push(full);
        options.onOutcome?.(full);
      };
      if (failedDep) {
        record({ status: "skipped", error: `not attempted: ${failedDep} failed` });
        throw new Error(`dependency ${failedDep} failed`);
      }
      try {
        const applied = await limit(() => {
          options.signal?.throwIfAborted();
          return execute(action, counter);
        });
        record({ status: "done", ...(applied ? { id: applied.id } : action.id ? { id: action.id } : {}) });
        return applied;
      } catch (error) {
        record({ status: "failed", error: describeError(error) });
        throw error;
      }
    })();
    promise.catch(() => undefined); // observed through `outcomes`; dependents see the rejection
    running.set(action.address, promise);
    return promise;
  };

  const todo = plan.actions.filter((a) => a.action !== "keep");
  // Plans list parents before children (provider table order), so dependencies are registered first.
  await Promise.allSettled(todo.map(start));
  const count = (status: ApplyOutcome["status"]) => outcomes.filter((o) => o.status === status).length;
  return { outcomes, done: count("done"), failed: count("failed"), skipped: count("skipped") };
}
