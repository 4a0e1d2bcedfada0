/**
 * Observing while the specs load (issue 10 item 6): `plan` and `drift` know the stack, the target and its `adopt:`
 * entries once `reconcile.yaml` is read, so they connect and start the observe then, and load the specs meanwhile.
 * Observing is reads only; its latency (pages of lists, one after another) then overlaps the CPU time of loading.
 *
 * What the user sees does not change: the specs' errors come first (a spec error stops the command with exit 1,
 * and whatever the observe or the connection would have said is never reported), then connection errors, then
 * observe errors. A pending observe is abandoned by `abandon()`: an SDK middleware fails every request of the
 * observe at once with `ObserveAbandoned` (not retried: the SDK passes a middleware's error through, and the request
 * layer does not count it as transient) and aborts the fetch in flight, so no timer or socket outlives the command.
 * `apply` does not observe early: it must hold the stack's lock before observing, and taking the lock is a write
 * that a spec error must prevent (docs/adr/0023-speed.md).
 *
 * Only a repository of at least `EARLY_OBSERVE_MIN_FILES` YAML files observes early: below that, loading takes less
 * than a request's latency and there is nothing to win, while a spec error (an invalid cron expression, a typo) must
 * stop the command before any request reaches the API (issue 11: "checked before any API call").
 */
import { setMaxListeners } from "node:events";
import type { Middleware } from "@anthropic-ai/sdk";
import type { LiveState } from "../reconcile/observe.js";
import { observeFor, type ProjectHead } from "../reconcile/workflow.js";
import { findSpecFiles } from "../spec/load.js";
import type { Connection } from "./connect.js";

/**
 * The fewest spec files (YAML files under the root) for which `plan` and `drift` observe while loading. The
 * environment variable `RECONCILE_OBSERVE_EARLY_MIN_FILES` overrides it (tests set 0 to observe early always).
 */
export const EARLY_OBSERVE_MIN_FILES = 200;

/**
 * True when a repository at `root` is large enough for observing while loading to pay (see `EARLY_OBSERVE_MIN_FILES`).
 * Lists the files only (no reads).
 */
export async function worthObservingEarly(root: string): Promise<boolean> {
  const override = Number.parseInt(process.env.RECONCILE_OBSERVE_EARLY_MIN_FILES ?? "", 10);
  const min = Number.isFinite(override) && override >= 0 ? override : EARLY_OBSERVE_MIN_FILES;
  if (min === 0) return true;
  return (await findSpecFiles(root)).length >= min;
}

/** The error every request of an abandoned observe fails with. Never shown: the command reports its spec errors. */
export class ObserveAbandoned extends Error {
  constructor() {
    super("the observe was abandoned: the specs have errors");
    this.name = "ObserveAbandoned";
  }
}

/** A connection being opened and an observe started on it, before the specs are loaded. */
export interface EarlyObserve {
  /** The connection; rejects with what `connect` throws. Await it only once the specs loaded without errors. */
  connection: Promise<Connection>;
  /** The live state; rejects with what `observeFor` (or the connection) throws. */
  observed: Promise<LiveState>;
  /**
   * Stops the observe (its requests fail at once with `ObserveAbandoned`, the fetch in flight is aborted) and
   * resolves once it has settled, with the connection if one was opened (for the caller to close).
   */
  abandon(): Promise<Connection | undefined>;
}

/**
 * Opens the connection with `connect` and starts observing `head`'s stack on it. Neither promise ever rejects
 * unhandled: a failure surfaces only when the caller awaits it.
 */
export function observeEarly(head: Omit<ProjectHead, "root">, connect: () => Promise<Connection>): EarlyObserve {
  const stop = new AbortController();
  // One listener per request in flight (see `observeOn`), each removed when its request settles: no leak to warn of.
  setMaxListeners(0, stop.signal);
  const connection = connect();
  const observed = connection.then((c) => observeOn(c, head, stop.signal));
  connection.catch(() => {});
  observed.catch(() => {});
  return {
    connection,
    observed,
    abandon: async () => {
      stop.abort();
      await observed.catch(() => {});
      return connection.catch(() => undefined);
    },
  };
}

/** Observes on `c.client` with a middleware that `signal` turns into an immediate failure; removed when settled. */
async function observeOn(c: Connection, head: Omit<ProjectHead, "root">, signal: AbortSignal): Promise<LiveState> {
  const { client } = c;
  const previous = client.middleware;
  const abandonable: Middleware = async (request, next) => {
    if (signal.aborted) throw new ObserveAbandoned();
    // One controller per request, aborted by either signal, its listeners removed when the request settles. Not
    // `AbortSignal.any`: on Node 20 each call registers the new signal with the long-lived `signal` until a garbage
    // collection finalizes it, which cost more main-thread time than the rest of a page's request (issue 10 item 6).
    const controller = new AbortController();
    const abort = () => controller.abort();
    const sources = request.signal ? [signal, request.signal] : [signal];
    for (const source of sources) source.addEventListener("abort", abort, { once: true });
    if (request.signal?.aborted) controller.abort();
    try {
      return await next({ ...request, signal: controller.signal });
    } catch (error) {
      if (signal.aborted) throw new ObserveAbandoned();
      throw error;
    } finally {
      for (const source of sources) source.removeEventListener("abort", abort);
    }
  };
  client.middleware = [...previous, abandonable];
  try {
    return await observeFor(client, head, c.secrets);
  } finally {
    client.middleware = previous;
  }
}
