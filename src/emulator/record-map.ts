import { compareKeys, type ListOrder, type SortKey } from "./pagination.js";

/**
 * A workspace's records of one kind, by id (`store.ts#Workspace`): a `Map` that also counts how often its set of
 * ids changed (`idsChanged`: a new id set, an id deleted, a clear). Replacing the record of an id already there (an
 * update, an archive) does not count: list order keys (`created_at`, `id`) never change after create.
 *
 * It exists so a list can read its objects in order from an index kept between requests (`listOrder`) instead of
 * scanning and sorting every record on every page: reading a list of n objects page by page then costs
 * O(n log n) once, not n²/limit (10,000 agents are 100 pages; docs/adr/0023-speed.md).
 *
 * Construct it empty: `Map`'s constructor would set entries before the count exists (a `TypeError`).
 */
export class RecordMap<R> extends Map<string, R> {
  #idsChanged = 0;

  /** How many times an id was added or removed since construction. */
  get idsChanged(): number {
    return this.#idsChanged;
  }

  /** `Map.set`; counts a change when `id` is new (a replaced record is not one). */
  override set(id: string, record: R): this {
    if (!this.has(id)) this.#idsChanged++;
    return super.set(id, record);
  }

  /** `Map.delete`; counts a change when `id` was there. */
  override delete(id: string): boolean {
    const deleted = super.delete(id);
    if (deleted) this.#idsChanged++;
    return deleted;
  }

  /** `Map.clear`; counts a change when the map was not empty. */
  override clear(): void {
    if (this.size > 0) this.#idsChanged++;
    super.clear();
  }
}

interface CachedOrder {
  idsChanged: number;
  groups: Map<string, ListOrder>;
}

const orders = new WeakMap<RecordMap<unknown>, Map<string, CachedOrder>>();

/**
 * The records of `records` in list order, grouped by `groupOf` (the whole map is the group `""` without it): each
 * group's ids sorted by `keyOf` in descending order, the order `paginate` gives (newest first for `[created_at, id]`;
 * records with equal keys keep their insertion order, as there). Built on first use and kept until an id is added or
 * removed, under `name`, which must stand for one `keyOf` and `groupOf` (the list's cursor name is a good one).
 *
 * Both `keyOf` and `groupOf` must read only what never changes after create (ids, `created_at`, a credential's
 * `vault_id`): a replaced record does not rebuild the order.
 */
export function listOrder<R>(
  records: RecordMap<R>,
  name: string,
  keyOf: (record: R) => SortKey,
  groupOf: (record: R) => string = () => "",
): Map<string, ListOrder> {
  let byName = orders.get(records as RecordMap<unknown>);
  if (!byName) {
    byName = new Map();
    orders.set(records as RecordMap<unknown>, byName);
  }
  const cached = byName.get(name);
  if (cached && cached.idsChanged === records.idsChanged) return cached.groups;
  const entries = new Map<string, Array<{ id: string; key: SortKey }>>();
  for (const [id, record] of records) {
    const group = groupOf(record);
    let list = entries.get(group);
    if (!list) {
      list = [];
      entries.set(group, list);
    }
    list.push({ id, key: keyOf(record) });
  }
  const groups = new Map<string, ListOrder>();
  for (const [group, list] of entries) {
    list.sort((a, b) => compareKeys(b.key, a.key)); // stable: equal keys keep insertion order
    groups.set(group, { ids: list.map((e) => e.id), keys: list.map((e) => e.key) });
  }
  byName.set(name, { idsChanged: records.idsChanged, groups });
  return groups;
}
