/**
 * The emulator's keyset pagination (`paginate`): one pass per page instead of a sort of the whole list, with the same
 * pages as sorting the list and slicing after the cursor (the reference below, the definition it replaced).
 */
import { describe, expect, it } from "vitest";
import { mulberry32 } from "../../src/emulator/faults.js";
import { type Page, type PageRequest, paginate, type SortKey } from "../../src/emulator/pagination.js";

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
