import { epochMicros } from "./clock.js";
import { badRequest } from "./errors.js";
import { isObj, timestamp } from "./validate.js";

/**
 * Cursor pagination as the SDK's `PageCursor` expects it: a page is `{data, next_page}`, the next request carries
 * `?page=<next_page>&limit=N`, and `next_page` is `null` on the last page.
 *
 * Cursors are keyset cursors: they hold the sort key of the last item returned (plus the list they belong to), so
 * a page never repeats or skips an item when others are created in between. They are opaque to clients.
 */

/** The largest `limit` accepted. */
export const MAX_PAGE_SIZE = 100;

/** A sort key: compared element by element. */
export type SortKey = readonly (string | number)[];

/** A page of a list response. */
export interface Page<T> {
  data: T[];
  next_page: string | null;
}

/** Parsed `limit`/`page` query parameters. */
export interface PageRequest {
  limit: number;
  page: string | null;
}

/** A single query-string value (repeated parameters are a 400). */
export function queryValue(query: Record<string, unknown>, name: string): string | undefined {
  const v = query[name];
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw badRequest(`${name}: expected a single value`);
  return v;
}

/** A boolean query parameter (`true`/`false`), `fallback` when absent. @throws 400 naming the parameter. */
export function queryBool(query: Record<string, unknown>, name: string, fallback: boolean): boolean {
  const v = queryValue(query, name);
  if (v === undefined) return fallback;
  if (v === "true") return true;
  if (v === "false") return false;
  throw badRequest(`${name}: Input should be a valid boolean`);
}

/** A `created_at[<bound>]` list filter: `gt`, `gte`, `lt`, `lte` (RFC 3339, compared to the microsecond). */
export type CreatedAtBound = "gt" | "gte" | "lt" | "lte";

/** Every `created_at` bound, in the order they are read (sessions, session events, deployment runs). */
export const ALL_CREATED_AT_BOUNDS: readonly CreatedAtBound[] = ["gt", "gte", "lt", "lte"];

/**
 * The `created_at[<bound>]` filters of a list query as a predicate on a timestamp, for the bounds the kind's SDK
 * list params name (`AgentListParams` and `MemoryStoreListParams`: `gte`, `lte`; `SessionListParams`: all four).
 * Bounds are inclusive (`gte`, `lte`) or strict (`gt`, `lt`) and compared to the microsecond; absent ones do not
 * filter; parameters of bounds not in `bounds` are ignored like any unknown query parameter.
 * @throws 400 `created_at[<bound>]: Input should be a valid RFC 3339 datetime` for a value that is not one.
 */
export function createdAtFilter(
  query: Record<string, unknown>,
  bounds: readonly CreatedAtBound[] = ALL_CREATED_AT_BOUNDS,
): (ts: string) => boolean {
  const limit: Partial<Record<CreatedAtBound, number>> = {};
  for (const bound of bounds) {
    const name = `created_at[${bound}]`;
    const v = queryValue(query, name);
    if (v !== undefined) limit[bound] = epochMicros(timestamp(v, name));
  }
  const { gt, gte, lt, lte } = limit;
  // No bound: no timestamp to parse (a list read page by page calls this for every object on every page).
  if (gt === undefined && gte === undefined && lt === undefined && lte === undefined) return () => true;
  return (ts) => {
    const t = epochMicros(ts);
    return (
      (gt === undefined || t > gt) &&
      (gte === undefined || t >= gte) &&
      (lt === undefined || t < lt) &&
      (lte === undefined || t <= lte)
    );
  };
}

/**
 * Reads `limit` (integer 1..`maxLimit`, default `defaultLimit`) and `page` from a query string.
 * @throws 400 `limit: …` when it is not an integer in range.
 */
export function parsePageRequest(
  query: Record<string, unknown>,
  defaultLimit: number,
  maxLimit = MAX_PAGE_SIZE,
): PageRequest {
  const rawLimit = queryValue(query, "limit");
  let limit = defaultLimit;
  if (rawLimit !== undefined) {
    limit = /^\d+$/.test(rawLimit) ? Number(rawLimit) : Number.NaN;
    if (!Number.isInteger(limit) || limit < 1 || limit > maxLimit) {
      throw badRequest(`limit: Input should be an integer between 1 and ${maxLimit}`);
    }
  }
  const page = queryValue(query, "page");
  return { limit, page: page === undefined || page === "" ? null : page };
}

/** Compares sort keys element by element (numbers numerically, strings by code unit): negative, 0 or positive. */
export function compareKeys(a: SortKey, b: SortKey): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

function encodeCursor(list: string, key: SortKey): string {
  return `page_${Buffer.from(JSON.stringify({ l: list, k: key })).toString("base64url")}`;
}

function decodeCursor(cursor: string, list: string, arity: number | undefined): SortKey {
  const invalid = () => badRequest("page: Invalid page cursor; pass the next_page value of a previous response");
  if (!cursor.startsWith("page_")) throw invalid();
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(cursor.slice(5), "base64url").toString("utf8"));
  } catch {
    throw invalid();
  }
  if (!isObj(raw) || raw.l !== list || !Array.isArray(raw.k) || raw.k.length === 0) throw invalid();
  if (arity !== undefined && raw.k.length !== arity) throw invalid();
  const key = raw.k as unknown[];
  if (!key.every((x) => typeof x === "string" || typeof x === "number")) throw invalid();
  return key as SortKey;
}

/**
 * One page of `items`, sorted by `keyOf` in descending order (newest first for `[created_at, id]`).
 *
 * @param list identifies the list (e.g. `"agents"`, `"versions:agent_…"`): a cursor from another list is a 400.
 * @throws 400 `page: Invalid page cursor` for a cursor this list did not issue.
 */
export function paginate<T>(items: Iterable<T>, keyOf: (item: T) => SortKey, req: PageRequest, list: string): Page<T> {
  // The cursor is checked against the keys' arity (the first item's), and checked even when the list is empty.
  let after: SortKey | undefined;
  let checked = req.page === null;
  // The `limit + 1` largest keys below the cursor, kept sorted (descending) as they are met: one pass over the list
  // per page instead of sorting it whole, so reading a list of n items page by page costs n²/limit comparisons at
  // worst, not n² log n (a workspace of 10,000 agents is 100 pages); and no copy of the list per page.
  const top: Array<{ item: T; key: SortKey }> = [];
  for (const item of items) {
    const entry = { item, key: keyOf(item) };
    if (!checked) {
      after = decodeCursor(req.page as string, list, entry.key.length);
      checked = true;
    }
    if (after !== undefined && compareKeys(entry.key, after) >= 0) continue;
    if (top.length > req.limit && compareKeys(entry.key, (top[top.length - 1] as { key: SortKey }).key) <= 0) continue;
    let low = 0;
    let high = top.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (compareKeys((top[mid] as { key: SortKey }).key, entry.key) >= 0) low = mid + 1;
      else high = mid;
    }
    top.splice(low, 0, entry);
    if (top.length > req.limit + 1) top.pop();
  }
  if (!checked) decodeCursor(req.page as string, list, undefined);
  const slice = top.slice(0, req.limit);
  const last = slice[slice.length - 1];
  const more = top.length > req.limit;
  return { data: slice.map((e) => e.item), next_page: more && last ? encodeCursor(list, last.key) : null };
}

/** The ids of one list (or one group of it) in list order, with their sort keys: `keys[i]` is `ids[i]`'s. */
export interface ListOrder {
  readonly ids: readonly string[];
  readonly keys: readonly SortKey[];
}

/**
 * One page of a list kept in order (`record-map.ts#listOrder`): the same page `paginate` gives for the same items,
 * without visiting the ones before the cursor. `include` reads the record of an id (`record`) and returns the object
 * the page holds, or undefined to leave it out (archived, filtered). An `order` of undefined is an empty list.
 *
 * Costs O(log n) to find the cursor plus the objects read until the page is full (the left-out ones included).
 * @throws 400 `page: Invalid page cursor` for a cursor `list` did not issue (checked even when the list is empty).
 */
export function paginateOrdered<R, T>(
  order: ListOrder | undefined,
  record: (id: string) => R | undefined,
  include: (record: R) => T | undefined,
  req: PageRequest,
  list: string,
): Page<T> {
  const ids = order?.ids ?? [];
  const keys = order?.keys ?? [];
  let start = 0;
  if (req.page !== null) {
    const after = decodeCursor(req.page, list, keys[0]?.length);
    // The first key below the cursor: keys are in descending order.
    let high = keys.length;
    while (start < high) {
      const mid = (start + high) >> 1;
      if (compareKeys(keys[mid] as SortKey, after) >= 0) start = mid + 1;
      else high = mid;
    }
  }
  const data: T[] = [];
  let last: SortKey | undefined;
  let more = false;
  for (let i = start; i < ids.length; i++) {
    const rec = record(ids[i] as string);
    const item = rec === undefined ? undefined : include(rec);
    if (item === undefined) continue;
    if (data.length === req.limit) {
      more = true;
      break;
    }
    data.push(item);
    last = keys[i];
  }
  return { data, next_page: more && last ? encodeCursor(list, last) : null };
}

/** The usual list order: `created_at` descending, then `id` descending. */
export function byCreatedAt(item: { created_at: string; id: string }): SortKey {
  return [item.created_at, item.id];
}
