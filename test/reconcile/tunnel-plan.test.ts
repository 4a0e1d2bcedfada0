/**
 * Plans of a kind that cannot record ownership (tunnels: no metadata, no update). Its protection and its renames
 * live in the spec only, so neither may plan a write the provider cannot make (a perpetual update that fails).
 */
import { describe, expect, it } from "vitest";
import { tunnelDisplayName, tunnelProvider } from "../../src/providers/tunnel.js";
import type { LiveResource } from "../../src/providers/types.js";
import type { LiveState } from "../../src/reconcile/observe.js";
import { buildPlan, PlanRefused } from "../../src/reconcile/plan.js";
import type { ResolvedTunnel } from "../../src/spec/types.js";

const ctx = { stack: "s", secrets: () => undefined };
const now = () => new Date("2026-11-21T00:00:00Z");

const tunnel = (more: Partial<ResolvedTunnel> = {}): ResolvedTunnel => ({
  kind: "Tunnel",
  name: "corp",
  display_name: "Corporate network",
  protect: false,
  on_prune: "archive",
  previous_names: [],
  source: { file: "tunnels/corp.yaml", line: 1, col: 1 },
  ...more,
});

/** A live tunnel of stack `s` recorded (in its display-name tag) as `name`. */
function live(name: string, displayName = "Corporate network"): LiveState {
  const object = {
    id: "tnl_011Cabc",
    type: "tunnel",
    display_name: tunnelDisplayName(displayName, "s", name),
    domain: "t1.example.net",
    created_at: "2026-01-01T00:00:00Z",
    archived_at: null,
  };
  const resource: LiveResource = {
    type: "tunnel",
    name,
    address: `tunnel.${name}`,
    id: object.id,
    state: tunnelProvider.state(object),
    metadata: tunnelProvider.metadataOf?.(object) ?? {},
    protected: false,
    deleteOnPrune: false,
    created_at: object.created_at,
    outputs: tunnelProvider.outputs?.(object) ?? {},
  };
  return {
    resources: new Map([[resource.address, resource]]),
    duplicates: [],
    adoptions: new Map(),
    adoptionErrors: new Map(),
  };
}

const plan = (spec: ResolvedTunnel, state: LiveState, prune = false) =>
  buildPlan(
    tunnelProvider.desired({ agents: [], environments: [], vaults: [], toolsets: [], tunnels: [spec] }, ctx),
    state,
    { stack: "s", target: "default", now, prune },
  );

describe("a tunnel's plan", () => {
  it("protect: true plans nothing (the live tunnel cannot record it), and still refuses a replacement", () => {
    expect(plan(tunnel({ protect: true }), live("corp")).actions).toEqual([]);
    expect(() => plan(tunnel({ protect: true, display_name: "Other" }), live("corp"))).toThrow(PlanRefused);
  });

  it("a rename through previous_names takes the live tunnel over with no write, and prunes nothing", () => {
    const renamed = plan(tunnel({ name: "corporate", previous_names: ["corp"] }), live("corp"), true);
    expect(renamed.actions).toEqual([]);
  });

  it("a display-name change is a replacement (the API has no update)", () => {
    const replaced = plan(tunnel({ display_name: "Corp" }), live("corp"));
    expect(replaced.actions.map((a) => `${a.action} ${a.address}`)).toEqual(["replace tunnel.corp"]);
  });
});
