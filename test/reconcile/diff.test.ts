import { describe, expect, it } from "vitest";
import { diffState, joinPath, jsonEqual, pathsOverlap, SENSITIVE, topField } from "../../src/reconcile/diff.js";

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
