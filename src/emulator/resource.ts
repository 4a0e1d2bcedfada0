import { type ApiError, notFound } from "./errors.js";
import { type IdPrefix, newId } from "./ids.js";
import {
  byCreatedAt,
  type CreatedAtBound,
  createdAtFilter,
  type Page,
  type PageRequest,
  paginate,
  queryBool,
} from "./pagination.js";
import type { Workspace } from "./store.js";
import { clone, jsonEqual, type Obj, obj, onlyKeys } from "./validate.js";

/**
 * The CRUD shape the Managed Agents API repeats for each kind of resource, written once: create with server-set
 * `type`, `id` and timestamps; retrieve by id (404 `<noun> '<id>' not found`, archived objects included); update as a
 * `POST` of the fields to change, where a no-op leaves `updated_at` alone; list newest first with `{data,
 * next_page}` cursor pages, archived objects only with `include_archived=true`; archive (one-way and idempotent:
 * archiving an archived object returns it unchanged); delete → `{id, type: "<type>_deleted"}`. Sources:
 * docs/api-notes.md ("Requests", "Lists") and the SDK's `resources/beta/**` types and doc comments of each kind.
 *
 * What differs between kinds stays in each kind's module and reaches this one as a `ResourceConfig`: the id prefix,
 * the `type`, the body fields it accepts, its own field validation (`build` / `apply`
 * callbacks), its response shaping (`view`), whether and how an archived object refuses updates, its own list
 * filters, and what else create, archive and delete touch (records that hold more than the API object, cascades).
 * The HTTP side of the same shape (paths, the beta each kind's routes require) is `routes.ts#resourceRoutes`.
 */

/** The fields every resource object served through `SimpleResource` has (SDK `Beta*` response types). */
export interface ResourceObject {
  id: string;
  type: string;
  created_at: string;
  /** Absent on kinds whose objects have none (tunnels). */
  updated_at?: string;
  /** Absent on kinds that cannot be archived (skills). */
  archived_at?: string | null;
}

/** The fields a kind's `build` callback supplies on create: everything but what the server sets. */
export type CreatedFields<T extends ResourceObject> = Omit<
  T,
  "type" | "id" | "created_at" | "updated_at" | "archived_at"
>;

/** The response to a delete (`BetaManagedAgentsDeletedMemoryStore`, `BetaEnvironmentDeleteResponse`, …). */
export interface Deleted<Type extends string> {
  id: string;
  type: `${Type}_deleted`;
}

/**
 * One kind, as `SimpleResource` needs it. `T` is the API object; `R` what the workspace stores per object: `T`
 * itself, or a record that holds it with more (an agent's versions, a tunnel's token digest). A kind whose `R` is not
 * `T` must give `object` and, for what it uses, `toRecord` and `archived`.
 */
export interface ResourceConfig<T extends ResourceObject, R = T> {
  /** The kind in messages: `memory store` → `memory store '<id>' not found`. */
  noun: string;
  /** The object's `type` (`memory_store`); deletes answer `<type>_deleted`. */
  type: T["type"];
  /** The prefix of new ids (`ids.ts`). */
  idPrefix: IdPrefix;
  /** The list's name inside page cursors: a cursor another list issued is a 400. */
  list: string;
  /**
   * The JSON body fields `create` and `update` accept; any other is a 400 "Extra inputs are not permitted". Absent
   * for kinds that take no JSON body (skills are uploaded as multipart), whose `create` then accepts no field.
   */
  fields?: readonly string[];
  /** False for kinds whose objects have no `updated_at` (SDK `BetaTunnel`). Default true. */
  updatedAt?: boolean;
  /** The `created_at[...]` bounds its list takes (the SDK's `<Kind>ListParams`); absent: none. */
  createdAtBounds?: readonly CreatedAtBound[];
  /** The workspace's records of this kind, by id. */
  records(ws: Workspace): Map<string, R>;
  /** The API object of a record. Default: the record itself. */
  object?(rec: R): T;
  /** The record a created object is stored as. Default: the object itself. */
  toRecord?(object: T, ws: Workspace): R;
  /** The record after archiving at `now`. Default: the object with `archived_at` and `updated_at` set to `now`. */
  archived?(rec: R, now: string): R;
  /** The object as responses show it. Default: a deep copy (responses never share structure with the store). */
  view?(object: T, now: string): T;
  /**
   * The error an update of an archived object gets, each kind citing its source (environments: the SDK's
   * `BetaEnvironmentArchivedError`). Absent: archived objects stay updatable (docs/adr/0020-emulator-rules-cite-sources.md).
   */
  archivedUpdate?(id: string): ApiError;
  /** The error for an id the workspace does not hold (skills: Anthropic's are read-only). Default: a 404. */
  missing?(id: string): ApiError;
}

/**
 * The shared create / retrieve / update / list / archive / delete of one kind (see the module comment). Each method
 * is one API call; every error is an `ApiError` the server turns into the API's error envelope.
 */
export class SimpleResource<T extends ResourceObject, R = T> {
  /** @param config what differs for this kind (see `ResourceConfig`). */
  constructor(private readonly config: ResourceConfig<T, R>) {}

  /** The API object of record `rec`. */
  object(rec: R): T {
    return this.config.object ? this.config.object(rec) : (rec as unknown as T);
  }

  /** `object` as a response shows it (the kind's `view`, else a deep copy). */
  view(object: T, now: string): T {
    return this.config.view ? this.config.view(object, now) : clone(object);
  }

  /**
   * The stored record of `id` in `ws`.
   * @throws 404 `not_found_error` `<noun> '<id>' not found` (or the kind's `missing` error).
   */
  get(ws: Workspace, id: string): R {
    const rec = this.config.records(ws).get(id);
    if (rec === undefined) throw this.config.missing?.(id) ?? notFound(`${this.config.noun} '${id}' not found`);
    return rec;
  }

  /** Reads an object (`GET /v1/<kind>/:id`), archived or not. @throws 404 (`get`). */
  retrieve(ws: Workspace, id: string, now: string): T {
    return this.view(this.object(this.get(ws, id)), now);
  }

  /**
   * Creates an object (`POST /v1/<kind>`): the body must be an object of the kind's `fields` (a missing body is
   * `{}`); `build` validates them and returns the kind's fields. The object gets `type`, a fresh `id`, `created_at`
   * (and `updated_at`) `now` and `archived_at: null`.
   * @throws 400 for a body that is not an object, an unknown field, or whatever `build` throws.
   */
  create(ws: Workspace, body: unknown, now: string, build: (o: Obj, id: string) => CreatedFields<T>): T {
    const o = obj(body ?? {}, "");
    onlyKeys(o, this.config.fields ?? [], "");
    const id = newId(this.config.idPrefix);
    const object = {
      type: this.config.type,
      id,
      ...build(o, id),
      created_at: now,
      ...(this.config.updatedAt === false ? {} : { updated_at: now }),
      archived_at: null,
    } as unknown as T;
    const record = this.config.toRecord ? this.config.toRecord(object, ws) : (object as unknown as R);
    this.config.records(ws).set(id, record);
    return this.view(object, now);
  }

  /**
   * Updates an object (`POST /v1/<kind>/:id`) whose record is the object itself: the body must be an object of the
   * kind's `fields`; `apply` validates them and writes the changes into `next` (a copy of `cur`). A request that
   * changes nothing leaves the object, `updated_at` included, as it was; otherwise `updated_at` becomes `now`.
   * @throws 404 unknown id; 400 for a bad body or an unknown field; the kind's `archivedUpdate` error for an
   * archived object; whatever `apply` throws (nothing is written then).
   */
  update(
    this: SimpleResource<T, T>,
    ws: Workspace,
    id: string,
    body: unknown,
    now: string,
    apply: (o: Obj, next: T, cur: T) => void,
  ): T {
    const cur = this.get(ws, id);
    const o = obj(body ?? {}, "");
    onlyKeys(o, this.config.fields ?? [], "");
    if (cur.archived_at != null && this.config.archivedUpdate) throw this.config.archivedUpdate(id);
    const next = clone(cur);
    apply(o, next, cur);
    if (jsonEqual(next, cur)) return this.view(cur, now);
    next.updated_at = now;
    this.config.records(ws).set(id, next);
    return this.view(next, now);
  }

  /**
   * Lists objects (`GET /v1/<kind>`), newest first (`created_at`, then `id`): archived ones only with
   * `include_archived=true`; `where` (called after `include_archived` is read, so its query errors come next) adds
   * the kind's own filters; then the kind's `created_at[...]` bounds.
   * @throws 400 for a bad `include_archived`, `created_at[...]`, `limit` or `page`, or what `where` throws.
   */
  list(
    ws: Workspace,
    query: Record<string, unknown>,
    page: PageRequest,
    now: string,
    where?: () => (object: T) => boolean,
  ): Page<T> {
    const includeArchived = queryBool(query, "include_archived", false);
    const keep = where ? where() : () => true;
    const bounds = this.config.createdAtBounds;
    const inTime = bounds ? createdAtFilter(query, bounds) : () => true;
    const items = [...this.config.records(ws).values()]
      .map((rec) => this.object(rec))
      .filter((t) => includeArchived || t.archived_at == null)
      .filter(keep)
      .filter((t) => inTime(t.created_at));
    return this.page(items, page, now);
  }

  /**
   * One page of `items` (already filtered) as the list answers it: newest first, each through `view`; cursors are
   * tagged with `list` (default the kind's list name). @throws 400 for a cursor `list` did not issue.
   */
  page(items: Iterable<T>, page: PageRequest, now: string, list = this.config.list): Page<T> {
    const result = paginate(items, byCreatedAt, page, list);
    return { data: result.data.map((t) => this.view(t, now)), next_page: result.next_page };
  }

  /**
   * Archives an object (`POST /v1/<kind>/:id/archive`): the kind's `archived` record (default: `archived_at` and
   * `updated_at` set to `now`). One-way and idempotent: an archived object is returned unchanged. @throws 404.
   */
  archive(ws: Workspace, id: string, now: string): T {
    const rec = this.get(ws, id);
    if (this.object(rec).archived_at == null) {
      const archived = this.config.archived
        ? this.config.archived(rec, now)
        : ({ ...this.object(rec), archived_at: now, updated_at: now } as unknown as R);
      this.config.records(ws).set(id, archived);
    }
    return this.retrieve(ws, id, now);
  }

  /**
   * Deletes an object (`DELETE /v1/<kind>/:id`), archived or not → `{id, type: "<type>_deleted"}`. `beforeDelete`
   * runs after the id is found and before the record goes: it may refuse (throw) or delete what depends on it.
   * @throws 404; what `beforeDelete` throws (nothing is deleted then).
   */
  delete(ws: Workspace, id: string, beforeDelete?: (rec: R) => void): Deleted<T["type"]> {
    const rec = this.get(ws, id);
    beforeDelete?.(rec);
    this.config.records(ws).delete(id);
    return { id, type: `${this.config.type}_deleted` };
  }
}
