/**
 * References between resources (src/providers/refs.ts, docs/adr/0024): values known only after apply. The engine
 * plans them in dependency order, shows `(known after apply)` where an action of the same plan changes the output,
 * resolves them during apply from the outcomes of the actions already run, and plans zero changes once converged.
 * The apply half runs the agent provider against the emulator through the SDK: agent `a` carries agent `b`'s id and
 * version in its metadata, a stand-in for any kind that pins another (deployments, multiagent rosters).
 */
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { isOutputRef, outputRef, refsIn, resolveRefs } from "../../src/providers/refs.js";
import { desiredResource } from "../../src/providers/resource.js";
import { envSecrets } from "../../src/providers/secrets.js";
import type { DesiredResource, LiveResource, ProviderContext } from "../../src/providers/types.js";
import { applyPlan } from "../../src/reconcile/apply.js";
import { desiredResources } from "../../src/reconcile/desired.js";
import { UNKNOWN } from "../../src/reconcile/diff.js";
import { type LiveState, observe } from "../../src/reconcile/observe.js";
import { DependencyCycleError, dependencyOrder } from "../../src/reconcile/order.js";
import { buildPlan, type Plan, PlanRefused } from "../../src/reconcile/plan.js";
import { loadSpecs } from "../../src/reconcile/workflow.js";
import type { ResolvedAgent } from "../../src/spec/types.js";
import { copyFleet, removeDir } from "../e2e/helpers.js";

describe("refs", () => {
  it("finds and resolves references, wrapped or not, and keeps non-plain objects", () => {
    const buffer = Buffer.from("x");
    const value = {
      a: outputRef("agent.b"),
      list: [outputRef("tunnel.t", "domain", { prefix: "https://db.", suffix: "/mcp" }), 1],
      buffer,
    };
    expect(refsIn(value)).toEqual(["agent.b", "tunnel.t"]);
    expect(isOutputRef({ $ref: "agent.b" })).toBe(false);
    const known = resolveRefs(value, (address, output) => `${address}:${output}`, null);
    expect(known.unresolved).toEqual([]);
    expect(known.value.a).toBe("agent.b:id");
    expect(known.value.list[0]).toBe("https://db.tunnel.t:domain/mcp");
    expect(known.value.buffer).toBe(buffer);
    const unknown = resolveRefs(value, () => undefined, UNKNOWN);
    expect(unknown.unresolved).toEqual(["agent.b.id", "tunnel.t.domain"]);
    expect(unknown.value.list[0]).toBe(UNKNOWN);
  });

  it("copies only the way to a replaced reference, keeping key order and __proto__ keys", () => {
    const untouched = { deep: { list: [1, 2, { x: "y" }] } };
    const value = JSON.parse(
      '{"first": 1, "__proto__": {"p": true}, "ref": {"$ref": "agent.b", "output": "id"}, "last": [2]}',
    ) as Record<string, unknown>;
    value.untouched = untouched;
    const resolved = resolveRefs(value, () => "agent_1", null).value;
    expect(resolved).not.toBe(value);
    expect(Object.keys(resolved)).toEqual(["first", "__proto__", "ref", "last", "untouched"]);
    expect(Object.hasOwn(resolved, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(resolved)).toBe(Object.prototype);
    expect(resolved.ref).toBe("agent_1");
    expect(resolved.untouched).toBe(untouched);
    expect(resolved.last).toBe(value.last);
    // Nothing to replace: the very same value back, and the input is never changed.
    expect(resolveRefs(untouched, () => "x", null).value).toBe(untouched);
    expect(value.ref).toEqual({ $ref: "agent.b", output: "id" });
    const list = [untouched, { $ref: "agent.c", output: "version" }, 3];
    const resolvedList = resolveRefs(list, () => 7, null).value;
    expect(resolvedList).toEqual([untouched, 7, 3]);
    expect(resolvedList[0]).toBe(untouched);
    expect(list[1]).toEqual({ $ref: "agent.c", output: "version" });
  });

  it("adds referenced addresses to dependsOn", () => {
    const d = desiredResource({
      type: "agent",
      name: "a",
      previousNames: [],
      state: { metadata: { peer: outputRef("agent.b") } as never },
      spec: {},
      protect: false,
      dependsOn: ["environment.e"],
    });
    expect(d.dependsOn).toEqual(["environment.e", "agent.b"]);
  });
});

describe("dependencyOrder", () => {
  const items = [
    { k: "a", deps: ["b"] },
    { k: "c", deps: [] },
    { k: "b", deps: ["d", "x"] },
    { k: "d", deps: [] },
  ];
  it("puts dependencies first and keeps the input order otherwise", () => {
    expect(
      dependencyOrder(
        items,
        (i) => i.k,
        (i) => i.deps,
      ).map((i) => i.k),
    ).toEqual(["d", "b", "a", "c"]);
  });
  it("names a cycle, including a self-reference", () => {
    const cyclic = [
      { k: "a", deps: ["b"] },
      { k: "b", deps: ["a"] },
    ];
    expect(() =>
      dependencyOrder(
        cyclic,
        (i) => i.k,
        (i) => i.deps,
      ),
    ).toThrow(DependencyCycleError);
    expect(() =>
      dependencyOrder(
        cyclic,
        (i) => i.k,
        (i) => i.deps,
      ),
    ).toThrow("a -> b -> a");
    expect(() =>
      dependencyOrder(
        [{ k: "a", deps: ["a"] }],
        (i) => i.k,
        (i) => i.deps,
      ),
    ).toThrow("a -> a");
  });
});

/** Agent `name` of the fixture fleet with `metadata` entries that refer to agent `peer` (its id, and "v" + version). */
function referring(base: DesiredResource, peer: string): DesiredResource {
  const refs = {
    peer: outputRef(`agent.${peer}`),
    peer_version: outputRef(`agent.${peer}`, "version", { prefix: "v" }),
  };
  const spec = base.spec as ResolvedAgent;
  return desiredResource({
    type: "agent",
    name: base.name,
    previousNames: [],
    state: { ...base.state, metadata: { ...(base.state.metadata as object), ...refs } as never },
    spec: { ...spec, metadata: { ...spec.metadata, ...refs } },
    protect: false,
    serverChosen: base.serverChosen,
  });
}

function withDescription(base: DesiredResource, description: string): DesiredResource {
  return {
    ...base,
    state: { ...base.state, description },
    spec: { ...(base.spec as ResolvedAgent), description },
  };
}

const emptyLive = (): LiveState => ({
  resources: new Map(),
  duplicates: [],
  adoptions: new Map(),
  adoptionErrors: new Map(),
});

describe("planning references", () => {
  const b = desiredResource({
    type: "agent",
    name: "b",
    previousNames: [],
    state: { description: "b" },
    spec: {},
    protect: false,
  });
  const a = desiredResource({
    type: "agent",
    name: "a",
    previousNames: [],
    state: { description: "a", peer: outputRef("agent.b"), peer_version: outputRef("agent.b", "version") },
    spec: {},
    protect: false,
  });
  const liveOf = (d: DesiredResource, id: string, version: number, state: object): LiveResource => ({
    type: "agent",
    name: d.name,
    address: d.address,
    id,
    version,
    state: state as never,
    metadata: {},
    protected: false,
    deleteOnPrune: false,
    created_at: "2026-01-01T00:00:00Z",
  });

  it("shows what a create produces as (known after apply), planned after it", () => {
    const plan = buildPlan([a, b], emptyLive(), { stack: "s", target: "t" });
    const create = plan.actions.find((x) => x.address === "agent.a");
    expect(create?.depends_on).toEqual(["agent.b"]);
    expect(create?.changes.find((c) => c.path === "peer")).toMatchObject({ after: UNKNOWN, unknown: true });
  });

  it("resolves from the live state when nothing changes, and only the version when the target is updated", () => {
    const live = emptyLive();
    live.resources.set("agent.b", liveOf(b, "agent_b", 3, { description: "b" }));
    live.resources.set("agent.a", liveOf(a, "agent_a", 1, { description: "a", peer: "agent_b", peer_version: 3 }));
    expect(buildPlan([a, b], live, { stack: "s", target: "t" }).actions).toEqual([]);

    const changedB = { ...b, state: { description: "b2" } };
    const plan = buildPlan([a, changedB], live, { stack: "s", target: "t" });
    const update = plan.actions.find((x) => x.address === "agent.a");
    expect(update?.action).toBe("update");
    expect(update?.changes).toEqual([{ path: "peer_version", before: 3, after: UNKNOWN, unknown: true }]);
  });

  it("refuses a cycle, naming it", () => {
    const loop = { ...b, state: { description: "b", peer: outputRef("agent.a") }, dependsOn: ["agent.a"] };
    expect(() => buildPlan([a, loop], emptyLive(), { stack: "s", target: "t" })).toThrow(PlanRefused);
    expect(() => buildPlan([a, loop], emptyLive(), { stack: "s", target: "t" })).toThrow(
      "agent.a -> agent.b -> agent.a",
    );
  });
});

describe("applying references (emulator, SDK)", () => {
  let emulator: RunningEmulator;
  let dir: string;
  let client: Anthropic;
  let agents: DesiredResource[];
  // What the agents refer to besides each other: the fleet's skills (an agent names one) and tunnel corp (ops-agent's
  // toolset is behind it). Always part of the desired state below.
  let support: DesiredResource[];
  const ctx: ProviderContext = { stack: "refs", secrets: envSecrets({}) };

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0 });
    dir = await copyFleet();
    client = new Anthropic({ apiKey: "k", baseURL: emulator.url, maxRetries: 0 });
    const project = await loadSpecs(dir);
    agents = desiredResources(project.specs, ctx).filter((d) => d.type === "agent");
    support = desiredResources(project.specs, ctx).filter((d) => d.type === "skill" || d.type === "tunnel");
  });
  afterAll(async () => {
    await emulator.close();
    await removeDir(dir);
  });

  const run = async (agentsOnly: DesiredResource[]): Promise<Plan> => {
    const desired = [...agentsOnly, ...support];
    const live = await observe(client, ctx);
    const plan = buildPlan(desired, live, { stack: ctx.stack, target: "t" });
    const result = await applyPlan(client, plan, desired, live, ctx);
    expect(result.outcomes.filter((o) => o.status !== "done")).toEqual([]);
    return plan;
  };
  const replan = async (desired: DesiredResource[]) =>
    buildPlan([...desired, ...support], await observe(client, ctx), { stack: ctx.stack, target: "t" });
  const metadataOf = async (name: string) => {
    for await (const agent of client.beta.agents.list()) {
      if (agent.metadata["reconcile/name"] === name) {
        return { id: agent.id, version: agent.version, metadata: agent.metadata as Record<string, string> };
      }
    }
    throw new Error(`no agent ${name}`);
  };

  it("creates the referenced agent first, fills in its id and version, then plans zero changes", async () => {
    const [first, second, ...rest] = agents as [DesiredResource, DesiredResource, ...DesiredResource[]];
    // The referring agent comes first in the input, so only dependency order puts its peer before it.
    const desired = [referring(first, second.name), second, ...rest];
    await run(desired);
    const peer = await metadataOf(second.name);
    const caller = await metadataOf(first.name);
    expect(caller.metadata.peer).toBe(peer.id);
    expect(caller.metadata.peer_version).toBe(`v${peer.version}`);
    expect((await replan(desired)).actions).toEqual([]);
  });

  it("repoints the referring agent to the version its peer's update produces, in the same apply", async () => {
    const [first, second, ...rest] = agents as [DesiredResource, DesiredResource, ...DesiredResource[]];
    const desired = [referring(first, second.name), withDescription(second, "changed by the test"), ...rest];
    const before = await metadataOf(second.name);
    const plan = await run(desired);
    expect(plan.actions.map((a) => `${a.action} ${a.address}`)).toEqual([
      `update agent.${first.name}`,
      `update agent.${second.name}`,
    ]);
    const peer = await metadataOf(second.name);
    expect(peer.version).toBe(before.version + 1);
    expect((await metadataOf(first.name)).metadata.peer_version).toBe(`v${peer.version}`);
    expect((await replan(desired)).actions).toEqual([]);
  });
});

describe("kinds without metadata (metadataOf, recordsOwnership: false)", () => {
  // A stand-in for skills: ownership lives in the display name; nothing can be written after creation.
  const objects = [
    { id: "thing_1", display_name: "alpha [rc:s]", created_at: "2026-01-01T00:00:00Z" },
    { id: "thing_2", display_name: "console made", created_at: "2026-01-01T00:00:00Z" },
  ];
  const provider = {
    type: "agent" as const,
    replaceOn: [],
    replaceOrder: "create-first" as const,
    recordsOwnership: false,
    desired: () => [],
    list: async () => objects,
    retrieve: async (_client: unknown, id: string) => objects.find((o) => o.id === id) as never,
    state: (o: { display_name?: unknown }) => ({ title: String(o.display_name) }),
    metadataOf: (o: { display_name?: unknown }) => {
      const match = /^(.*) \[rc:(.*)\]$/.exec(String(o.display_name));
      return match
        ? { "managed-by": "reconcile", "reconcile/stack": match[2] ?? "", "reconcile/name": match[1] ?? "" }
        : undefined;
    },
    create: async () => ({ id: "x" }),
    update: async () => ({ id: "x" }),
  };
  const client = {} as Anthropic;
  const ctx: ProviderContext = { stack: "s", secrets: envSecrets({}) };

  it("reads ownership through metadataOf and treats an adopt entry as ownership", async () => {
    const live = await observe(client, ctx, {
      providers: [provider as never],
      adopt: [{ address: "agent.beta", id: "thing_2" }],
    });
    expect([...live.resources.keys()].sort()).toEqual(["agent.alpha", "agent.beta"]);
    expect(live.adoptions.size).toBe(0);
  });
});
