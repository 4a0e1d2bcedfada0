import { type ApiError, notFound } from "./errors.js";
import { type IdPrefix, newId } from "./ids.js";
import {
  byCreatedAt,
  type CreatedAtBound,
  createdAtFilter,
  type Page,
  type PageRequest,
  paginate,
  paginateOrdered,
  queryBool,
} from "./pagination.js";
import { listOrder, type RecordMap } from "./record-map.js";
import type { Workspace } from "./store.js";
import { clone, jsonEqual, type Obj, obj, onlyKeys } from "./validate.js";

/**
 * The CRUD shape the Managed Agents API repeats for each kind of resource, written once (docs/api-notes.md
 * "Requests"; the SDK's `resources/beta/**` methods and types of each kind):
 *
 * - create `POST /v1/<collection>`: the body's fields checked by the kind; the server sets `type`, `id`,
 *   `created_at`, `updated_at` and `archived_at: null`.
 * - retrieve `GET /v1/<collection>/:id`: archived objects too; an unknown id is a 404 `<noun> '<id>' not found`.
 * - update `POST /v1/<collection>/:id` (never PATCH): omitted fields are kept; a request that changes nothing leaves
 *   the object, `updated_at` included, as it was.
 * - list `GET /v1/<collection>`: newest first, `{data, next_page}` cursor pages (`pagination.ts`), archived objects
 *   only with `include_archived=true`.
 * - archive `POST /v1/<collection>/:id/archive`: one-way and idempotent (an archived object comes back unchanged).
 * - delete `DELETE /v1/<collection>/:id` → `{id, type: "<type>_deleted"}`.
 *
 * What differs stays in each kind's module and reaches this one as a `ResourceConfig`: id prefix, `type`, beta,
 * body fields and their validation (`build`, `apply`), response shaping (`view`), which endpoints exist, how an
 * archived object answers an update, its own list filters, and what else create, archive and delete touch. The
 * routes of these endpoints are made from the resource by `routes.ts#resourceRoutes`.
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

/** The fields a kind's `build` supplies on create: everything but what the server sets. */
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
 * `T` gives `object`, and `toRecord` / `archived` for the endpoints it has; it cannot have `apply`.
 */
export interface ResourceConfig<T extends ResourceObject, R = T> {
  /** The kind in messages: `memory store` → `memory store '<id>' not found`. */
  noun: string;
  /** The object's `type` (`memory_store`); deletes answer `<type>_deleted`; the path's id parameter is `<type>_id`. */
  type: T["type"];
  /** The prefix of new ids (`ids.ts`). */
  idPrefix: IdPrefix;
  /** The path segment (`memory_stores` → `/v1/memory_stores`), also the list's name inside page cursors. */
  collection: string;
  /**
   * The `anthropic-beta` the SDK sends for this kind's calls (its methods' `'anthropic-beta': [..., '<beta>']` in
   * `resources/beta/**.js`); absent: `managed-agents-2026-04-01` (`routes.ts#MANAGED_AGENTS_BETA`).
   */
  beta?: string;
  /** The JSON body fields create and update accept; any other is a 400 "Extra inputs are not permitted". */
  fields?: readonly string[];
  /** False for kinds whose objects have no `updated_at` (SDK `BetaTunnel`). Default true. */
  updatedAt?: boolean;
  /** False for kinds that cannot be archived (skills): no archive endpoint, no `include_archived`. Default true. */
  archivable?: boolean;
  /** True for kinds with a delete endpoint. */
  deletable?: boolean;
  /** The `created_at[...]` bounds its list reads (the SDK's `<Kind>ListParams`); absent: none. */
  createdAtBounds?: readonly CreatedAtBound[];
  /** The workspace's records of this kind, by id. */
  records(ws: Workspace): RecordMap<R>;
  /** The API object of a record. Default: the record itself. */
  object?(rec: R): T;
  /** The record a created object is stored as. Default: the object itself. */
  toRecord?(object: T, ws: Workspace): R;
  /**
   * Create's validation (the create endpoint exists only with it): the kind's fields from body `o`, in the order
   * its rules are checked; `id` is the new object's. @throws 400 (or a kind's own status) for a bad field.
   */
  build?(o: Obj, id: string, ws: Workspace): CreatedFields<T>;
  /**
   * Update's validation (the update endpoint exists only with it): writes the changes body `o` asks for into `next`,
   * a copy of the stored `cur`. Omitted fields are left alone. @throws 400 (or a kind's own status) for a bad field.
   */
  apply?(o: Obj, next: T, cur: T, ws: Workspace): void;
  /**
   * The error an update of an archived object gets, the kind citing its source (environments: the SDK's
   * `BetaEnvironmentArchivedError`). Absent: archived objects stay updatable (docs/adr/0020-emulator-rules-cite-sources.md).
   */
  archivedUpdate?(id: string): ApiError;
  /** The record after archiving at `now`. Default: the object with `archived_at` and `updated_at` set to `now`. */
  archived?(rec: R, now: string): R;
  /** Runs on delete after the id is found, before the record goes: may refuse (throw) or delete what depends on it. */
  beforeDelete?(ws: Workspace, id: string, rec: R): void;
  /** The object as responses show it. Default: a deep copy (responses never share structure with the store). */
  view?(object: T, now: string): T;
  /** The error for an id the workspace does not hold (skills: Anthropic's are read-only). Default: the 404. */
  missing?(id: string): ApiError;
}

/**
 * The shared create / retrieve / update / list / archive / delete of one kind (see the module comment). Each method
 * is one API call; every error is an `ApiError`, which the server turns into the API's error envelope.
 */
export class SimpleResource<T extends ResourceObject, R = T> {
  /** The list path, `/v1/<collection>`. */
  readonly path: string;
  /** The path parameter that holds an object's id: `<type>_id`. */
  readonly param: string;
  /** The beta the kind's routes require (`ResourceConfig.beta`); undefined: the Managed Agents beta. */
  readonly beta: string | undefined;
  /** Which of the optional endpoints the kind has (retrieve and list always exist). */
  readonly has: { create: boolean; update: boolean; archive: boolean; delete: boolean };

  /**
   * @param config what differs for this kind (see `ResourceConfig`).
   * @throws Error when `apply` is given for a kind whose record is not the object (`object` given).
   */
  constructor(private readonly config: ResourceConfig<T, R>) {
    if (config.apply && config.object) throw new Error(`${config.noun}: update needs records that are the objects`);
    this.path = `/v1/${config.collection}`;
    this.param = `${config.type}_id`;
    this.beta = config.beta;
    this.has = {
      create: config.build !== undefined,
      update: config.apply !== undefined,
      archive: config.archivable !== false,
      delete: config.deletable === true,
    };
  }

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

  /** Reads an object (`GET /v1/<collection>/:id`), archived or not. @throws 404 (`get`). */
  retrieve(ws: Workspace, id: string, now: string): T {
    return this.view(this.object(this.get(ws, id)), now);
  }

  /**
   * Creates an object (`POST /v1/<collection>`): the body must be an object of the kind's `fields` (no body counts
   * as `{}`); the kind's `build` checks them. The object gets `type`, a fresh `id`, `created_at` (and `updated_at`)
   * `now` and `archived_at: null`; nothing is stored when anything throws.
   * @throws 400 for a body that is not an object or an unknown field; what `build` throws.
   */
  create(ws: Workspace, body: unknown, now: string): T {
    const build = this.config.build;
    if (!build) throw new Error(`${this.config.noun}: no create`);
    const o = obj(body ?? {}, "");
    onlyKeys(o, this.config.fields ?? [], "");
    const id = newId(this.config.idPrefix);
    const object = {
      type: this.config.type,
      id,
      ...build(o, id, ws),
      created_at: now,
      ...(this.config.updatedAt === false ? {} : { updated_at: now }),
      archived_at: null,
    } as unknown as T;
    const record = this.config.toRecord ? this.config.toRecord(object, ws) : (object as unknown as R);
    this.config.records(ws).set(id, record);
    return this.view(object, now);
  }

  /**
   * Updates an object (`POST /v1/<collection>/:id`): the body must be an object of the kind's `fields`; an archived
   * object gets the kind's `archivedUpdate` error; `apply` writes the changes into a copy. A request that changes
   * nothing leaves the object, `updated_at` included, as it was; otherwise `updated_at` becomes `now`.
   * @throws 404 unknown id; 400 for a bad body or an unknown field; the kind's `archivedUpdate` error; what `apply`
   * throws (nothing is written then).
   */
  update(ws: Workspace, id: string, body: unknown, now: string): T {
    const apply = this.config.apply;
    if (!apply) throw new Error(`${this.config.noun}: no update`);
    const cur = this.object(this.get(ws, id));
    const o = obj(body ?? {}, "");
    onlyKeys(o, this.config.fields ?? [], "");
    if (cur.archived_at != null && this.config.archivedUpdate) throw this.config.archivedUpdate(id);
    const next = clone(cur);
    apply(o, next, cur, ws);
    if (jsonEqual(next, cur)) return this.view(cur, now);
    next.updated_at = now;
    this.config.records(ws).set(id, next as unknown as R);
    return this.view(next, now);
  }

  /**
   * Lists objects (`GET /v1/<collection>`), newest first (`created_at`, then `id`): archived ones only with
   * `include_archived=true` (archivable kinds); `where` (called after `include_archived` is read, so its own query
   * errors come next) adds the kind's filters; then the kind's `created_at[...]` bounds.
   * @throws 400 for a bad `include_archived`, `created_at[...]` or `page`, or what `where` throws.
   */
  list(
    ws: Workspace,
    query: Record<string, unknown>,
    page: PageRequest,
    now: string,
    where?: () => (object: T) => boolean,
  ): Page<T> {
    const includeArchived = this.has.archive ? queryBool(query, "include_archived", false) : true;
    const keep = where ? where() : () => true;
    const bounds = this.config.createdAtBounds;
    const inTime = bounds ? createdAtFilter(query, bounds) : () => true;
    const records = this.config.records(ws);
    const list = this.config.collection;
    // Read in order from the index `listOrder` keeps, not by a scan of every record per page (record-map.ts).
    const order = listOrder(records, list, (rec) => byCreatedAt(this.object(rec))).get("");
    const result = paginateOrdered(
      order,
      (id) => records.get(id),
      (rec) => {
        const t = this.object(rec);
        return (includeArchived || t.archived_at == null) && keep(t) && inTime(t.created_at) ? t : undefined;
      },
      page,
      list,
    );
    return { data: result.data.map((t) => this.view(t, now)), next_page: result.next_page };
  }

  /**
   * One page of `items` (already filtered) as a list answers it: newest first, each through `view`; cursors are
   * tagged with `list` (default the collection). @throws 400 `page: Invalid page cursor` for a cursor `list` did not
   * issue.
   */
  page(items: Iterable<T>, page: PageRequest, now: string, list = this.config.collection): Page<T> {
    const result = paginate(items, byCreatedAt, page, list);
    return { data: result.data.map((t) => this.view(t, now)), next_page: result.next_page };
  }

  /**
   * Archives an object (`POST /v1/<collection>/:id/archive`): the kind's `archived` record (default: `archived_at`
   * and `updated_at` set to `now`). One-way and idempotent: an archived object is returned unchanged. @throws 404.
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
   * Deletes an object (`DELETE /v1/<collection>/:id`), archived or not → `{id, type: "<type>_deleted"}`, after the
   * kind's `beforeDelete`. @throws 404; what `beforeDelete` throws (nothing is deleted then).
   */
  delete(ws: Workspace, id: string): Deleted<T["type"]> {
    const rec = this.get(ws, id);
    this.config.beforeDelete?.(ws, id, rec);
    this.config.records(ws).delete(id);
    return { id, type: `${this.config.type}_deleted` };
  }
}
