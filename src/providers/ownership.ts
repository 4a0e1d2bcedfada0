/**
 * Ownership metadata: how a live resource says which stack and spec it belongs to (DESIGN.md, "Identity lives on
 * the live resource, not in a state file"). Every create writes these keys; observe keeps only objects whose
 * `managed-by` and stack match. The keys count against the API's 16-key metadata limit, which is why specs may
 * use at most 13 keys of their own.
 */

/** Metadata keys reconcile reserves on every resource it manages. */
export const OWNERSHIP_KEYS = {
  managedBy: "managed-by",
  stack: "reconcile/stack",
  name: "reconcile/name",
} as const;

/** The credential-only key holding the keyed fingerprint of its secret values (see `secrets.ts`). */
export const SECRET_FINGERPRINT_KEY = "reconcile/secret-fingerprint";

/** The `managed-by` value reconcile writes. */
export const MANAGED_BY = "reconcile";

/** True for a metadata key reconcile owns (never shown in diffs, never deleted by an update). */
export function isReservedKey(key: string): boolean {
  return key === OWNERSHIP_KEYS.managedBy || key.startsWith("reconcile/");
}

/** The ownership metadata for a new resource of `stack` named `name` (the spec name, for credentials `vault/cred`). */
export function ownershipMetadata(stack: string, name: string): Record<string, string> {
  return { [OWNERSHIP_KEYS.managedBy]: MANAGED_BY, [OWNERSHIP_KEYS.stack]: stack, [OWNERSHIP_KEYS.name]: name };
}

/** The spec name a live object's metadata claims for `stack`, or null when the object is not ours. */
export function ownedName(metadata: Record<string, string> | undefined, stack: string): string | null {
  if (!metadata) return null;
  if (metadata[OWNERSHIP_KEYS.managedBy] !== MANAGED_BY || metadata[OWNERSHIP_KEYS.stack] !== stack) return null;
  return metadata[OWNERSHIP_KEYS.name] ?? null;
}

/** The user's own metadata: `metadata` without reserved keys. */
export function userMetadata(metadata: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata ?? {})) if (!isReservedKey(key)) out[key] = value;
  return out;
}

/**
 * The API's per-key metadata patch (API-NOTES: "metadata is a per-key patch: a key set to null is deleted") that
 * turns the live user metadata into `desired`, leaving reserved keys alone. `extra` reserved keys are upserted too.
 */
export function metadataPatch(
  desired: Record<string, string>,
  live: Record<string, string>,
  extra: Record<string, string> = {},
): Record<string, string | null> {
  const patch: Record<string, string | null> = { ...desired, ...extra };
  for (const key of Object.keys(live)) if (!isReservedKey(key) && !(key in desired)) patch[key] = null;
  return patch;
}
