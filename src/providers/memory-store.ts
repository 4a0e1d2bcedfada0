/**
 * The `memory_store` provider: `MemoryStore` specs ↔ `/v1/memory_stores` (SDK `client.beta.memoryStores`, types
 * `MemoryStoreCreateParams`, `MemoryStoreUpdateParams`, `BetaManagedAgentsMemoryStore`). reconcile manages the
 * store itself (name, description, metadata); the memories inside are data the agents write: this provider never
 * lists, reads, compares or writes them (`client.beta.memoryStores.memories` is never called).
 *
 * Prune archives by default. An archived store still counts toward the workspace's memory store limit and cannot be
 * unarchived, so `on_prune: delete` is there for stores meant to free their place (deleting removes the memories).
 */
import type { ResolvedMemoryStore } from "../spec/types.js";
import { archiveObject, listObjects, readObject, writeObject } from "./client.js";
import { metadataUpdate, userMetadata } from "./ownership.js";
import { desiredResource } from "./resource.js";
import type { ComparableState, Provider } from "./types.js";

type Obj = Record<string, unknown>;

/**
 * Comparable form of a memory store, from create params or a `BetaManagedAgentsMemoryStore`: `description` `""`
 * (what the API returns when unset) and absent both compare as null, reserved metadata keys removed.
 */
export function memoryStoreState(store: Obj): ComparableState {
  return {
    name: String(store.name),
    description: typeof store.description === "string" && store.description !== "" ? store.description : null,
    metadata: userMetadata(store.metadata as Record<string, string> | undefined),
  };
}

/** The memory store provider (see the module comment). */
export const memoryStoreProvider: Provider = {
  type: "memory_store",
  replaceOrder: "create-first",
  replaceOn: [],
  desired(specs) {
    return (specs.memory_stores ?? []).map((spec) =>
      desiredResource({
        type: "memory_store",
        name: spec.name,
        previousNames: spec.previous_names,
        state: memoryStoreState({ name: spec.display_name, description: spec.description, metadata: spec.metadata }),
        protect: spec.protect,
        deleteOnPrune: spec.on_prune === "delete",
        source: spec.source,
        spec,
      }),
    );
  },
  list: (client, _parentId, onPage) =>
    listObjects(
      client,
      "memory_store",
      "/v1/memory_stores",
      (query, o) => client.beta.memoryStores.list(query, o),
      onPage,
    ),
  retrieve: (client, id) =>
    readObject(client, "memory_store", `GET /v1/memory_stores/${id}`, (o) =>
      client.beta.memoryStores.retrieve(id, {}, o),
    ),
  state: (object) => memoryStoreState(object),
  async create(client, desired, _ctx, ownership) {
    const spec = desired.spec as ResolvedMemoryStore;
    const store = await writeObject(client, "memory_store", "POST /v1/memory_stores", (o) =>
      client.beta.memoryStores.create(
        {
          name: spec.display_name,
          ...(spec.description !== "" ? { description: spec.description } : {}),
          metadata: { ...spec.metadata, ...ownership },
        },
        o,
      ),
    );
    return { id: store.id };
  },
  async update(client, desired, live, request) {
    const spec = desired.spec as ResolvedMemoryStore;
    const body: Obj = {};
    if (request.fields.includes("name")) body.name = spec.display_name;
    // "Pass an empty string to clear it" (SDK `MemoryStoreUpdateParams.description`).
    if (request.fields.includes("description")) body.description = spec.description;
    const metadata = metadataUpdate(spec.metadata, live.metadata, request);
    if (metadata) body.metadata = metadata;
    const store = await writeObject(client, "memory_store", `POST /v1/memory_stores/${live.id}`, (o) =>
      client.beta.memoryStores.update(live.id, body, o),
    );
    return { id: store.id };
  },
  async archive(client, live) {
    await archiveObject(client, "memory_store", `POST /v1/memory_stores/${live.id}/archive`, (o) =>
      client.beta.memoryStores.archive(live.id, {}, o),
    );
  },
  async delete(client, live) {
    await archiveObject(client, "memory_store", `DELETE /v1/memory_stores/${live.id}`, (o) =>
      client.beta.memoryStores.delete(live.id, {}, o),
    );
  },
};
