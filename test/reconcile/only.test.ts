/** `--only`: the selected addresses and, transitively, what they depend on; nothing else is planned. */
import { describe, expect, it } from "vitest";
import type { DesiredResource } from "../../src/providers/types.js";
import type { LiveState } from "../../src/reconcile/observe.js";
import { onlyClosure, restrictTo, UnknownOnlyAddressError } from "../../src/reconcile/only.js";

const desired = (address: string, dependsOn: string[] = []) => ({ address, dependsOn }) as unknown as DesiredResource;
const FLEET = [
  desired("environment.e"),
  desired("vault.v"),
  desired("credential.v/c", ["vault.v"]),
  desired("agent.a", ["environment.e", "credential.v/c"]),
  desired("agent.b"),
];
const live = (addresses: string[]): LiveState => ({
  resources: new Map(addresses.map((a) => [a, { address: a } as never])),
  duplicates: [],
  adoptions: new Map(),
  adoptionErrors: new Map(),
});

describe("--only", () => {
  it("selects the addresses and their transitive dependencies, never dependents", () => {
    expect([...onlyClosure(FLEET, ["agent.a"])].sort()).toEqual([
      "agent.a",
      "credential.v/c",
      "environment.e",
      "vault.v",
    ]);
    expect([...onlyClosure(FLEET, ["vault.v"])]).toEqual(["vault.v"]);
  });

  it("restricts live state too (other owned resources are neither kept nor pruned), and keeps an orphan asked for", () => {
    const result = restrictTo(FLEET, live(["agent.b", "agent.gone", "vault.v"]), ["credential.v/c", "agent.gone"]);
    expect(result.desired.map((d) => d.address)).toEqual(["vault.v", "credential.v/c"]);
    expect([...result.live.resources.keys()]).toEqual(["agent.gone", "vault.v"]);
  });

  it("refuses an address that is neither desired nor live, naming it", () => {
    expect(() => restrictTo(FLEET, live([]), ["agent.nope", "agent.b"])).toThrow(UnknownOnlyAddressError);
    expect(() => restrictTo(FLEET, live([]), ["agent.nope"])).toThrow(/--only agent\.nope: no spec/);
  });
});
