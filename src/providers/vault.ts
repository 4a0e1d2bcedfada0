/**
 * The `vault` provider: `Vault` specs ↔ `/v1/vaults` (SDK `client.beta.vaults`, types `VaultCreateParams`,
 * `VaultUpdateParams`, `BetaManagedAgentsVault`). The vault's credentials are the `credential` provider's.
 */
import type { ResolvedVault } from "../spec/types.js";
import { listAll } from "./comparable.js";
import { metadataPatch, ownedName, ownershipMetadata, userMetadata } from "./ownership.js";
import type { ApiObject, ComparableState, DesiredResource, Provider } from "./types.js";

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
    return specs.vaults.map(
      (spec): DesiredResource => ({
        type: "vault",
        name: spec.name,
        address: `vault.${spec.name}`,
        dependsOn: [],
        state: vaultState({ display_name: spec.display_name, metadata: spec.metadata }),
        sensitive: [],
        serverChosen: [],
        missingSecrets: [],
        protect: spec.protect,
        source: spec.source,
        spec,
      }),
    );
  },
  list: (client) => listAll((q) => client.beta.vaults.list(q)),
  observe(object: ApiObject, ctx) {
    const name = ownedName(object.metadata, ctx.stack);
    if (name === null) return null;
    return {
      type: "vault",
      name,
      address: `vault.${name}`,
      id: object.id,
      state: vaultState(object),
      metadata: object.metadata ?? {},
      created_at: String(object.created_at),
    };
  },
  async create(client, desired, ctx) {
    const spec = desired.spec as ResolvedVault;
    const vault = await client.beta.vaults.create({
      display_name: spec.display_name,
      metadata: { ...spec.metadata, ...ownershipMetadata(ctx.stack, desired.name) },
    });
    return { id: vault.id };
  },
  async update(client, desired, live, fields) {
    const spec = desired.spec as ResolvedVault;
    const body: Obj = {};
    if (fields.includes("display_name")) body.display_name = spec.display_name;
    if (fields.includes("metadata")) body.metadata = metadataPatch(spec.metadata, live.metadata);
    const vault = await client.beta.vaults.update(live.id, body);
    return { id: vault.id };
  },
  async archive(client, live) {
    await client.beta.vaults.archive(live.id);
  },
};
