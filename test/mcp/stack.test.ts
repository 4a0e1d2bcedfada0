/**
 * The stack index (pure, with a fake observer and clock): it offers declared agents by spec name, narrowed by
 * `mcp.agents`; refreshes when stale, once for concurrent readers; keeps the last good picture when a refresh fails;
 * and re-observes on a miss against an older snapshot, so a just-applied agent is found.
 */
import { describe, expect, it } from "vitest";
import { StackIndex, snapshotOf } from "../../src/mcp/stack.js";
import type { LiveResource } from "../../src/providers/types.js";
import type { ObservedOutputs, Outputs } from "../../src/reconcile/outputs.js";

function observed(agents: Record<string, { id: string; version: number; model?: string }>): ObservedOutputs {
  const outputs: Outputs = {
    format_version: 1,
    stack: "s",
    target: "default",
    agents: Object.fromEntries(Object.entries(agents).map(([n, a]) => [n, { id: a.id, version: a.version }])),
    environments: { sandbox: { id: "env_1" } },
    vaults: { mail: { id: "vlt_1" } },
    credentials: { "mail/token": { id: "vcrd_1", vault_id: "vlt_1" } },
    memory_stores: { notes: { id: "memstore_1" } },
    pending: [],
    orphaned: [],
  };
  const resources = new Map<string, LiveResource>();
  for (const [name, a] of Object.entries(agents)) {
    resources.set(`agent.${name}`, {
      type: "agent",
      name,
      address: `agent.${name}`,
      id: a.id,
      version: a.version,
      state: { model: { id: a.model ?? "claude-sonnet-4-6" }, description: `${name} agent` },
      metadata: {},
      protected: false,
      deleteOnPrune: false,
      created_at: "2026-01-01T00:00:00Z",
    });
  }
  return { outputs, live: { resources, duplicates: [], adoptions: new Map(), adoptionErrors: new Map() } };
}

describe("snapshotOf", () => {
  it("offers agents with model and description, narrowed by the allow list", () => {
    const obs = observed({
      a: { id: "agent_a", version: 2 },
      b: { id: "agent_b", version: 1, model: "claude-haiku-4-5" },
    });
    expect(snapshotOf(obs, null, 0).agents).toEqual([
      { name: "a", id: "agent_a", version: 2, model: "claude-sonnet-4-6", description: "a agent" },
      { name: "b", id: "agent_b", version: 1, model: "claude-haiku-4-5", description: "b agent" },
    ]);
    expect(snapshotOf(obs, ["b"], 0).agents.map((a) => a.name)).toEqual(["b"]);
    expect(snapshotOf(obs, null, 0).vaults).toEqual([{ name: "mail", id: "vlt_1" }]);
  });
});

describe("StackIndex", () => {
  it("refreshes when stale, once for concurrent readers, and keeps the last good picture on failure", async () => {
    let now = 0;
    let calls = 0;
    let fail = false;
    const index = new StackIndex({
      now: () => now,
      refreshMs: 1000,
      observe: async () => {
        calls++;
        if (fail) throw new Error("API down");
        return observed({ a: { id: "agent_a", version: calls } });
      },
    });
    await Promise.all([index.current(), index.current(), index.current()]);
    expect(calls).toBe(1);
    now = 500;
    await index.current();
    expect(calls).toBe(1);
    now = 1500;
    expect((await index.current()).agents[0]?.version).toBe(2);
    fail = true;
    now = 3000;
    expect((await index.current()).agents[0]?.version).toBe(2);
    expect(calls).toBe(3);
  });

  it("fails when the first observe fails", async () => {
    const index = new StackIndex({ observe: async () => Promise.reject(new Error("no key")) });
    await expect(index.current()).rejects.toThrow("no key");
  });

  it("re-observes on a miss against a snapshot older than 5 s, not on every miss", async () => {
    let now = 0;
    let agents: Record<string, { id: string; version: number }> = { a: { id: "agent_a", version: 1 } };
    let calls = 0;
    const index = new StackIndex({
      now: () => now,
      refreshMs: 60_000,
      observe: async () => {
        calls++;
        return observed(agents);
      },
    });
    await index.current();
    agents = { ...agents, b: { id: "agent_b", version: 1 } };
    now = 1000;
    expect(await index.agent("b")).toBeUndefined();
    expect(calls).toBe(1);
    now = 6000;
    expect((await index.agent("b"))?.id).toBe("agent_b");
    expect(await index.offersAgentId("agent_b")).toBe(true);
    expect(await index.offersAgentId("agent_zzz")).toBe(false);
    expect(calls).toBe(2);
  });
});
