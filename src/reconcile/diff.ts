/**
 * Diff: field-level differences between two comparable states (`ComparableState`, see providers/types.ts).
 *
 * Objects are compared key by key, recursively, so a change has the narrowest path that explains it; arrays and
 * scalars are compared whole. Providers already turned order-insensitive lists into maps and filled server
 * defaults, so anything found here is a real difference.
 */
import type { ComparableState, Json } from "../providers/types.js";

/** One changed field. `before` is absent for an added field, `after` for a removed one. */
export interface FieldChange {
  /** `model.effort`, `tools["mcp_toolset:export-jobs"].configs.retry_export_job.permission_policy` */
  path: string;
  before?: Json;
  after?: Json;
  /** The values are secrets (or fingerprints of them) and are shown only as `(sensitive)`. */
  sensitive?: boolean;
  /**
   * The desired value depends on another resource's output that this plan changes (an id it creates, a version its
   * update produces): `after` holds `(known after apply)` where that output goes (see `src/providers/refs.ts`).
   */
  unknown?: boolean;
}

/** The text a masked value shows everywhere: plans, comments, logs, saved plan files. */
export const SENSITIVE = "(sensitive)";

/** What a desired value shows where it holds an output known only once apply has run (Terraform's wording). */
export const UNKNOWN = "(known after apply)";

/** True when `value` is or contains the `UNKNOWN` marker. */
export function containsUnknown(value: Json | undefined): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (typeof value === "object" && value !== null) return Object.values(value).some(containsUnknown);
  return false;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** `parent` + `key` as a path: `a.b` for identifier-like keys, `a["mcp_toolset:x"]` otherwise. */
export function joinPath(parent: string, key: string): string {
  if (IDENTIFIER.test(key)) return parent === "" ? key : `${parent}.${key}`;
  return `${parent}[${JSON.stringify(key)}]`;
}

/** The top-level field a path starts with (`tools` for `tools["x"].configs`). */
export function topField(path: string): string {
  const match = /^[^.[]+/.exec(path);
  return match ? match[0] : path;
}

/** True when `a` and `b` overlap: one is the other or lies inside it, on a path-segment boundary. */
export function pathsOverlap(a: string, b: string): boolean {
  const inside = (inner: string, outer: string) =>
    inner === outer || inner.startsWith(`${outer}.`) || inner.startsWith(`${outer}[`);
  return inside(a, b) || inside(b, a);
}

const isObject = (v: Json | undefined): v is { [key: string]: Json } =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Deep equality of JSON values (object key order ignored). */
export function jsonEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  let count = 0;
  for (const key in a) {
    if (!Object.hasOwn(a, key)) continue;
    count++;
    if (!Object.hasOwn(b, key) || !jsonEqual(a[key], b[key])) return false;
  }
  for (const key in b) if (Object.hasOwn(b, key)) count--;
  return count === 0;
}

/**
 * Appends the changes from `before` to `after` under `path`, given that the two are not equal (`jsonEqual`). Two
 * objects are walked into only where their values differ: each child is compared once, and only the keys whose values
 * differ get a path and are sorted (most are equal in a no-op plan, where building paths and sets for every nested
 * object was a good part of the CPU on the benchmark fleet); anything else is one change.
 */
function walk(path: string, before: Json | undefined, after: Json | undefined, out: FieldChange[]): void {
  if (isObject(before) && isObject(after)) {
    const changed: string[] = [];
    for (const key of Object.keys(before)) if (!jsonEqual(before[key], after[key])) changed.push(key);
    for (const key of Object.keys(after)) {
      if (!Object.hasOwn(before, key) && after[key] !== undefined) changed.push(key);
    }
    for (const key of changed.sort()) walk(joinPath(path, key), before[key], after[key], out);
    return;
  }
  const change: FieldChange = { path };
  if (before !== undefined) change.before = before;
  if (after !== undefined) change.after = after;
  out.push(change);
}

/**
 * The changes that turn `before` into `after`, sorted by path; fields under a `sensitive` path are marked and their
 * values replaced by `(sensitive)`, so the result is safe to print and to save.
 * @param before the live state, or undefined for a resource that does not exist yet (then only top-level fields)
 */
export function diffState(
  before: ComparableState | undefined,
  after: ComparableState,
  sensitive: readonly string[] = [],
): FieldChange[] {
  const out: FieldChange[] = [];
  if (before === undefined) {
    for (const key of Object.keys(after).sort()) out.push({ path: key, after: after[key] as Json });
  } else if (!jsonEqual(before, after)) {
    // Equal states (most of a no-op plan) are found by one comparison that allocates nothing; others are walked.
    walk("", before, after, out);
  }
  return out.map((change) => {
    if (containsUnknown(change.after)) change.unknown = true;
    if (!sensitive.some((s) => pathsOverlap(change.path, s))) return change;
    const masked: FieldChange = { path: change.path, sensitive: true };
    if ("before" in change) masked.before = SENSITIVE;
    if ("after" in change) masked.after = SENSITIVE;
    return masked;
  });
}
