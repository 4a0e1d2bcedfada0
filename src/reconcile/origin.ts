/**
 * Origin: who made the last write to a live resource, reconcile or someone else, from what the resource itself
 * records (docs/adr/0017-applied-stamp.md). Pure: reads only its arguments.
 *
 * Apply writes a stamp (`reconcile/applied`: the time, and for kinds with a version the version the write produced)
 * in the same request as each create and update. Two signals then say that someone else wrote the resource after
 * it:
 * - its `version` is past the one the stamp records (exact; kinds with a version, after an update by reconcile);
 * - its `updated_at` is later than the stamp's time by more than a clock-skew tolerance (any kind; the stamp is the
 *   client's clock, `updated_at` the server's, so a write within the tolerance after an apply is not seen).
 * A resource without a readable stamp (written before stamps existed, or the stamp was edited away) is `unknown`.
 */
import { parseDuration } from "../providers/lock.js";
import type { LiveResource } from "../providers/types.js";

/** The default clock-skew tolerance between the client's stamp and the server's `updated_at`: 2 minutes. */
export const DEFAULT_CLOCK_SKEW_MS = 120_000;

/** The environment variable that sets the tolerance (a duration such as `30s`, `2m`, or `0`). */
export const CLOCK_SKEW_ENV = "RECONCILE_CLOCK_SKEW";

/**
 * The clock-skew tolerance: `RECONCILE_CLOCK_SKEW` when set, else 2 minutes.
 * @throws RangeError naming the variable when it is not a duration
 */
export function clockSkewMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[CLOCK_SKEW_ENV];
  if (raw === undefined || raw === "") return DEFAULT_CLOCK_SKEW_MS;
  try {
    return parseDuration(raw);
  } catch (error) {
    throw new RangeError(`${CLOCK_SKEW_ENV}: ${(error as Error).message}`);
  }
}

/**
 * Who wrote a live resource last:
 * - `outside`: someone other than reconcile wrote it after reconcile's last apply (`evidence` says how we know);
 * - `reconcile`: reconcile's stamp is the last write seen;
 * - `unknown`: no readable stamp (written before reconcile recorded its writes) or no `updated_at` to compare.
 */
export type LastWriter =
  | { by: "outside"; evidence: string }
  | { by: "reconcile"; at: string; commit?: string }
  | { by: "unknown"; why: string };

/**
 * Classifies the last write of `live` (see the module comment).
 * @param toleranceMs how much later than the stamp `updated_at` may be and still count as reconcile's write
 */
export function lastWriter(
  live: Pick<LiveResource, "applied" | "updated_at" | "version">,
  toleranceMs: number,
): LastWriter {
  const stamp = live.applied;
  if (!stamp)
    return { by: "unknown", why: "it carries no record of an apply by reconcile (written before one existed)" };
  if (stamp.version !== undefined && live.version !== undefined && live.version > stamp.version) {
    return {
      by: "outside",
      evidence: `version ${live.version} is past version ${stamp.version}, which reconcile wrote at ${stamp.at}`,
    };
  }
  const updated = live.updated_at === undefined ? Number.NaN : Date.parse(live.updated_at);
  if (Number.isNaN(updated)) {
    return stamp.version !== undefined && live.version !== undefined
      ? { by: "reconcile", at: stamp.at, ...(stamp.commit ? { commit: stamp.commit } : {}) }
      : { by: "unknown", why: "the API did not say when it was last updated" };
  }
  const applied = Date.parse(stamp.at);
  if (updated - applied > toleranceMs) {
    return {
      by: "outside",
      evidence: `updated at ${live.updated_at}, after reconcile's last apply at ${stamp.at}`,
    };
  }
  return { by: "reconcile", at: stamp.at, ...(stamp.commit ? { commit: stamp.commit } : {}) };
}
