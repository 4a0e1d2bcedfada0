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
import { APPLIED_KEY, formatAppliedStamp, lifecycleOf, ownerOf, ownershipMetadata } from "../providers/ownership.js";
import { resolveRefs } from "../providers/refs.js";
import { providerFor } from "../providers/registry.js";
import { DEFAULT_RETRY, type RetryPolicy, verifiedWrite } from "../providers/retry.js";
import type { AppliedRef, DesiredResource, Json, LiveResource, Provider, ProviderContext } from "../providers/types.js";
import { diffState, pathsOverlap } from "./diff.js";
import { settleDuplicates } from "./duplicates.js";
import { type LiveState, liveOutput, metadataOf } from "./observe.js";
import { dependencyOrder } from "./order.js";
import { type ActionKind, actionKey, changedFields, type Plan, type PlannedAction } from "./plan.js";

/** The outcome of one action. */
export interface ApplyOutcome {
  address: string;
  action: ActionKind;
  /** For the archive of a duplicate: the id of the one kept (the outcome's `id` is the archived duplicate). */
  duplicate_of?: string;
  /**
   * A replace that archived the old resource (archive-first) and then failed to create the new one: the archived id.
   * The address is now missing from the live state; the next plan shows it as `+ create`.
   */
  archived?: string;
  /** Skipped because `options.skip` named it (a precondition failed; `--skip-unready`), not because of a failure. */
  unready?: boolean;
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

/** Options of `applyPlan`. */
export interface ApplyOptions {
  /** At most this many API writes in flight (default 4). */
  concurrency?: number;
  retry?: Partial<RetryPolicy>;
  /** Called as each action completes, for progress output. */
  onOutcome?: (outcome: ApplyOutcome) => void;
  /**
   * Actions not to execute, by `actionKey`, with the reason (from `preflight`, under `--skip-unready`). They and
   * their dependents are reported as skipped.
   */
  skip?: ReadonlyMap<string, string>;
  /** Once aborted (e.g. the apply lock was lost), no further write starts; each fails with the abort reason. */
  signal?: AbortSignal;
  /** The commit the specs come from, recorded in each write's `reconcile/applied` stamp (see `currentCommit`). */
  commit?: string;
  /** Clock for the `reconcile/applied` stamp (tests pass a fixed one). */
  now?: () => Date;
}

/** A replace that archived the old resource and then could not create the new one. */
class ReplaceIncomplete extends Error {
  constructor(
    readonly archivedId: string,
    error: unknown,
  ) {
    super(describeError(error));
    this.name = "ReplaceIncomplete";
  }
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
 * An owned object for `desired`'s address under `parentId`, other than those in `exclude` (the one being replaced,
 * and duplicates that were there before the create).
 */
async function findCreated(
  client: Anthropic,
  provider: Provider,
  desired: DesiredResource,
  ctx: ProviderContext,
  parentId: string | undefined,
  exclude: ReadonlySet<string>,
): Promise<AppliedRef | undefined> {
  const objects = await provider.list(client, parentId);
  const match = objects.find((o) => {
    const owner = ownerOf(metadataOf(provider, o));
    return !exclude.has(o.id) && owner?.stack === ctx.stack && owner.name === desired.name;
  });
  if (!match) return undefined;
  const outputs = provider.outputs?.(match);
  return {
    id: match.id,
    ...(typeof match.version === "number" ? { version: match.version } : {}),
    ...(outputs ? { outputs } : {}),
  };
}

/**
 * Retires a live resource the way its kind allows: archive, or delete for kinds the API cannot archive (skills).
 * @throws Error for a kind that can do neither (a provider bug)
 */
async function retire(client: Anthropic, provider: Provider, live: LiveResource): Promise<void> {
  if (provider.archive) await provider.archive(client, live);
  else if (provider.delete) await provider.delete(client, live);
  else throw new Error(`${live.type} resources can be neither archived nor deleted`);
}

/** A reference that apply could not resolve: the resource it names was not applied (failed, skipped, or left out). */
class UnresolvedReference extends Error {
  constructor(address: string, unresolved: string[]) {
    super(
      `${address} refers to ${unresolved.join(", ")}, which is not known: that resource was not created or updated by this apply; fix it and apply again`,
    );
    this.name = "UnresolvedReference";
  }
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
  observed: LiveState,
  ctx: ProviderContext,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  // The same choice among duplicates the plan made (idempotent when `observed` is already settled).
  const live = settleDuplicates(desired, observed).live;
  const liveById = new Map(
    [...live.resources.values(), ...live.duplicates, ...live.adoptions.values()].map((r) => [r.id, r]),
  );
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

  const outcomeOf = new Map<string, AppliedRef | null>();
  // The value of an output of `address` now: from its action in this apply (awaited: dependencies start first), else
  // from the live resource.
  const applied = (address: string, output: string): Json | undefined => {
    const known = live.resources.get(address) ?? live.adoptions.get(address);
    const ref = outcomeOf.get(address);
    if (ref) {
      if (output === "id") return ref.id;
      if (output === "version" && ref.version !== undefined) return ref.version;
      if (ref.outputs && output in ref.outputs) return ref.outputs[output];
      // An update keeps the outputs it did not change; a create has only what it returned.
      return known && ref.id === known.id ? liveOutput(known, output) : undefined;
    }
    return known ? liveOutput(known, output) : undefined;
  };
  const resolved = (resource: DesiredResource): DesiredResource => {
    if (resource.dependsOn.length === 0) return resource;
    const state = resolveRefs(resource.state, applied, null);
    const spec = resolveRefs(resource.spec, applied, null);
    const unresolved = [...new Set([...state.unresolved, ...spec.unresolved])];
    if (unresolved.length > 0) throw new UnresolvedReference(resource.address, unresolved);
    return { ...resource, state: state.value, spec: spec.value };
  };

  const liveFor = (action: PlannedAction): LiveResource => {
    const found = liveById.get(action.id ?? "");
    if (!found) throw new Error(`internal: no live resource ${action.id} for ${action.address}`);
    return found;
  };

  // Every create and update records, in the same request, that reconcile wrote the resource (docs/adr/0017): the
  // time, the commit, and for versioned kinds the version the write produces (the precondition's plus one).
  const stamp = (version?: number): Record<string, string> => ({
    [APPLIED_KEY]: formatAppliedStamp({
      at: (options.now ?? (() => new Date()))().toISOString(),
      ...(version !== undefined ? { version: version + 1 } : {}),
      ...(options.commit ? { commit: options.commit } : {}),
    }),
  });

  const execute = async (action: PlannedAction, counter: { attempts: number }): Promise<AppliedRef | null> => {
    const provider = providerFor(action.type);
    const declared = desiredBy.get(action.address);
    const resource =
      declared && action.action !== "archive" && action.action !== "delete" ? resolved(declared) : declared;
    const create = async () => {
      // Objects that claimed the address before this create are never mistaken for the one it made.
      const exclude = new Set([
        action.id ?? "",
        live.resources.get(action.address)?.id ?? "",
        ...live.duplicates.filter((d) => d.address === action.address).map((d) => d.id),
      ]);
      const res = resource as DesiredResource;
      const parent = await parentId(res);
      const ownership = { ...ownershipMetadata(ctx.stack, res.name, lifecycleOf(res)), ...stamp() };
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
        const request = {
          fields: changedFields(action),
          ownership: { ...action.ownership, ...stamp(current.version) },
        };
        return verifiedWrite(
          () => provider.update(client, res, current, request, ctx),
          () => updateLanded(client, provider, res, current, request.ownership),
          policy,
          counter,
        );
      }
      case "replace": {
        const current = liveFor(action);
        if (provider.replaceOrder === "archive-first") {
          await retire(client, provider, current);
          try {
            return await create();
          } catch (error) {
            throw new ReplaceIncomplete(current.id, error);
          }
        }
        const created = await create();
        if (provider.replaceOrder === "create-first") await retire(client, provider, current);
        return created;
      }
      case "archive":
        counter.attempts++;
        await retire(client, provider, liveFor(action));
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
    const skipped = options.skip?.get(actionKey(action));
    const promise = (async () => {
      const results = await Promise.allSettled(deps.map((address) => running.get(address)));
      const failedDep = deps.find((_, i) => results[i]?.status === "rejected");
      const began = Date.now();
      const counter = { attempts: 0 };
      const record = (outcome: Pick<ApplyOutcome, "status" | "id" | "error" | "archived" | "unready">) => {
        const full: ApplyOutcome = {
          address: action.address,
          action: action.action,
          ...(action.duplicate_of ? { duplicate_of: action.duplicate_of } : {}),
          ...outcome,
          attempts: counter.attempts,
          duration_ms: Date.now() - began,
        };
        outcomes.push(full);
        options.onOutcome?.(full);
      };
      if (skipped !== undefined) {
        record({ status: "skipped", unready: true, error: `skipped (--skip-unready): ${skipped}` });
        throw new Error(`skipped: ${skipped}`);
      }
      if (failedDep) {
        const why = options.skip?.has(failedDep) ? "was skipped" : "failed";
        record({ status: "skipped", error: `not attempted: ${failedDep} ${why}` });
        throw new Error(`dependency ${failedDep} ${why}`);
      }
      try {
        const done = await limit(() => {
          options.signal?.throwIfAborted();
          return execute(action, counter);
        });
        if (done && !action.duplicate_of) outcomeOf.set(action.address, done);
        record({ status: "done", ...(done ? { id: done.id } : action.id ? { id: action.id } : {}) });
        return done;
      } catch (error) {
        if (error instanceof ReplaceIncomplete) {
          record({ status: "failed", error: error.message, id: error.archivedId, archived: error.archivedId });
        } else record({ status: "failed", error: describeError(error) });
        throw error;
      }
    })();
    promise.catch(() => undefined); // observed through `outcomes`; dependents see the rejection
    running.set(actionKey(action), promise);
    return promise;
  };

  // Dependencies first, so each action finds the actions it waits for registered (an agent calling another agent).
  const todo = dependencyOrder(
    plan.actions.filter((a) => a.action !== "keep"),
    actionKey,
    (a) => a.depends_on,
  );
  await Promise.allSettled(todo.map(start));
  const count = (status: ApplyOutcome["status"]) => outcomes.filter((o) => o.status === status).length;
  return { outcomes, done: count("done"), failed: count("failed"), skipped: count("skipped") };
}
