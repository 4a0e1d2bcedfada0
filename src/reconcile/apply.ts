/**
 * Apply: executes a plan through the providers, in dependency order, with bounded concurrency.
 *
 * Each action waits for the actions it depends on (a credential for its vault); a failed action fails only its
 * dependents, never independent resources (as Terraform continues independent branches). Nothing is retried here
 * beyond the SDK's own retries: a 409 precondition failure is reported as a conflict, since blindly repeating a
 * write the server refused is how state gets lost. Because every step is idempotent with respect to the specs, a
 * re-run after a failure converges.
 */
import Anthropic from "@anthropic-ai/sdk";
import pLimit from "p-limit";
import { providerFor } from "../providers/registry.js";
import type { AppliedRef, DesiredResource, LiveResource, ProviderContext } from "../providers/types.js";
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

/** Options of `applyPlan`. */
export interface ApplyOptions {
  /** At most this many API writes in flight (default 4). */
  concurrency?: number;
  /** Called as each action completes, for progress output. */
  onOutcome?: (outcome: ApplyOutcome) => void;
}

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

/**
 * Executes `plan`. `desired` and `live` must be the ones the plan was built from.
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
  const limit = pLimit(options.concurrency ?? 4);
  const desiredBy = new Map(desired.map((d) => [d.address, d]));
  const running = new Map<string, Promise<AppliedRef | null>>();
  const outcomes: ApplyOutcome[] = [];

  const parentId = async (resource: DesiredResource): Promise<string | undefined> => {
    const parentType = providerFor(resource.type).parent;
    const parent = resource.dependsOn.find((address) => address.startsWith(`${parentType}.`));
    if (!parent) return undefined;
    const applied = await running.get(parent);
    return applied?.id ?? live.resources.get(parent)?.id;
  };

  const execute = async (action: PlannedAction): Promise<AppliedRef | null> => {
    const provider = providerFor(action.type);
    const resource = desiredBy.get(action.address);
    const current: LiveResource | undefined = live.resources.get(action.address);
    switch (action.action) {
      case "create":
        return provider.create(client, resource as DesiredResource, ctx, await parentId(resource as DesiredResource));
      case "update":
        return provider.update(
          client,
          resource as DesiredResource,
          current as LiveResource,
          changedFields(action),
          ctx,
        );
      case "replace": {
        const parent = await parentId(resource as DesiredResource);
        if (provider.replaceOrder === "archive-first") await provider.archive(client, current as LiveResource);
        const created = await provider.create(client, resource as DesiredResource, ctx, parent);
        if (provider.replaceOrder === "create-first") await provider.archive(client, current as LiveResource);
        return created;
      }
      case "archive":
        await provider.archive(client, current as LiveResource);
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
      const record = (outcome: Omit<ApplyOutcome, "address" | "action" | "duration_ms">) => {
        const full: ApplyOutcome = {
          address: action.address,
          action: action.action,
          ...outcome,
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
        const applied = await limit(() => execute(action));
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
