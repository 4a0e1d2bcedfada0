/**
 * Small pure helpers the providers share to build comparable state (see `ComparableState` in `types.ts`).
 */
import type { Json } from "./types.js";

/** `{ type: "always_ask" }` → `"always_ask"`; a string stays as it is; anything else → null. */
export function policyName(policy: unknown): string | null {
  if (typeof policy === "string") return policy;
  if (typeof policy === "object" && policy !== null && typeof (policy as { type?: unknown }).type === "string") {
    return (policy as { type: string }).type;
  }
  return null;
}

/** A list turned into a map keyed by `key(item)`: order stops mattering and paths name the item. */
export function keyed<T>(items: readonly T[] | null | undefined, key: (item: T) => string, value: (item: T) => Json) {
  const out: { [key: string]: Json } = {};
  for (const item of items ?? []) out[key(item)] = value(item);
  return out;
}

/** A copy of a string list, sorted (for lists the API treats as sets: hosts, packages). */
export function sortedStrings(list: readonly string[] | null | undefined): string[] {
  return [...(list ?? [])].sort();
}

/** `value` as a Json value (drops `undefined`, which JSON cannot hold). */
export function toJson(value: unknown): Json {
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as Json);
}

/** The page size every list asks for: the largest the API serves, so observe makes the fewest requests. */
export const LIST_PAGE_SIZE = 100;
