/**
 * Duplicates: two or more live objects this stack owns that claim one address. They come from a crash between a
 * replacement's create and its archive (create-first), or from two applies that ran at once before applies took a
 * lease. Both objects carry this stack's ownership metadata, so reconcile made both and may archive the extra ones
 * without `--prune` (the address stays served by the one it keeps).
 *
 * Which one is kept, in order: the protected one (two protected claimants are refused: reconcile never archives a
 * protected resource); else the newest whose state the spec already matches; else the newest. Children of an extra
 * parent (a duplicate vault's credentials) are not candidates: archiving the parent archives them with it.
 */
import { resolveRefs } from "../providers/refs.js";
import { PROVIDERS } from "../providers/registry.js";
import type { ComparableState, DesiredResource, LiveResource } from "../providers/types.js";
import { diffState, type FieldChange, pathsOverlap, UNKNOWN } from "./diff.js";
import { type LiveState, liveOutput } from "./observe.js";

/**
 * The field changes that turn live `state` into `resource`'s desired state, leaving out fields the server fills
 * with a value of its own choosing while the spec says nothing (`DesiredResource.serverChosen`).
 */
export function specChanges(resource: DesiredResource, state: ComparableState): FieldChange[] {
  return diffState(state, resource.state, resource.sensitive).filter(
    (c) => "after" in c || !resource.serverChosen.some((path) => pathsOverlap(c.path, path)),
  );
}

/** The live state with one resource per address, and why that could not be done safely. */
export interface SettledLive {
  /** `resources` holds the kept claimant of each address; `duplicates` every other one (extras and their children). */
  live: LiveState;
  /** Addresses whose duplicates cannot be resolved without archiving a protected resource. */
  refusals: string[];
}

const newestFirst = (a: LiveResource, b: LiveResource): number =>
  b.created_at.localeCompare(a.created_at) || b.id.localeCompare(a.id);

/** True when `live` already holds `desired`'s state (a secret that cannot be read here does not count). */
function matches(desired: DesiredResource, live: LiveResource): boolean {
  return specChanges(desired, live.state).every((c) => c.sensitive && desired.missingSecrets.length > 0);
}

const TYPE_ORDER = PROVIDERS.map((p) => p.type);

/**
 * Chooses one live resource per address among every owned claimant in `live` (`resources` and `duplicates`), and
 * moves the others to `duplicates`. Pure and idempotent: settling a settled state changes nothing. Deterministic:
 * ties in `created_at` go to the larger id.
 * @param desired the declared resources (for "the one whose state the spec matches")
 */
export function settleDuplicates(desired: readonly DesiredResource[], live: LiveState): SettledLive {
  if (live.duplicates.length === 0) return { live, refusals: [] };
  const desiredBy = new Map(desired.map((d) => [d.address, d]));
  const groups = new Map<string, LiveResource[]>();
  for (const resource of [...live.resources.values(), ...live.duplicates]) {
    groups.set(resource.address, [...(groups.get(resource.address) ?? []), resource]);
  }
  const resources = new Map<string, LiveResource>();
  const duplicates: LiveResource[] = [];
  const dropped = new Set<string>();
  const refusals: string[] = [];
  // Parents before children, so a child of a dropped parent is known to be folded before its group is settled.
  const ordered = [...groups].sort(
    ([, a], [, b]) => TYPE_ORDER.indexOf((a[0] as LiveResource).type) - TYPE_ORDER.indexOf((b[0] as LiveResource).type),
  );
  for (const [address, claimants] of ordered) {
    const folded = claimants.filter((r) => r.parentId !== undefined && dropped.has(r.parentId));
    for (const child of folded) {
      dropped.add(child.id);
      duplicates.push(child);
      if (child.protected) {
        refusals.push(
          `${address} (${child.id}) is protected, but it belongs to a duplicate ${child.parentId} that this plan archives; remove the protection from ${child.id}, or archive the extra parent by hand`,
        );
      }
    }
    const candidates = claimants.filter((r) => !folded.includes(r)).sort(newestFirst);
    if (candidates.length === 0) continue;
    const guarded = candidates.filter((r) => r.protected);
    if (guarded.length > 1) {
      refusals.push(
        `${address} is claimed by ${guarded.length} protected resources (${guarded.map((r) => r.id).join(", ")}), and reconcile never archives a protected one; remove the reconcile/lifecycle: protect metadata from all but one of them (in the console or with the API), then plan again`,
      );
    }
    const declared = desiredBy.get(address);
    // References (a tunnel's domain in an agent's URL) compare as the live values they stand for.
    const wanted = declared && {
      ...declared,
      state: resolveRefs(
        declared.state,
        (a, output) => {
          const found = live.resources.get(a);
          return found ? liveOutput(found, output) : undefined;
        },
        UNKNOWN,
      ).value,
    };
    const kept =
      guarded[0] ??
      (wanted ? candidates.find((r) => matches(wanted, r)) : undefined) ??
      (candidates[0] as LiveResource);
    resources.set(address, kept);
    for (const extra of candidates) {
      if (extra === kept) continue;
      dropped.add(extra.id);
      duplicates.push(extra);
    }
  }
  return { live: { ...live, resources, duplicates }, refusals };
}
