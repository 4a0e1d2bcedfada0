/**
 * References between resources: values of a desired resource known only from another resource (an agent's id that
 * a deployment pins, the version an apply produces, a tunnel's API-assigned `domain` inside a toolset URL).
 *
 * A provider writes an `OutputRef` where the API wants the other resource's value, in the desired `state` and in the
 * `spec` it builds request params from. The engine resolves them: the plan from the live state (a value that an
 * action of the same plan will change is `(known after apply)`, as Terraform prints it), apply from the outcomes of
 * the actions it already ran. A provider's `create`/`update` never sees an `OutputRef` (docs/adr/0024).
 */
import type { Json } from "./types.js";

/**
 * A JSON value standing for an output of the resource at address `$ref` (`agent.ops-agent`): `id`, `version`, or an
 * output the provider publishes (`domain`, see `Provider.outputs`). `prefix`/`suffix` wrap a string output
 * (`https://db.` + domain + `/mcp`).
 */
// A type alias, not an interface, so an `OutputRef` is assignable to `Json` inside comparable state.
export type OutputRef = {
  $ref: string;
  output: string;
  prefix?: string;
  suffix?: string;
};

/** An `OutputRef` to `output` (default `id`) of the resource at `address`, optionally wrapped in a string. */
export function outputRef(address: string, output = "id", wrap: { prefix?: string; suffix?: string } = {}): OutputRef {
  return {
    $ref: address,
    output,
    ...(wrap.prefix !== undefined ? { prefix: wrap.prefix } : {}),
    ...(wrap.suffix !== undefined ? { suffix: wrap.suffix } : {}),
  };
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" &&
  value !== null &&
  (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null);

/** True for an `OutputRef` (a plain object with a string `$ref` and `output`). */
export function isOutputRef(value: unknown): value is OutputRef {
  return isPlainObject(value) && typeof value.$ref === "string" && typeof value.output === "string";
}

/** The addresses referenced anywhere inside `value` (plain objects and arrays), each once, in order of appearance. */
export function refsIn(value: unknown): string[] {
  const out = new Set<string>();
  const walk = (v: unknown): void => {
    if (isOutputRef(v)) out.add(v.$ref);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (isPlainObject(v)) Object.values(v).forEach(walk);
  };
  walk(value);
  return [...out];
}

/** What `resolveRefs` does with a reference: the value, or `undefined` when it is not known (yet). */
export type RefLookup = (address: string, output: string) => Json | undefined;

/**
 * `value` with every `OutputRef` replaced by what `lookup` gives (wrapped in its prefix and suffix); references
 * `lookup` does not know are replaced by `unknown` and reported. Plain objects and arrays are copied only on the way
 * to a replaced reference: a subtree without one is the very same object in the result (so a state without
 * references costs a walk and no copy), which callers must therefore treat as read-only, as they treat states.
 * Other objects (Buffers, class instances) are kept as they are.
 * @returns the resolved value, and the addresses/outputs that were not known (`agent.a.version`)
 */
export function resolveRefs<T>(value: T, lookup: RefLookup, unknown: Json): { value: T; unresolved: string[] } {
  const unresolved: string[] = [];
  const walk = (v: unknown): unknown => {
    if (isOutputRef(v)) {
      const found = lookup(v.$ref, v.output);
      if (found === undefined) {
        unresolved.push(`${v.$ref}.${v.output}`);
        return unknown;
      }
      return v.prefix !== undefined || v.suffix !== undefined
        ? `${v.prefix ?? ""}${String(found)}${v.suffix ?? ""}`
        : found;
    }
    if (Array.isArray(v)) {
      let copy: unknown[] | undefined;
      for (let i = 0; i < v.length; i++) {
        const item = walk(v[i]);
        if (item !== v[i]) copy ??= v.slice();
        if (copy) copy[i] = item;
      }
      return copy ?? v;
    }
    if (isPlainObject(v)) {
      let copy: Record<string, unknown> | undefined;
      for (const key of Object.keys(v)) {
        const item = walk(v[key]);
        if (item === v[key]) {
          if (copy) defineOwn(copy, key, item);
          continue;
        }
        if (!copy) {
          // The keys before this one, as they were (`Object.entries` order, `__proto__` kept as an own property).
          copy = {};
          for (const earlier of Object.keys(v)) {
            if (earlier === key) break;
            defineOwn(copy, earlier, v[earlier]);
          }
        }
        defineOwn(copy, key, item);
      }
      return copy ?? v;
    }
    return v;
  };
  return { value: walk(value) as T, unresolved };
}

/** `target[key] = value` as an own data property, even for `__proto__` (as `Object.fromEntries` does). */
function defineOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else target[key] = value;
}
