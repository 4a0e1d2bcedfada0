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

/**
 * `value` as a Json value: exactly `JSON.parse(JSON.stringify(value))` (`toJSON` called with its key, `undefined`,
 * functions and symbols dropped from objects and `null` in arrays, non-finite numbers `null`, `-0` as `0`, a
 * `__proto__` key kept as an own property), and `null` for a top-level `undefined`. Copied in one walk without the
 * text in between, which was a good part of building the state of a large fleet (issue 10 item 6).
 * @throws TypeError for a BigInt, as `JSON.stringify`
 */
export function toJson(value: unknown): Json {
  return value === undefined ? null : (jsonCopy("", value) ?? null);
}

/** The copy of `input` held under `key` (see `toJson`), or undefined when JSON has none for it. */
function jsonCopy(key: string, input: unknown): Json | undefined {
  let value = input;
  if (value !== null && (typeof value === "object" || typeof value === "bigint")) {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") value = toJSON.call(value, key);
  }
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      return Number.isFinite(value) ? value + 0 : null; // + 0 turns -0 into 0
    case "bigint":
      throw new TypeError("Do not know how to serialize a BigInt");
    case "undefined":
    case "function":
    case "symbol":
      return undefined;
  }
  if (value === null) return null;
  if (value instanceof Number || value instanceof String || value instanceof Boolean) {
    return jsonCopy(key, value.valueOf());
  }
  if (Array.isArray(value)) {
    const out: Json[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = jsonCopy(String(i), value[i]) ?? null;
    return out;
  }
  const out: { [key: string]: Json } = {};
  for (const k of Object.keys(value as object)) {
    const item = jsonCopy(k, (value as Record<string, unknown>)[k]);
    if (item === undefined) continue;
    if (k === "__proto__")
      Object.defineProperty(out, k, { value: item, enumerable: true, writable: true, configurable: true });
    else out[k] = item;
  }
  return out;
}

/** The page size every list asks for: the largest the API serves, so observe makes the fewest requests. */
export const LIST_PAGE_SIZE = 100;
