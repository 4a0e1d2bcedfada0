/**
 * Resource targeting (`--only ADDRESS`, repeatable): Terraform's `-target`. A partial plan covers the named
 * addresses and everything they depend on (a credential's vault, an agent's environment...), and nothing else: other
 * specs are not compared, other owned resources are neither kept nor pruned. The plan says so in a warning, and
 * records the addresses in `options.only`, so `apply FILE` rebuilds exactly the same partial plan.
 */
import { PROVIDERS } from "../providers/registry.js";
import type { DesiredResource } from "../providers/types.js";
import type { LiveState } from "./observe.js";

/** Thrown when an `--only` address names neither a spec nor a live resource of the stack. */
export class UnknownOnlyAddressError extends Error {
  constructor(addresses: string[]) {
    super(
      `--only ${addresses.join(", ")}: no spec and no live resource of this stack has ${addresses.length === 1 ? "this address" : "these addresses"}; addresses look like ${PROVIDERS.map((p) => `${p.type}.NAME`).join(", ")} (a credential is credential.VAULT/NAME; see \`reconcile plan\`)`,
    );
    this.name = "UnknownOnlyAddressError";
  }
}

/**
 * The addresses `only` selects: each of them and, transitively, every address a selected desired resource depends
 * on (`dependsOn`). An address with no spec (an owned resource whose spec was removed) is kept as is, so it can be
 * pruned alone.
 */
export function onlyClosure(desired: readonly DesiredResource[], only: readonly string[]): Set<string> {
  const byAddress = new Map(desired.map((d) => [d.address, d]));
  const selected = new Set<string>();
  const pending = [...only];
  for (let address = pending.pop(); address !== undefined; address = pending.pop()) {
    if (selected.has(address)) continue;
    selected.add(address);
    pending.push(...(byAddress.get(address)?.dependsOn ?? []));
  }
  return selected;
}

/**
 * Restricts desired and live state to `selected` (from `onlyClosure`).
 * @throws UnknownOnlyAddressError when an address of `only` is neither desired nor live nor to be adopted
 */
export function restrictTo(
  desired: readonly DesiredResource[],
  live: LiveState,
  only: readonly string[],
): { desired: DesiredResource[]; live: LiveState; selected: Set<string> } {
  const unknown = only.filter(
    (a) => !desired.some((d) => d.address === a) && !live.resources.has(a) && !live.adoptions.has(a),
  );
  if (unknown.length > 0) throw new UnknownOnlyAddressError(unknown);
  const selected = onlyClosure(desired, only);
  const keep = <V>(map: Map<string, V>) => new Map([...map].filter(([address]) => selected.has(address)));
  return {
    desired: desired.filter((d) => selected.has(d.address)),
    live: {
      resources: keep(live.resources),
      duplicates: live.duplicates.filter((d) => selected.has(d.address)),
      adoptions: keep(live.adoptions),
      adoptionErrors: keep(live.adoptionErrors),
    },
    selected,
  };
}

/** The warning every partial plan carries. */
export function partialPlanWarning(only: readonly string[], selected: ReadonlySet<string>): string {
  const extra = selected.size - new Set(only).size;
  return `this plan is partial (--only ${only.join(" --only ")}${extra > 0 ? `, with ${extra} dependenc${extra === 1 ? "y" : "ies"}` : ""}): resources outside it were not compared and are neither changed nor pruned; run a full plan to see everything`;
}
