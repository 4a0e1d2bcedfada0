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
 */
import type { Middleware } from "@anthropic-ai/sdk";
import type { LiveState } from "../reconcile/observe.js";
import { observeFor, type ProjectHead } from "../reconcile/workflow.js";
import type { Connection } from "./connect.js";

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
    try {
      return await next({ ...request, signal: request.signal ? AbortSignal.any([request.signal, signal]) : signal });
    } catch (error) {
      if (signal.aborted) throw new ObserveAbandoned();
      throw error;
    }
  };
  client.middleware = [...previous, abandonable];
  try {
    return await observeFor(client, head, c.secrets);
  } finally {
    client.middleware = previous;
  }
}
