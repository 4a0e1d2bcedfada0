/**
 * Deterministic fault injection, so clients can be tested against the failures a real API produces: rate limits,
 * server errors and connections that drop, including drops after a create was already committed (a client that
 * blindly retries a create then makes a duplicate).
 */

/** A fault to inject into one request. */
export type Fault =
  | { kind: "rate_limit"; retryAfterSeconds: 0 | 1 }
  | { kind: "server_error" }
  /** Destroy the socket without a response; with `afterCommit`, only after the handler has applied the request. */
  | { kind: "reset"; afterCommit: boolean };

/**
 * mulberry32: a tiny, fast 32-bit PRNG. Same seed → same sequence of floats in [0, 1).
 * @param seed any number; only its low 32 bits matter.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Decides, request by request, whether to inject a fault. With the same `seed` and the same sequence of requests
 * the decisions are identical, so a failing run can be replayed.
 */
export class FaultInjector {
  private readonly random: () => number;

  /**
   * @param rate probability in [0, 1] that a request fails.
   * @param seed PRNG seed.
   */
  constructor(
    readonly rate: number,
    readonly seed: number,
  ) {
    this.random = mulberry32(seed);
  }

  /**
   * The fault for the next request, or `null`. Draws a fixed number of values per request (so one request's
   * outcome does not shift the sequence differently depending on its method). A reset of a mutating request
   * (`POST`, `DELETE`) happens after the commit half of the time; a reset of a read always happens before.
   */
  next(method: string): Fault | null {
    const hit = this.random() < this.rate;
    const which = this.random();
    const detail = this.random();
    if (!hit) return null;
    if (which < 1 / 3) return { kind: "rate_limit", retryAfterSeconds: detail < 0.5 ? 0 : 1 };
    if (which < 2 / 3) return { kind: "server_error" };
    const mutating = method === "POST" || method === "DELETE";
    return { kind: "reset", afterCommit: mutating && detail < 0.5 };
  }
}
