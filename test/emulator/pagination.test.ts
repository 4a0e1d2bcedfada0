/**
 * The emulator's keyset pagination (`paginate`): one pass per page instead of a sort of the whole list, with the same
 * pages as sorting the list and slicing after the cursor (the reference below, the definition it replaced). And the
 * indexed form the CRUD lists use (`paginateOrdered` over `listOrder`): the same pages as `paginate` of the same
 * records, also when records are created, replaced and deleted between pages.
 */
import { describe, expect, it } from "vitest";
import { mulberry32 } from "../../src/emulator/faults.js";
import { type Page, type PageRequest, paginate, paginateOrdered, type SortKey } from "../../src/emulator/pagination.js";
import { listOrder, RecordMap } from "../../src/emulator/record-map.js";

interface Item {
  created_at: string;
  id: string;
}
const keyOf = (item: Item): SortKey => [item.created_at, item.id];

/** Every page, following `next_page`, with `pager`. */
function walk(items: Item[], limit: number, pager: typeof paginate): Array<Page<Item>> {
  const pages: Array<Page<Item>> = [];
  let page: string | null = null;
  do {
    const result: Page<Item> = pager(items, keyOf, { limit, page } as PageRequest, "items");
    pages.push(result);
    page = result.next_page;
  } while (page !== null && pages.length < 1000);
  return pages;
}

/** The definition `paginate` replaced: sort everything descending, slice after the cursor. */
const reference: typeof paginate = (items, key, req, list) => {
  const keyed = [...items].map((item) => ({ item, key: key(item) }));
  const compare = (a: SortKey, b: SortKey) =>
    a.join("\u0000") < b.join("\u0000") ? -1 : a.join("\u0000") > b.join("\u0000") ? 1 : 0;
  keyed.sort((a, b) => compare(b.key, a.key));
  let start = 0;
  if (req.page !== null) {
    // The cursor is the real one (decoded by `paginate` on the first call of each page), so compare by position.
    const after = JSON.parse(Buffer.from(req.page.slice(5), "base64url").toString("utf8")).k as SortKey;
    start = keyed.findIndex((e) => compare(e.key, after) < 0);
    if (start === -1) start = keyed.length;
  }
  const slice = keyed.slice(start, start + req.limit);
  const last = slice[slice.length - 1];
  const more = start + req.limit < keyed.length;
  return {
    data: slice.map((e) => e.item),
    next_page:
      more && last ? `page_${Buffer.from(JSON.stringify({ l: list, k: last.key })).toString("base64url")}` : null,
  };
};

describe("paginate", () => {
  it("gives the pages of sorting the whole list, for random lists, limits and shared timestamps", () => {
    const next = mulberry32(7);
    for (let round = 0; round < 300; round++) {
      const n = Math.floor(next() * 60);
      const items: Item[] = Array.from({ length: n }, (_, i) => ({
        // Few distinct timestamps, so ids decide many places (ties in created_at are the common case).
        created_at: `2026-11-2${Math.floor(next() * 3)}T00:00:00Z`,
        id: `agent_${String(Math.floor(next() * 1e6)).padStart(7, "0")}_${i}`,
      }));
      const limit = 1 + Math.floor(next() * 12);
      expect(walk(items, limit, paginate)).toEqual(walk(items, limit, reference));
    }
  });

  it("lists every item once across pages, newest first, with 10,000 items", () => {
    const items: Item[] = Array.from({ length: 10_000 }, (_, i) => ({
      created_at: new Date(Date.UTC(2026, 0, 1) + Math.floor(i / 3) * 1000).toISOString(),
      id: `agent_${String(i).padStart(6, "0")}`,
    }));
    const pages = walk(items, 100, paginate);
    expect(pages).toHaveLength(100);
    const ids = pages.flatMap((p) => p.data.map((d) => d.id));
    expect(new Set(ids).size).toBe(10_000);
    expect(ids[0]).toBe("agent_009999");
    expect(ids[9_999]).toBe("agent_000000");
  });
});

interface Rec extends Item {
  group: string;
  archived: boolean;
}

/** `count` records with few distinct timestamps (ties are common), random groups, about a fifth archived. */
function randomRecords(next: () => number, count: number, from = 0): Rec[] {
  return Array.from({ length: count }, (_, i) => ({
    created_at: `2026-11-2${Math.floor(next() * 3)}T00:00:00Z`,
    id: `agent_${String(Math.floor(next() * 1e6)).padStart(7, "0")}_${from + i}`,
    group: `vault_${Math.floor(next() * 3)}`,
    archived: next() < 0.2,
  }));
}

describe("paginateOrdered over listOrder", () => {
  /** One page of group `group` (or the whole map) both ways, with archived records left out. */
  function bothWays(records: RecordMap<Rec>, group: string | undefined, limit: number, page: string | null) {
    const req = { limit, page } as PageRequest;
    const list = group ?? "items";
    const order = listOrder(records, "items", keyOf, group === undefined ? undefined : (r) => r.group).get(group ?? "");
    const indexed = paginateOrdered(
      order,
      (id) => records.get(id),
      (r) => (r.archived ? undefined : r),
      req,
      list,
    );
    const scanned = paginate(
      [...records.values()].filter((r) => !r.archived && (group === undefined || r.group === group)),
      keyOf,
      req,
      list,
    );
    return { indexed, scanned };
  }

  it("gives the pages paginate gives, with records created, replaced and deleted between pages", () => {
    const next = mulberry32(11);
    for (let round = 0; round < 200; round++) {
      const records = new RecordMap<Rec>();
      let made = 0;
      const add = (n: number) => {
        for (const r of randomRecords(next, n, made)) records.set(r.id, r);
        made += n;
      };
      add(Math.floor(next() * 50));
      const group = next() < 0.5 ? undefined : `vault_${Math.floor(next() * 3)}`;
      const limit = 1 + Math.floor(next() * 10);
      let page: string | null = null;
      let pages = 0;
      do {
        const { indexed, scanned } = bothWays(records, group, limit, page);
        expect(indexed).toEqual(scanned);
        page = indexed.next_page;
        // Between pages: create, archive (a replaced record), or delete.
        const change = next();
        if (change < 0.3) add(1 + Math.floor(next() * 3));
        else if (change < 0.6 && records.size > 0) {
          const ids = [...records.keys()];
          const id = ids[Math.floor(next() * ids.length)] as string;
          records.set(id, { ...(records.get(id) as Rec), archived: !records.get(id)?.archived });
        } else if (change < 0.8 && records.size > 0) {
          const ids = [...records.keys()];
          records.delete(ids[Math.floor(next() * ids.length)] as string);
        }
      } while (page !== null && ++pages < 500);
      expect(page).toBeNull();
    }
  });

  it("keeps the order until an id is added or removed, and rebuilds it then", () => {
    const records = new RecordMap<Rec>();
    for (const r of randomRecords(mulberry32(3), 20)) records.set(r.id, r);
    const first = listOrder(records, "items", keyOf);
    expect(listOrder(records, "items", keyOf)).toBe(first);
    const [id, rec] = [...records][0] as [string, Rec];
    records.set(id, { ...rec, archived: true }); // an update: same id, same key
    expect(records.idsChanged).toBe(20);
    expect(listOrder(records, "items", keyOf)).toBe(first);
    records.set("agent_9999999_new", {
      created_at: "2026-11-29T00:00:00Z",
      id: "agent_9999999_new",
      group: "",
      archived: false,
    });
    const second = listOrder(records, "items", keyOf);
    expect(second).not.toBe(first);
    expect(second.get("")?.ids[0]).toBe("agent_9999999_new");
    records.delete("agent_9999999_new");
    records.delete("no such id"); // not a change
    expect(records.idsChanged).toBe(22);
    expect(listOrder(records, "items", keyOf).get("")?.ids).toEqual(first.get("")?.ids);
    records.clear();
    expect(listOrder(records, "items", keyOf).size).toBe(0);
  });

  it("refuses a cursor of another list, also when the list is empty", () => {
    const records = new RecordMap<Rec>();
    for (const r of randomRecords(mulberry32(5), 5)) records.set(r.id, r);
    const { indexed } = bothWays(records, undefined, 2, null);
    const cursor = indexed.next_page as string;
    const other = (order: ReturnType<typeof listOrder>) => () =>
      paginateOrdered(
        order.get(""),
        (id) => records.get(id),
        (r) => r,
        { limit: 2, page: cursor },
        "other",
      );
    expect(other(listOrder(records, "items", keyOf))).toThrow(/Invalid page cursor/);
    expect(other(new Map())).toThrow(/Invalid page cursor/);
    expect(() =>
      paginateOrdered(
        undefined,
        () => undefined,
        (r) => r,
        { limit: 2, page: "page_garbage" },
        "items",
      ),
    ).toThrow(/Invalid page cursor/);
  });
});
