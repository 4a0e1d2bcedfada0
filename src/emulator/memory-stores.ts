import { createHash } from "node:crypto";
import type {
  BetaManagedAgentsMemory,
  BetaManagedAgentsMemoryView,
} from "@anthropic-ai/sdk/resources/beta/memory-stores/memories.js";
import type { BetaManagedAgentsMemoryStore } from "@anthropic-ai/sdk/resources/beta/memory-stores/memory-stores.js";
import type { BetaManagedAgentsMemoryStoreResource } from "@anthropic-ai/sdk/resources/beta/sessions/resources.js";
import { badRequest, conflict } from "./errors.js";
import { newId } from "./ids.js";
import { applyMetadataPatch, createdMetadata } from "./metadata.js";
import { byCreatedAt, type Page, type PageRequest, paginate, queryValue } from "./pagination.js";
import { SimpleResource } from "./resource.js";
import type { StoredMemory, Workspace } from "./store.js";
import { arr, at, clone, fieldError, has, obj, oneOf, onlyKeys, required, str, tag } from "./validate.js";

/**
 * Memory stores (`/v1/memory_stores`): create, retrieve, update, list, archive, delete; and a minimal set of the
 * memories inside a store (create, list), enough for tests that show reconcile never reads or touches them.
 * Request shapes: SDK `MemoryStoreCreateParams` / `MemoryStoreUpdateParams` / `MemoryStoreListParams`,
 * `MemoryCreateParams` / `MemoryListParams`; responses: `BetaManagedAgentsMemoryStore`, `BetaManagedAgentsMemory`.
 * Every route requires the `agent-memory-2026-07-22` beta, the one the SDK sends
 * (`resources/beta/memory-stores/*.js`).
 *
 * Rules, each from the SDK's doc comments:
 * - `name` 1-255 characters without control characters; names need not be unique.
 * - `description` at most 1,024 characters, `""` when unset; on update `""` clears it (and `null`, as the API's
 *   "null clears where allowed", docs/api-notes.md).
 * - `metadata` at most 16 pairs, keys 1-64 characters, values at most 512; update is a per-key patch (`null`
 *   removes a key, keys left out keep their values).
 * - Archiving can't be undone; an archived store can't be updated, attached to new sessions, or get new memories; it
 *   can still be read and deleted. `updated_at` moves on a change of name, description or metadata and on archive,
 *   never on a change of memories.
 * - Deleting removes the store and all its memories.
 * - Lists are newest first, archived stores only with `include_archived=true`, `created_at[gte]` / `[lte]` filter.
 * Not emulated: memory retrieve/update/delete, memory versions, `depth` / `path_prefix` on list.
 */

type MemoryStore = BetaManagedAgentsMemoryStore;

/** The beta the SDK sends for every memory store and memory call. */
export const MEMORY_BETA = "agent-memory-2026-07-22";

/** Control characters (C0, DEL, C1): a store name may hold none (SDK `MemoryStoreCreateParams.name`). */
const CONTROL = /\p{Cc}/u;
/** The most bytes of a memory's content (SDK `BetaManagedAgentsMemory.content`: "100 kB (102,400 bytes)"). */
const MAX_CONTENT_BYTES = 102_400;
/** The most bytes of a memory's path (SDK `BetaManagedAgentsMemory.path`). */
const MAX_PATH_BYTES = 1024;

function parseName(v: unknown): string {
  const name = str(v, "name", { min: 1, max: 255 });
  if (CONTROL.test(name)) throw fieldError("name", "must not contain control characters");
  return name;
}

function parseDescription(v: unknown): string {
  return v === null ? "" : str(v, "description", { max: 1024 });
}

/**
 * Memory stores (`/v1/memory_stores`, beta `agent-memory-2026-07-22`), with the rules of the module comment:
 * - create: `name` required; `description` defaults to `""`, `metadata` to `{}`.
 * - update: `name` (`null` keeps it), `description` (`""` or `null` clears it), `metadata` per-key patch (`null`
 *   value removes the key; `metadata: null` changes nothing); an archived store is a 400 `memory_store_archived`
 *   (SDK: "You can't … update the store").
 * - list: newest first, `created_at[gte]` / `created_at[lte]` (`MemoryStoreListParams`).
 * - delete removes the store's memories too.
 */
export const MEMORY_STORES = new SimpleResource<MemoryStore>({
  noun: "memory store",
  type: "memory_store",
  idPrefix: "memstore",
  collection: "memory_stores",
  beta: MEMORY_BETA,
  fields: ["name", "description", "metadata"],
  deletable: true,
  createdAtBounds: ["gte", "lte"],
  records: (ws) => ws.memoryStores,
  build: (o) => ({
    name: parseName(required(o, "name", "")),
    description: o.description === undefined ? "" : parseDescription(o.description),
    metadata: createdMetadata(o),
  }),
  apply: (o, next, cur) => {
    if (o.name !== undefined && o.name !== null) next.name = parseName(o.name);
    if (has(o, "description")) next.description = parseDescription(o.description);
    applyMetadataPatch(o, next, cur.metadata);
  },
  archivedUpdate: (id) => badRequest(`memory store '${id}' is archived and cannot be updated`, "memory_store_archived"),
  beforeDelete: (ws, id) => {
    for (const [mid, memory] of ws.memories) if (memory.memory_store_id === id) ws.memories.delete(mid);
  },
});

/**
 * The memory store `id` of workspace `ws`.
 * @throws 404 `memory store '<id>' not found`.
 */
export function getMemoryStore(ws: Workspace, id: string): MemoryStore {
  return MEMORY_STORES.get(ws, id);
}

function memoryView(memory: StoredMemory, view: BetaManagedAgentsMemoryView): BetaManagedAgentsMemory {
  const copy: BetaManagedAgentsMemory = clone(memory);
  if (view === "basic") copy.content = null;
  return copy;
}

function parseView(query: Record<string, unknown>, fallback: BetaManagedAgentsMemoryView): BetaManagedAgentsMemoryView {
  const v = queryValue(query, "view");
  return v === undefined ? fallback : oneOf(v, "view", ["basic", "full"] as const);
}

/**
 * Creates a memory in a store (`POST /v1/memory_stores/:id/memories`): `path` starts with `/`, at most 1,024 bytes,
 * unique in the store; `content` at most 102,400 UTF-8 bytes. Answers with `view` (query, default `full`). The
 * store's `updated_at` does not move.
 * @throws 404 unknown store; 400 archived store or invalid field; 409 path already used.
 */
export function createMemory(
  ws: Workspace,
  storeId: string,
  query: Record<string, unknown>,
  body: unknown,
  now: string,
): BetaManagedAgentsMemory {
  const store = getMemoryStore(ws, storeId);
  const view = parseView(query, "full");
  const o = obj(body ?? {}, "");
  onlyKeys(o, ["path", "content"], "");
  if (store.archived_at !== null) {
    throw badRequest(`memory store '${storeId}' is archived; its memories cannot be created or updated`);
  }
  const path = str(required(o, "path", ""), "path", { min: 1 });
  if (!path.startsWith("/")) throw fieldError("path", "must start with '/'");
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) throw fieldError("path", `must be at most ${MAX_PATH_BYTES} bytes`);
  const raw = required(o, "content", "");
  const content = raw === null ? "" : str(raw, "content");
  const size = Buffer.byteLength(content);
  if (size > MAX_CONTENT_BYTES) throw fieldError("content", `must be at most ${MAX_CONTENT_BYTES} bytes`);
  for (const m of ws.memories.values()) {
    if (m.memory_store_id === storeId && m.path === path) {
      throw conflict(`a memory already exists at this path in memory store '${storeId}' (${m.id})`);
    }
  }
  const memory: StoredMemory = {
    type: "memory",
    id: newId("mem"),
    memory_store_id: storeId,
    memory_version_id: newId("memver"),
    path,
    content,
    content_sha256: createHash("sha256").update(content, "utf8").digest("hex"),
    content_size_bytes: size,
    created_at: now,
    updated_at: now,
  };
  ws.memories.set(memory.id, memory);
  return memoryView(memory, view);
}

/**
 * Lists the memories of a store (`GET /v1/memory_stores/:id/memories`), newest first, `view` `basic` (default:
 * `content` null) or `full` (which caps `limit` at 20). @throws 404 unknown store; 400 bad query.
 */
export function listMemories(
  ws: Workspace,
  storeId: string,
  query: Record<string, unknown>,
  page: PageRequest,
): Page<BetaManagedAgentsMemory> {
  getMemoryStore(ws, storeId);
  const view = parseView(query, "basic");
  const capped = view === "full" ? { ...page, limit: Math.min(page.limit, 20) } : page;
  const items = [...ws.memories.values()].filter((m) => m.memory_store_id === storeId);
  const result = paginate(items, byCreatedAt, capped, `memories:${storeId}`);
  return { data: result.data.map((m) => memoryView(m, view)), next_page: result.next_page };
}

/**
 * The mount path of a store in a session: `/mnt/memory/` and the store's name lowercased, every run of characters
 * other than ASCII letters and digits turned into one hyphen (SDK `MemoryStoreCreateParams.name`), with hyphens at
 * the ends dropped.
 */
export function mountPathOf(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return `/mnt/memory/${slug || "store"}`;
}

/**
 * The `resources` of a session create (SDK `SessionCreateParams.resources`), as the session's resources: only
 * `memory_store` entries are emulated (`memory_store_id` of an unarchived store of this workspace, `access`
 * `read_write` (default) or `read_only`, `instructions` at most 4,096 characters); the resource snapshots the store's
 * name and description and gets its `mount_path`. A store may be attached once.
 * @throws 400 invalid entry, archived store, a store listed twice, or another resource type; 404 unknown store.
 */
export function parseSessionResources(ws: Workspace, v: unknown): BetaManagedAgentsMemoryStoreResource[] {
  const seen = new Set<string>();
  return arr(v, "resources").map((item, i) => {
    const path = at("resources", i);
    const o = obj(item, path);
    const type = tag(o, path, ["memory_store", "github_repository", "file"] as const);
    if (type !== "memory_store") {
      throw fieldError(at(path, "type"), `'${type}' resources are not supported by the emulator; omit them`);
    }
    onlyKeys(o, ["type", "memory_store_id", "access", "instructions"], path);
    const id = str(required(o, "memory_store_id", path), at(path, "memory_store_id"), { min: 1 });
    const store = getMemoryStore(ws, id);
    if (store.archived_at !== null) {
      throw badRequest(`memory store '${id}' is archived and cannot be attached to a session`);
    }
    if (seen.has(id)) throw fieldError(at(path, "memory_store_id"), `memory store '${id}' is attached twice`);
    seen.add(id);
    const access =
      o.access === undefined || o.access === null
        ? "read_write"
        : oneOf(o.access, at(path, "access"), ["read_write", "read_only"] as const);
    const instructions =
      o.instructions === undefined || o.instructions === null
        ? null
        : str(o.instructions, at(path, "instructions"), { max: 4096 });
    return {
      type: "memory_store",
      memory_store_id: id,
      access,
      instructions,
      name: store.name,
      description: store.description,
      mount_path: mountPathOf(store.name),
    };
  });
}
