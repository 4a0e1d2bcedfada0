/**
 * Memory stores → `MemoryStore` specs: a `BetaManagedAgentsMemoryStore` (SDK `client.beta.memoryStores`) becomes the
 * spec whose params give back the same `memoryStoreState` (`providers/memory-store.ts`). The API name is kept as
 * `display_name` when it is not the spec name (a console store called "User Preferences" exports as
 * `user-preferences` with that display name, so nothing is renamed); `description` when not empty; `metadata`
 * (reserved keys removed), `protect` and `on_prune` as for every kind. The memories inside are never read.
 */
import type Anthropic from "@anthropic-ai/sdk";
import type { ApiObject } from "../types.js";
import type { ExportContext } from "./context.js";
import { commonFields, ownerFromMetadata } from "./context.js";
import { fetchLive, nameFor } from "./fetch.js";
import type { ExportedSpec, LiveItem, ResourceExporter, SpecDocument } from "./types.js";

/** The spec for one live memory store (see the module comment). */
function memoryStoreSpec(store: ApiObject, name: string, ctx: ExportContext): ExportedSpec {
  const address = `memory_store.${name}`;
  const doc: SpecDocument = { apiVersion: "reconcile/v1", kind: "MemoryStore", name };
  if (store.name !== name) doc.display_name = String(store.name);
  if (typeof store.description === "string" && store.description !== "") doc.description = store.description;
  Object.assign(doc, commonFields(store.metadata, true, address, ctx));
  return { document: doc, resources: [{ address, id: store.id, owner: ownerFromMetadata(store.metadata) }] };
}

/** The `MemoryStore` exporter (`memstore_` ids). */
export const memoryStoreExporter: ResourceExporter = {
  kind: "MemoryStore",
  type: "memory_store",
  idPrefixes: ["memstore_"],
  async fetch(client: Anthropic, ids, ctx) {
    return (await fetchLive(client, "memory_store", ids, ctx)).map((object) => ({ object, children: [] }));
  },
  wantedName: (item: LiveItem) => nameFor(item.object, String(item.object.name), "memory-store"),
  toSpec: (item, name, ctx) => memoryStoreSpec(item.object, name, ctx),
};
