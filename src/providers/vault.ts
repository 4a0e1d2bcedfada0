/**
 * The `vault` provider: `Vault` specs ↔ `/v1/vaults` (SDK `client.beta.vaults`, types `VaultCreateParams`,
 * `VaultUpdateParams`, `BetaManagedAgentsVault`). The vault's credentials are the `credential` provider's.
 */
import type { ResolvedVault } from "../spec/types.js";
import { archiveObject, listObjects, readObject, writeObject } from "./client.js";
import { metadataUpdate, userMetadata } from "./ownership.js";
import { desiredResource } from "./resource.js";
import type { ComparableState, Provider } from "./types.js";

type Obj = Record<string, unknown>;

/** Comparable form of a vault, from create params or a `BetaManagedAgentsVault`. */
export function vaultState(vault: Obj): ComparableState {
  return {
    display_name: String(vault.display_name),
    metadata: userMetadata(vault.metadata as Record<string, string> | undefined),
  };
}

/** The vault provider (see the module comment). */
export const vaultProvider: Provider = {
  type: "vault",
  replaceOrder: "create-first",
  replaceOn: [],
  desired(specs) {
    return specs.vaults.map((spec) =>
      desiredResource({
        type: "vault",
        name: spec.name,
        previousNames: spec.previous_names,
        state: vaultState({ display_name: spec.display_name, metadata: spec.metadata }),
        protect: spec.protect,
        deleteOnPrune: spec.on_prune === "delete",
        source: spec.source,
        spec,
      }),
    );
  },
  list: (client, _parentId, onPage) =>
    listObjects(client, "vault", "/v1/vaults", (query, o) => client.beta.vaults.list(query, o), onPage),
  retrieve: (client, id) =>
    readObject(client, "vault", `GET /v1/vaults/${id}`, (o) => client.beta.vaults.retrieve(id, {}, o)),
  state: (object) => vaultState(object),
  async create(client, desired, _ctx, ownership) {
    const spec = desired.spec as ResolvedVault;
    const vault = await writeObject(client, "vault", "POST /v1/vaults", (o) =>
      client.beta.vaults.create({ display_name: spec.display_name, metadata: { ...spec.metadata, ...ownership } }, o),
    );
    return { id: vault.id };
  },
  async update(client, desired, live, request) {
    const spec = desired.spec as ResolvedVault;
    const body: Obj = {};
    if (request.fields.includes("display_name")) body.display_name = spec.display_name;
    const metadata = metadataUpdate(spec.metadata, live.metadata, request);
    if (metadata) body.metadata = metadata;
    const vault = await writeObject(client, "vault", `POST /v1/vaults/${live.id}`, (o) =>
      client.beta.vaults.update(live.id, body, o),
    );
    return { id: vault.id };
  },
  async archive(client, live) {
    await archiveObject(client, "vault", `POST /v1/vaults/${live.id}/archive`, (o) =>
      client.beta.vaults.archive(live.id, {}, o),
    );
  },
  async delete(client, live) {
    await archiveObject(client, "vault", `DELETE /v1/vaults/${live.id}`, (o) =>
      client.beta.vaults.delete(live.id, {}, o),
    );
  },
};
