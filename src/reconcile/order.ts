/**
 * Dependency order: the order in which plan resolves references and apply starts actions, so that every resource
 * comes after the resources it depends on (a credential after its vault, a deployment after its agent, an agent
 * after the agents it calls). Ties keep the input order, so plans stay stable.
 */

/** A cycle among dependencies: `cycle` lists the keys from the first to the one that closes it (`a, b, a`). */
export class DependencyCycleError extends Error {
  constructor(readonly cycle: string[]) {
    super(`dependency cycle: ${cycle.join(" -> ")}`);
    this.name = "DependencyCycleError";
  }
}

/**
 * `items` ordered so each comes after the items it depends on (depth-first, in input order). Dependencies on keys
 * that are not among `items` are ignored (they are already in place, or not part of this run).
 * @param key the identity of an item (an address)
 * @param deps the keys an item depends on
 * @throws DependencyCycleError naming the first cycle found
 */
export function dependencyOrder<T>(
  items: readonly T[],
  key: (item: T) => string,
  deps: (item: T) => readonly string[],
): T[] {
  const byKey = new Map<string, T>();
  for (const item of items) if (!byKey.has(key(item))) byKey.set(key(item), item);
  const done = new Set<string>();
  const path: string[] = [];
  const out: T[] = [];
  const emitted = new Set<T>();
  const visit = (item: T): void => {
    const k = key(item);
    if (done.has(k)) return;
    const at = path.indexOf(k);
    if (at >= 0) throw new DependencyCycleError([...path.slice(at), k]);
    path.push(k);
    for (const dep of deps(item)) {
      const next = byKey.get(dep);
      if (next !== undefined) visit(next);
    }
    path.pop();
    done.add(k);
    out.push(item);
    emitted.add(item);
  };
  for (const item of items) {
    if (!done.has(key(item))) visit(item);
    else if (!emitted.has(item)) {
      out.push(item); // a second item with the same key keeps its place after the first
      emitted.add(item);
    }
  }
  return out;
}
