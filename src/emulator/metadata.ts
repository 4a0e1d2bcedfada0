import { at, fieldError, has, isObj, type Obj } from "./validate.js";

/**
 * `metadata` rules shared by agents, environments, vaults, credentials, memory stores, deployments and sessions (SDK doc comments: "Maximum 16 pairs, keys
 * up to 64 chars, values up to 512 chars"). Limit violations carry `details.error_code: "invalid_metadata"`, which
 * the SDK maps to `BetaInvalidMetadataError`.
 */

/** At most this many keys in a stored metadata bag. */
export const METADATA_MAX_KEYS = 16;
/** At most this many characters in a key. */
export const METADATA_MAX_KEY_LENGTH = 64;
/** At most this many characters in a value. */
export const METADATA_MAX_VALUE_LENGTH = 512;

/** The stored form of metadata: string values, keys sorted. */
export type Metadata = Record<string, string>;

function sorted(m: Map<string, string>): Metadata {
  return Object.fromEntries([...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function checkKey(key: string, path: string): void {
  if (key.length === 0) throw fieldError(path, "metadata keys must not be empty", "invalid_metadata");
  if (key.length > METADATA_MAX_KEY_LENGTH) {
    throw fieldError(path, `metadata keys must be at most ${METADATA_MAX_KEY_LENGTH} characters`, "invalid_metadata");
  }
}

function checkValue(value: unknown, path: string): string {
  if (typeof value !== "string") throw fieldError(path, "Input should be a valid string");
  if (value.length > METADATA_MAX_VALUE_LENGTH) {
    throw fieldError(
      path,
      `metadata values must be at most ${METADATA_MAX_VALUE_LENGTH} characters`,
      "invalid_metadata",
    );
  }
  return value;
}

function checkCount(m: Map<string, string>, path: string): void {
  if (m.size > METADATA_MAX_KEYS) {
    throw fieldError(
      path,
      `metadata can have at most ${METADATA_MAX_KEYS} keys; this request would leave ${m.size}`,
      "invalid_metadata",
    );
  }
}

/**
 * Metadata sent on create: an object of string values within the limits. Returns it with keys sorted.
 * @throws 400 naming `metadata.<key>`; `invalid_metadata` for limit violations.
 */
export function parseMetadata(v: unknown, path = "metadata"): Metadata {
  if (!isObj(v)) throw fieldError(path, "Input should be a valid object");
  const m = new Map<string, string>();
  for (const [k, value] of Object.entries(v)) {
    checkKey(k, at(path, k));
    m.set(k, checkValue(value, at(path, k)));
  }
  checkCount(m, path);
  return sorted(m);
}

/**
 * Applies a metadata patch sent on update (API-NOTES: "`metadata` is a per-key patch"): a string upserts the key,
 * `null` deletes it, keys not sent are kept. With `emptyStringDeletes` (environments: "Set a value to null or empty
 * string to delete the key"), `""` deletes too. The 16-key limit applies to the result.
 */
export function patchMetadata(
  current: Metadata,
  patch: unknown,
  emptyStringDeletes: boolean,
  path = "metadata",
): Metadata {
  if (!isObj(patch)) throw fieldError(path, "Input should be a valid object");
  const m = new Map(Object.entries(current));
  for (const [k, value] of Object.entries(patch)) {
    const p = at(path, k);
    checkKey(k, p);
    if (value === null || (emptyStringDeletes && value === "")) m.delete(k);
    else m.set(k, checkValue(value, p));
  }
  checkCount(m, path);
  return sorted(m);
}

/** `metadata` of a create body `o` (every kind's `<Kind>CreateParams.metadata`): `{}` when omitted. @throws 400. */
export function createdMetadata(o: Obj): Metadata {
  return o.metadata === undefined ? {} : parseMetadata(o.metadata);
}

/**
 * How a kind's update treats `metadata`. `emptyStringDeletes`: `""` deletes a key like `null` (environments: "Set a
 * value to null or empty string to delete the key"). `nullKeeps`: `metadata: null` changes nothing, where the SDK's
 * update params type it `| null` (agents, vaults, memory stores, deployments); without it `null` is a 400
 * (`EnvironmentUpdateParams.metadata` is not nullable).
 */
export interface MetadataPatchRule {
  emptyStringDeletes: boolean;
  nullKeeps: boolean;
}

/** The rule of every kind but environments: `null` deletes a key, `metadata: null` changes nothing. */
export const NULL_DELETES_KEY: MetadataPatchRule = { emptyStringDeletes: false, nullKeeps: true };

/**
 * Applies the `metadata` of update body `o` to `next` (a copy of the stored object, whose metadata is `current`): a
 * per-key patch (`patchMetadata`) when sent; nothing when omitted or, under `rule.nullKeeps`, `null`.
 * @throws 400 naming `metadata.<key>`; `invalid_metadata` for limit violations.
 */
export function applyMetadataPatch(
  o: Obj,
  next: { metadata: Metadata },
  current: Metadata,
  rule: MetadataPatchRule = NULL_DELETES_KEY,
): void {
  if (!has(o, "metadata") || (rule.nullKeeps && o.metadata === null)) return;
  next.metadata = patchMetadata(current, o.metadata, rule.emptyStringDeletes);
}
