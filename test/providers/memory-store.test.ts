/**
 * The memory store provider's pure parts: comparable state (server defaults and reserved metadata never show as a
 * change), desired resources from resolved specs, and the response shape checks a hostile or foreign server meets.
 */
import { describe, expect, it } from "vitest";
import { memoryStoreProvider, memoryStoreState } from "../../src/providers/memory-store.js";
import { checkShape } from "../../src/providers/response.js";
import type { ResolvedMemoryStore } from "../../src/spec/types.js";

const live = {
  id: "memstore_011CAbcdefghijklmnopqrst",
  type: "memory_store",
  name: "Ops Notes",
  description: "",
  metadata: { team: "ops", "managed-by": "reconcile", "reconcile/stack": "s", "reconcile/name": "ops-notes" },
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
  archived_at: null,
};

function spec(overrides: Partial<ResolvedMemoryStore> = {}): ResolvedMemoryStore {
  return {
    kind: "MemoryStore",
    name: "ops-notes",
    display_name: "Ops Notes",
    description: "",
    metadata: { team: "ops" },
    protect: false,
    on_prune: "archive",
    previous_names: [],
    source: { file: "memory-stores/ops-notes.yaml", line: 1, col: 1 },
    ...overrides,
  };
}

describe("memoryStoreState", () => {
  it("treats the API's empty description like an absent one and drops reserved metadata", () => {
    expect(memoryStoreState(live)).toEqual({ name: "Ops Notes", description: null, metadata: { team: "ops" } });
    const { description: _d, ...noDescription } = live;
    expect(memoryStoreState(noDescription)).toEqual(memoryStoreState(live));
    expect(memoryStoreState({ ...live, description: "runbooks" }).description).toBe("runbooks");
  });

  it("the desired state of the matching spec equals the live state: zero changes", () => {
    const [desired] = memoryStoreProvider.desired(
      { agents: [], environments: [], vaults: [], toolsets: [], memory_stores: [spec()] },
      { stack: "s", secrets: () => undefined },
    );
    expect(desired?.address).toBe("memory_store.ops-notes");
    expect(desired?.state).toEqual(memoryStoreProvider.state(live));
    expect(desired?.deleteOnPrune).toBe(false);
  });

  it("maps display_name to the API name, on_prune: delete and previous names; no memory_stores is none", () => {
    const [desired] = memoryStoreProvider.desired(
      {
        agents: [],
        environments: [],
        vaults: [],
        toolsets: [],
        memory_stores: [spec({ display_name: "Renamed", on_prune: "delete", previous_names: ["old-notes"] })],
      },
      { stack: "s", secrets: () => undefined },
    );
    expect(desired?.state.name).toBe("Renamed");
    expect(desired?.deleteOnPrune).toBe(true);
    expect(desired?.previousAddresses).toEqual(["memory_store.old-notes"]);
    expect(
      memoryStoreProvider.desired(
        { agents: [], environments: [], vaults: [], toolsets: [] },
        { stack: "s", secrets: () => undefined },
      ),
    ).toEqual([]);
  });
});

describe("memory store response shapes", () => {
  const read = (body: unknown) => () =>
    checkShape(body, { kind: "object", type: "memory_store" }, "GET /v1/memory_stores/x");

  it("accepts a store as the SDK types it, and the delete answer as a reference", () => {
    expect(read(live)()).toBe(live);
    const deleted = { id: live.id, type: "memory_store_deleted" };
    expect(checkShape(deleted, { kind: "ref", type: "memory_store" }, "DELETE /v1/memory_stores/x")).toBe(deleted);
  });

  it("refuses a store without what state() reads, with another kind's id, or a memory instead of a store", () => {
    const { name: _n, ...noName } = live;
    expect(read(noName)).toThrow("not a memory_store: the body: must have required property 'name'");
    expect(read({ ...live, description: null })).toThrow("at /description: must be string");
    expect(read({ ...live, id: "vlt_011CAbc" })).toThrow('at /id: must match pattern "^memstore_');
    const memory = { id: "mem_011CAbc", type: "memory", path: "/a.md", created_at: "2026-01-01T00:00:00Z" };
    expect(read(memory)).toThrow("not a memory_store");
  });
});
