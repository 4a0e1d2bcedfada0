/**
 * The least work each benchmark step could possibly do, so every measured figure is printed next to its floor:
 * the minimum request count, and the latency-bound time (the critical path of requests that must run one after
 * another, given the concurrency, times the per-request latency).
 */

import { LIST_PAGE_SIZE as PAGE_SIZE } from "../providers/comparable.js";
import { PROVIDERS } from "../providers/registry.js";
import { CHILD_LIST_CONCURRENCY } from "../reconcile/observe.js";

/**
 * Top-level kinds `FleetShape` does not size (none today; a kind added later): one list page each, as the benchmark
 * fleet leaves them empty.
 */
export const EMPTY_KINDS = PROVIDERS.filter(
  (p) =>
    !p.parent && !["agent", "environment", "vault", "skill", "tunnel", "memory_store", "deployment"].includes(p.type),
).length;

/** Sizes of the fleet as the bounds see them. */
export interface FleetShape {
  agents: number;
  environments: number;
  vaults: number;
  credentialsPerVault: number;
  /** Skills carrying a reconcile label: each costs one zip download after the skills list (docs/adr/0021). */
  skills?: number;
  /** Tunnels (a top-level list; absent: none, which still costs the one request of an empty list). */
  tunnels?: number;
  /** Memory stores (a top-level list; absent: none). */
  memoryStores?: number;
  /** Deployments (a top-level list; absent: none). */
  deployments?: number;
}

/** A floor: the fewest requests, and the fewest sequential request rounds (multiply by the latency for time). */
export interface Bound {
  requests: number;
  rounds: number;
}

/** Pages a list of `n` items takes (an empty list still costs one request). */
export function pages(n: number): number {
  return Math.max(1, Math.ceil(n / PAGE_SIZE));
}

/**
 * Observe of a live state shaped like `live`: every top-level kind listed once, in parallel (its pages one after
 * another), plus one credential list per vault, which can start once the vault list is read, and one zip download
 * per labelled skill (8 at a time, the provider's bound), once the skills list is read. The critical path is the
 * longest of those chains.
 */
export function observeBound(live: FleetShape, childConcurrency = CHILD_LIST_CONCURRENCY): Bound {
  const skills = live.skills ?? 0;
  const credentialPages = live.vaults * pages(live.credentialsPerVault);
  const tunnelPages = pages(live.tunnels ?? 0);
  const storePages = pages(live.memoryStores ?? 0);
  const deploymentPages = pages(live.deployments ?? 0);
  const requests =
    storePages +
    deploymentPages +
    pages(live.agents) +
    pages(live.environments) +
    pages(live.vaults) +
    tunnelPages +
    credentialPages +
    pages(skills) +
    skills +
    EMPTY_KINDS;
  const credentialRounds =
    live.vaults === 0 ? 0 : Math.ceil(live.vaults / childConcurrency) * pages(live.credentialsPerVault);
  const skillRounds = pages(skills) + Math.ceil(skills / childConcurrency);
  const rounds = Math.max(
    pages(live.agents),
    pages(live.environments),
    tunnelPages,
    storePages,
    deploymentPages,
    pages(live.vaults) + credentialRounds,
    skillRounds,
  );
  return { requests, rounds };
}

/**
 * `writes` API writes (one request each) at most `concurrency` in flight, where dependent writes form chains of
 * `depth` (a credential after its vault: 2).
 */
export function writesBound(writes: number, concurrency: number, depth: number): Bound {
  return { requests: writes, rounds: writes === 0 ? 0 : Math.max(Math.ceil(writes / concurrency), depth) };
}

/** The sum of two steps that run one after the other. */
export function sequence(a: Bound, b: Bound): Bound {
  return { requests: a.requests + b.requests, rounds: a.rounds + b.rounds };
}

/** An empty workspace, as the first apply observes it. */
export const EMPTY: FleetShape = { agents: 0, environments: 0, vaults: 0, credentialsPerVault: 0 };
