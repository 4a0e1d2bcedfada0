/**
 * Ownership metadata: how a live resource says which stack and spec it belongs to (DESIGN.md, "Identity lives on
 * the live resource, not in a state file"). Every create writes these keys; observe keeps only objects whose
 * `managed-by` and stack match. Up to six reserved keys (these three, `reconcile/lifecycle`, `reconcile/applied` and,
 * on credentials, `reconcile/secret-fingerprint`) count against the API's 16-key metadata limit, which is why specs
 * may use at most 10 keys of their own.
 */

/** Metadata keys reconcile reserves on every resource it manages. */
export const OWNERSHIP_KEYS = {
  managedBy: "managed-by",
  stack: "reconcile/stack",
  name: "reconcile/name",
  /**
   * `protect` (`protect: true`: never archived or replaced) or `delete` (`on_prune: delete`: prune deletes it);
   * absent for the default (prune archives). Kept on the resource so it holds after the spec is removed.
   */
  lifecycle: "reconcile/lifecycle",
} as const;

/** The `reconcile/lifecycle` values. */
export type Lifecycle = "protect" | "delete";

/**
 * The lifecycle of a desired resource (`protect`, `deleteOnPrune`) or a live one (`protected`, `deleteOnPrune`):
 * `protect` wins over `delete` (specs may not say both).
 */
export function lifecycleOf(resource: {
  protect?: boolean;
  protected?: boolean;
  deleteOnPrune: boolean;
}): Lifecycle | null {
  return resource.protect || resource.protected ? "protect" : resource.deleteOnPrune ? "delete" : null;
}

/** The credential-only key holding the keyed fingerprint of its secret values (see `secrets.ts`). */
export const SECRET_FINGERPRINT_KEY = "reconcile/secret-fingerprint";

/** The `managed-by` value reconcile writes. */
export const MANAGED_BY = "reconcile";

/** True for a metadata key reconcile owns (never shown in diffs, never deleted by an update). */
export function isReservedKey(key: string): boolean {
  return key === OWNERSHIP_KEYS.managedBy || key.startsWith("reconcile/");
}

/**
 * The ownership metadata of a resource of `stack` named `name` (the spec name; for credentials `vault/cred`),
 * protected or not.
 */
export function ownershipMetadata(
  stack: string,
  name: string,
  lifecycle: Lifecycle | null = null,
): Record<string, string> {
  return {
    [OWNERSHIP_KEYS.managedBy]: MANAGED_BY,
    [OWNERSHIP_KEYS.stack]: stack,
    [OWNERSHIP_KEYS.name]: name,
    ...(lifecycle ? { [OWNERSHIP_KEYS.lifecycle]: lifecycle } : {}),
  };
}

/** Who owns a live object according to its metadata, or null when no reconcile stack does. */
export function ownerOf(
  metadata: Record<string, string> | undefined,
): { stack: string; name: string; lifecycle: Lifecycle | null } | null {
  if (!metadata || metadata[OWNERSHIP_KEYS.managedBy] !== MANAGED_BY) return null;
  const stack = metadata[OWNERSHIP_KEYS.stack];
  const name = metadata[OWNERSHIP_KEYS.name];
  if (!stack || !name) return null;
  const lifecycle = metadata[OWNERSHIP_KEYS.lifecycle];
  return { stack, name, lifecycle: lifecycle === "protect" || lifecycle === "delete" ? lifecycle : null };
}

/** The user's own metadata: `metadata` without reserved keys. */
export function userMetadata(metadata: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata ?? {})) if (!isReservedKey(key)) out[key] = value;
  return out;
}

/**
 * The API's per-key metadata patch (API-NOTES: "metadata is a per-key patch: a key set to null is deleted") that
 * turns the live user metadata into `desired`, leaving reserved keys alone. `extra` reserved keys are upserted
 * (string) or deleted (null) too.
 */
export function metadataPatch(
  desired: Record<string, string>,
  live: Record<string, string>,
  extra: Record<string, string | null> = {},
): Record<string, string | null> {
  const patch: Record<string, string | null> = { ...desired, ...extra };
  for (const key of Object.keys(live)) if (!isReservedKey(key) && !(key in desired)) patch[key] = null;
  return patch;
}

/**
 * The `metadata` an update sends, or undefined when it sends none: the spec's user metadata as a patch when
 * `metadata` changed, plus the reserved keys the engine asks for (`ownership`: adopt, rename, lifecycle).
 */
export function metadataUpdate(
  spec: Record<string, string>,
  live: Record<string, string>,
  request: { fields: readonly string[]; ownership: Record<string, string | null> },
): Record<string, string | null> | undefined {
  if (request.fields.includes("metadata")) return metadataPatch(spec, live, request.ownership);
  return Object.keys(request.ownership).length > 0 ? { ...request.ownership } : undefined;
}

/**
 * The key apply writes, in the same request as each create or update, to record that reconcile wrote the resource
 * (docs/adr/0017-applied-stamp.md). Its value is an `AppliedStamp` in the form `at=ISO [version=N] [commit=SHA]`:
 * one key rather than three, to leave specs 10 of the API's 16 metadata keys.
 */
export const APPLIED_KEY = "reconcile/applied";

/** What the `reconcile/applied` key says about the last write reconcile made. */
export interface AppliedStamp {
  /** When apply sent the write (ISO 8601 instant, the client's clock). */
  at: string;
  /**
   * The version the resource has after that write, for kinds with a version (agents): the live version the update
   * was conditioned on plus one (API-NOTES: an update that changes something makes exactly one new version).
   * Absent after a create (the API chooses the first version).
   */
  version?: number;
  /** The commit the specs were applied from (`GITHUB_SHA`, or `git rev-parse HEAD`), when known. */
  commit?: string;
}

/** Formats a stamp as the value of `reconcile/applied` (at most ~110 characters, within the API's 512). */
export function formatAppliedStamp(stamp: AppliedStamp): string {
  return [
    `at=${stamp.at}`,
    ...(stamp.version !== undefined ? [`version=${stamp.version}`] : []),
    ...(stamp.commit ? [`commit=${stamp.commit}`] : []),
  ].join(" ");
}

/**
 * Reads a `reconcile/applied` value; null when absent or not a stamp (hand-edited in the console: an unreadable
 * stamp proves nothing, so the resource counts as written before stamps existed).
 */
export function parseAppliedStamp(value: string | undefined): AppliedStamp | null {
  if (typeof value !== "string" || value.length > 512) return null;
  const fields = new Map<string, string>();
  for (const part of value.split(" ")) {
    const eq = part.indexOf("=");
    if (eq <= 0) return null;
    fields.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const at = fields.get("at") ?? "";
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(at) || Number.isNaN(Date.parse(at))) return null;
  const version = fields.get("version");
  if (version !== undefined && !/^[1-9]\d{0,15}$/.test(version)) return null;
  const commit = fields.get("commit");
  if (commit !== undefined && !/^[0-9a-f]{7,64}$/.test(commit)) return null;
  return { at, ...(version !== undefined ? { version: Number(version) } : {}), ...(commit ? { commit } : {}) };
}
