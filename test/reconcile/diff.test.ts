import { describe, expect, it } from "vitest";
import { mulberry32 } from "../../src/emulator/faults.js";
import type { ComparableState, Json } from "../../src/providers/types.js";
import {
  diffState,
  type FieldChange,
  joinPath,
  jsonEqual,
  pathsOverlap,
  SENSITIVE,
  topField,
} from "../../src/reconcile/diff.js";
import { randomValue } from "./random-json.js";

describe("diffState", () => {
  it("finds nothing between equal states whatever the key order", () => {
    expect(diffState({ a: 1, b: { c: [1, 2], d: "x" } }, { b: { d: "x", c: [1, 2] }, a: 1 })).toEqual([]);
  });

  it("reports the narrowest changed path with before and after", () => {
    const changes = diffState(
      {
        model: { id: "m", effort: "high" },
        tools: { "mcp_toolset:jobs": { configs: { retry: { policy: "always_allow" } } } },
      },
      {
        model: { id: "m", effort: "max" },
        tools: { "mcp_toolset:jobs": { configs: { retry: { policy: "always_ask" } } } },
      },
    );
    expect(changes).toEqual([
      { path: "model.effort", before: "high", after: "max" },
      { path: 'tools["mcp_toolset:jobs"].configs.retry.policy', before: "always_allow", after: "always_ask" },
    ]);
  });

  it("marks added and removed keys", () => {
    expect(diffState({ metadata: { old: "1" } }, { metadata: { new: "2" } })).toEqual([
      { path: "metadata.new", after: "2" },
      { path: "metadata.old", before: "1" },
    ]);
  });

  it("compares arrays whole", () => {
    expect(diffState({ hosts: ["a", "b"] }, { hosts: ["a", "b", "c"] })).toEqual([
      { path: "hosts", before: ["a", "b"], after: ["a", "b", "c"] },
    ]);
  });

  it("masks sensitive fields on both sides and never returns their values", () => {
    const changes = diffState({ secret: "v1:old", name: "x" }, { secret: "v1:new", name: "x" }, ["secret"]);
    expect(changes).toEqual([{ path: "secret", before: SENSITIVE, after: SENSITIVE, sensitive: true }]);
    expect(JSON.stringify(changes)).not.toContain("v1:");
  });

  it("lists top-level fields for a resource that does not exist yet", () => {
    expect(diffState(undefined, { b: 1, a: { x: 1 }, secret: "v1:s" }, ["secret"])).toEqual([
      { path: "a", after: { x: 1 } },
      { path: "b", after: 1 },
      { path: "secret", after: SENSITIVE, sensitive: true },
    ]);
  });
});

describe("paths", () => {
  it("joins identifier and non-identifier keys", () => {
    expect(joinPath("", "tools")).toBe("tools");
    expect(joinPath("tools", "mcp_toolset:x")).toBe('tools["mcp_toolset:x"]');
    expect(joinPath('tools["mcp_toolset:x"]', "configs")).toBe('tools["mcp_toolset:x"].configs');
  });

  it("finds the top-level field", () => {
    expect(topField('tools["x"].configs')).toBe("tools");
    expect(topField("model.effort")).toBe("model");
    expect(topField("system")).toBe("system");
  });

  it("overlaps on segment boundaries only", () => {
    expect(pathsOverlap("auth.type", "auth.type")).toBe(true);
    expect(pathsOverlap("auth.refresh", "auth.refresh.client_id")).toBe(true);
    expect(pathsOverlap("auth.refresh.client_id", "auth.refresh")).toBe(true);
    expect(pathsOverlap("auth.typeface", "auth.type")).toBe(false);
  });

  it("compares JSON deeply", () => {
    expect(jsonEqual({ a: [1, { b: null }] }, { a: [1, { b: null }] })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 1, b: undefined as unknown as null })).toBe(false);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
  });
});

/** The walk before it skipped equal keys (sorted keys at every level, a path for every key): the reference. */
function referenceWalk(path: string, before: Json | undefined, after: Json | undefined, out: FieldChange[]): void {
  const isObj = (v: Json | undefined): v is { [key: string]: Json } =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (before === after) return;
  if (isObj(before) && isObj(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    for (const key of keys) referenceWalk(joinPath(path, key), before[key], after[key], out);
    return;
  }
  if (jsonEqual(before, after)) return;
  const change: FieldChange = { path };
  if (before !== undefined) change.before = before;
  if (after !== undefined) change.after = after;
  out.push(change);
}

/** `value` with a few leaves changed, added or removed, deterministically from `next`. */
function mutate(value: unknown, next: () => number): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return next() < 0.3 ? randomValue(next, 3) : value;
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const r = next();
    if (r < 0.1) continue;
    out[key] = r < 0.5 ? mutate(item, next) : item;
  }
  if (next() < 0.2) out[`added_${Math.floor(next() * 3)}`] = randomValue(next, 2);
  return out;
}

describe("diffState's walk", () => {
  it("gives exactly the changes, in the order, of the walk that sorted every level (random states)", () => {
    const next = mulberry32(12);
    for (let i = 0; i < 3000; i++) {
      const before = { root: randomValue(next, 0), other: randomValue(next, 1) } as ComparableState;
      const after = mutate(before, next) as ComparableState;
      const expected: FieldChange[] = [];
      referenceWalk("", before as Json, after as Json, expected);
      expect(diffState(before, after).map(({ unknown: _, ...c }) => c)).toEqual(expected);
    }
  });
});
