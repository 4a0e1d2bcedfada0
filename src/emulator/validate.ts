import { badRequest } from "./errors.js";

/**
 * Small request-validation helpers. Every failure is a 400 `invalid_request_error` whose message starts with the
 * dotted path of the offending field (`tools.1.mcp_server_name: …`), in the wording of the real API's validator
 * ("Field required", "Input should be a valid string", "Extra inputs are not permitted").
 *
 * Messages name fields and enum tags only; they never echo a submitted value, so a secret can't leak through them.
 */

/** A JSON object from a request body. */
export type Obj = Record<string, unknown>;

/** `base.key`, or `key` at the top level (`base` = ""). */
export function at(base: string, key: string | number): string {
  return base === "" ? String(key) : `${base}.${key}`;
}

/** A 400 for the field at `path` (`path: message`; the bare message at the top level). */
export function fieldError(path: string, message: string, errorCode?: string): Error {
  return badRequest(path === "" ? message : `${path}: ${message}`, errorCode);
}

/** True for a plain JSON object (not null, not an array). */
export function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** True when `o` has its own key `k` (JSON has no `undefined`, so absent ≡ omitted). */
export function has(o: Obj, k: string): boolean {
  return Object.hasOwn(o, k);
}

/** `v` as an object, else 400 "Input should be a valid object". At the top level: "Request body must be a JSON object". */
export function obj(v: unknown, path: string): Obj {
  if (isObj(v)) return v;
  if (path === "") throw badRequest("Request body must be a JSON object");
  throw fieldError(path, "Input should be a valid object");
}

/**
 * Rejects keys of `o` not in `allowed` ("Extra inputs are not permitted"). `hints` replaces that message for
 * known-but-forbidden keys (e.g. an immutable field on update).
 */
export function onlyKeys(o: Obj, allowed: readonly string[], path: string, hints: Record<string, string> = {}): void {
  for (const k of Object.keys(o)) {
    if (allowed.includes(k)) continue;
    throw fieldError(at(path, k), hints[k] ?? "Extra inputs are not permitted");
  }
}

/** Reads `o[k]`, 400 "Field required" when absent. */
export function required(o: Obj, k: string, path: string): unknown {
  if (!has(o, k)) throw fieldError(at(path, k), "Field required");
  return o[k];
}

/** Length limits for `str`. */
export interface StrLimits {
  min?: number;
  max?: number;
}

/** `v` as a string within `limits` (lengths in UTF-16 code units, like the API's character counts). */
export function str(v: unknown, path: string, limits: StrLimits = {}): string {
  if (typeof v !== "string") throw fieldError(path, "Input should be a valid string");
  const { min, max } = limits;
  if (min !== undefined && v.length < min) {
    throw fieldError(path, `String should have at least ${min} character${min === 1 ? "" : "s"}`);
  }
  if (max !== undefined && v.length > max) throw fieldError(path, `String should have at most ${max} characters`);
  return v;
}

/** `v` as a boolean (no coercion). */
export function bool(v: unknown, path: string): boolean {
  if (typeof v !== "boolean") throw fieldError(path, "Input should be a valid boolean");
  return v;
}

/** `v` as an integer in [min, max]. */
export function int(v: unknown, path: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== "number" || !Number.isInteger(v)) throw fieldError(path, "Input should be a valid integer");
  if (v < min) throw fieldError(path, `Input should be greater than or equal to ${min}`);
  if (v > max) throw fieldError(path, `Input should be less than or equal to ${max}`);
  return v;
}

/** `v` as an array of at most `max` items. */
export function arr(v: unknown, path: string, max?: number): unknown[] {
  if (!Array.isArray(v)) throw fieldError(path, "Input should be a valid array");
  if (max !== undefined && v.length > max) {
    throw fieldError(
      path,
      `List should have at most ${max} item${max === 1 ? "" : "s"} after validation, not ${v.length}`,
    );
  }
  return v;
}

/** An array of strings (each at least 1 character), e.g. package lists and host lists. */
export function strArr(v: unknown, path: string, max?: number): string[] {
  return arr(v, path, max).map((item, i) => str(item, at(path, i), { min: 1 }));
}

function quoteList(values: readonly string[]): string {
  const q = values.map((v) => `'${v}'`);
  return q.length <= 1 ? q.join("") : `${q.slice(0, -1).join(", ")} or ${q[q.length - 1]}`;
}

/** `v` as one of `values` ("Input should be 'a', 'b' or 'c'"). */
export function oneOf<T extends string>(v: unknown, path: string, values: readonly T[]): T {
  if (typeof v !== "string" || !values.includes(v as T)) throw fieldError(path, `Input should be ${quoteList(values)}`);
  return v as T;
}

/**
 * The discriminator `o.type` of a tagged union, one of `tags`. Absent → "Field required"; unknown → "Input tag 'x'
 * found using 'type' does not match any of the expected tags: …" (the tag is an enum value, safe to echo).
 */
export function tag<T extends string>(o: Obj, path: string, tags: readonly T[]): T {
  const v = required(o, "type", path);
  if (typeof v === "string" && tags.includes(v as T)) return v as T;
  const shown = typeof v === "string" ? `'${v.slice(0, 64)}'` : "of the wrong type";
  const expected = tags.map((t) => `'${t}'`).join(", ");
  throw fieldError(
    at(path, "type"),
    `Input tag ${shown} found using 'type' does not match any of the expected tags: ${expected}`,
  );
}

/** `v` as an absolute http(s) URL of at most 2048 characters. */
export function httpUrl(v: unknown, path: string): string {
  const s = str(v, path, { min: 1, max: 2048 });
  let parsed: URL;
  try {
    parsed = new URL(s);
  } catch {
    throw fieldError(path, "Input should be a valid URL");
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") {
    throw fieldError(path, "URL scheme should be 'http' or 'https'");
  }
  return s;
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * `v` as an RFC 3339 timestamp string (the SDK's `expires_at` is documented as RFC 3339), returned normalised to UTC
 * `Z` form: `2027-01-01T02:00:00.5+02:00` → `2027-01-01T00:00:00.5Z` (fraction kept to microseconds, trailing zeros
 * dropped), the way the API echoes every timestamp in `Z` form. A time without a fraction keeps none.
 */
export function timestamp(v: unknown, path: string): string {
  const s = str(v, path);
  const m = RFC3339.exec(s);
  const seconds = m ? Date.parse(`${m[1]}T${m[2]}${(m[4] ?? "Z").toUpperCase()}`) : Number.NaN;
  if (!m || Number.isNaN(seconds)) throw fieldError(path, "Input should be a valid RFC 3339 datetime");
  const micros = (m[3] ?? "").padEnd(6, "0").slice(0, 6).replace(/0+$/, "");
  return `${new Date(seconds).toISOString().slice(0, 19)}${micros === "" ? "" : `.${micros}`}Z`;
}

/** Deep structural equality of JSON values (object key order ignored, array order significant). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => has(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

/**
 * A deep copy of a JSON value (responses never share structure with the store). Plain objects and arrays are copied
 * by a walk, several times faster than `structuredClone`, which served every list page and dominated the emulator's
 * time per page on the benchmark fleet; anything else (a Date, a Map) goes through `structuredClone`. Properties set
 * to `undefined` are kept, as `structuredClone` keeps them; shared sub-objects become separate copies (store values
 * hold no cycles).
 */
export function clone<T>(v: T): T {
  return copyValue(v) as T;
}

function copyValue(v: unknown): unknown {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) {
    const out: unknown[] = new Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = copyValue(v[i]);
    return out;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return structuredClone(v);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(v)) {
    const value = copyValue((v as Record<string, unknown>)[key]);
    if (key === "__proto__")
      Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    else out[key] = value;
  }
  return out;
}
