/**
 * Secret health (issue 9 item 2): which credentials' secrets are due, from the desired credentials (their
 * `rotation.max_age`) and the live ones (the write time reconcile records as `reconcile/secret-written-at`, and an
 * `mcp_oauth` credential's `expires_at`). Pure: the clock is an argument. `plan` shows the due ones as warnings,
 * `reconcile secrets status` lists every credential.
 */
import { collectSecretRefs, SECRET_WRITTEN_AT_KEY } from "../providers/secrets.js";
import type { DesiredResource } from "../providers/types.js";
import type { ResolvedCredential } from "../spec/types.js";
import type { LiveState } from "./observe.js";

/** How long before an `mcp_oauth` credential's `expires_at` it is reported as expiring (24 hours). */
export const DEFAULT_EXPIRY_WARNING_MS = 24 * 3_600_000;

/** The health of one credential's secret. */
export interface SecretHealth {
  /** `credential.VAULT/NAME`. */
  address: string;
  /**
   * `ok`; `due` (written longer ago than `max_age`, or no write time recorded while `max_age` is set); `expiring`
   * (`expires_at` within the warning window); `expired` (`expires_at` past); `missing` (not live yet).
   */
  status: "ok" | "due" | "expiring" | "expired" | "missing";
  /** Why, in words, without any value: `last written 2026-01-01T00:00:00Z, more than max_age 30d ago`. */
  reason: string;
  /** The recorded write time (ISO 8601), or null when none is recorded. */
  written_at: string | null;
  /** The live `expires_at` of an `mcp_oauth` credential, or null. */
  expires_at: string | null;
  /** `rotation.max_age` in milliseconds, or null. */
  max_age_ms: number | null;
}

/** Options of `secretHealth`. */
export interface SecretHealthOptions {
  /** The current time. */
  now: Date;
  /** How long before `expires_at` to warn (default `DEFAULT_EXPIRY_WARNING_MS`). */
  expiryWarningMs?: number;
}

/** `30d`, `12h`, `45m`, `10s`: the largest whole unit of a duration in milliseconds. */
export function formatDuration(ms: number): string {
  const units: Array<[string, number]> = [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ];
  for (const [unit, size] of units) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${Math.round(ms / 1000)}s`;
}

const isoOrNull = (value: unknown): string | null =>
  typeof value === "string" && !Number.isNaN(Date.parse(value)) ? value : null;

/**
 * The health of every declared credential, in address order. A credential is `due` when its `rotation.max_age`
 * is set and its secret was last written longer ago (or no write time is recorded: it was written before reconcile
 * recorded one, or out of band); `expired`/`expiring` when its live `auth.expires_at` is past or within the warning
 * window (whatever `max_age` says); `missing` when it is not live yet (apply or rotate creates it).
 */
export function secretHealth(
  desired: readonly DesiredResource[],
  live: LiveState,
  options: SecretHealthOptions,
): SecretHealth[] {
  const now = options.now.getTime();
  const window = options.expiryWarningMs ?? DEFAULT_EXPIRY_WARNING_MS;
  const out: SecretHealth[] = [];
  for (const resource of desired) {
    if (resource.type !== "credential") continue;
    const credential = (resource.spec as { credential: ResolvedCredential }).credential;
    const maxAge = credential.max_age_ms ?? null;
    const object = live.resources.get(resource.address);
    if (!object) {
      out.push({
        address: resource.address,
        status: "missing",
        reason: "not created yet: apply or `reconcile secrets rotate` creates it",
        written_at: null,
        expires_at: null,
        max_age_ms: maxAge,
      });
      continue;
    }
    const writtenAt = isoOrNull(object.metadata[SECRET_WRITTEN_AT_KEY]);
    const auth = object.state.auth as { expires_at?: unknown } | undefined;
    const expiresAt = isoOrNull(auth?.expires_at);
    const entry: SecretHealth = {
      address: resource.address,
      status: "ok",
      reason: "",
      written_at: writtenAt,
      expires_at: expiresAt,
      max_age_ms: maxAge,
    };
    const reasons: string[] = [];
    if (expiresAt !== null) {
      const left = Date.parse(expiresAt) - now;
      if (left <= 0) {
        entry.status = "expired";
        reasons.push(`expired at ${expiresAt}`);
      } else if (left <= window) {
        entry.status = "expiring";
        reasons.push(`expires at ${expiresAt}, within ${formatDuration(window)}`);
      }
    }
    if (maxAge !== null) {
      if (writtenAt === null) {
        if (entry.status === "ok") entry.status = "due";
        reasons.push(`no write time recorded, and rotation.max_age is ${formatDuration(maxAge)}`);
      } else if (now - Date.parse(writtenAt) > maxAge) {
        if (entry.status === "ok") entry.status = "due";
        reasons.push(`last written ${writtenAt}, more than max_age ${formatDuration(maxAge)} ago`);
      }
    }
    entry.reason =
      reasons.length > 0 ? reasons.join("; ") : writtenAt ? `last written ${writtenAt}` : "no write time recorded";
    out.push(entry);
  }
  return out.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}

/** True for a health entry that needs a rotation (due, expiring or expired). */
export function needsRotation(health: SecretHealth): boolean {
  return health.status === "due" || health.status === "expiring" || health.status === "expired";
}

/** The plan warnings for `health`: one per credential that needs a rotation, naming why and what to run. */
export function healthWarnings(health: readonly SecretHealth[]): string[] {
  return health
    .filter(needsRotation)
    .map((h) => `${h.address}: secret ${h.status}: ${h.reason}; run \`reconcile secrets rotate\``);
}

/**
 * Which variables each declared credential reads (names only, never values), by address: what the plan lists so a
 * reviewer sees a credential pointed at another variable.
 */
export function secretVariables(desired: readonly DesiredResource[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const resource of [...desired].sort((a, b) => (a.address < b.address ? -1 : 1))) {
    if (resource.type !== "credential") continue;
    const refs = collectSecretRefs((resource.spec as { credential: ResolvedCredential }).credential.auth);
    out[resource.address] = [...new Set(refs.map((ref) => ref.name))];
  }
  return out;
}
