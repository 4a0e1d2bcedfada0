import type { BetaManagedAgentsVault } from "@anthropic-ai/sdk/resources/beta/vaults/vaults.js";
import { applyMetadataPatch, createdMetadata } from "./metadata.js";
import { SimpleResource } from "./resource.js";
import type { Workspace } from "./store.js";
import { required, str } from "./validate.js";

/**
 * Vaults (`/v1/vaults`): create, retrieve, update, list, archive, delete.
 * Request shapes: SDK `VaultCreateParams` / `VaultUpdateParams`; response: `BetaManagedAgentsVault`.
 * Archiving a vault leaves its credentials as they are; deleting it deletes them.
 */

type Vault = BetaManagedAgentsVault;

function parseDisplayName(v: unknown): string {
  return str(v, "display_name", { min: 1, max: 255 });
}

/**
 * Vaults (`/v1/vaults`): `display_name` 1-255 characters (required on create, `null` keeps it on update),
 * `metadata` (`{}` by default; update: per-key patch, `null` deletes a key, `metadata: null` changes nothing).
 * - An archived vault is updatable and its credentials are left as they are: no source says otherwise
 *   (docs/adr/0020-emulator-rules-cite-sources.md), so reconcile archives each credential itself.
 * - Delete deletes the vault's credentials (public docs, "Authenticate with vaults": "To revoke access, delete the
 *   vault or credential").
 */
export const VAULTS = new SimpleResource<Vault>({
  noun: "vault",
  type: "vault",
  idPrefix: "vlt",
  collection: "vaults",
  fields: ["display_name", "metadata"],
  deletable: true,
  records: (ws) => ws.vaults,
  build: (o) => ({
    display_name: parseDisplayName(required(o, "display_name", "")),
    metadata: createdMetadata(o),
  }),
  apply: (o, next, cur) => {
    if (o.display_name !== undefined && o.display_name !== null) next.display_name = parseDisplayName(o.display_name);
    applyMetadataPatch(o, next, cur.metadata);
  },
  beforeDelete: (ws, id) => {
    for (const [cid, rec] of ws.credentials) {
      if (rec.credential.vault_id === id) ws.credentials.delete(cid);
    }
  },
});

/**
 * The vault `id` of workspace `ws`.
 * @throws 404 `vault '<id>' not found`.
 */
export function getVault(ws: Workspace, id: string): Vault {
  return VAULTS.get(ws, id);
}
