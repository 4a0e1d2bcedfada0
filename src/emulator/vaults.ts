import type {
  BetaManagedAgentsDeletedVault,
  BetaManagedAgentsVault,
} from "@anthropic-ai/sdk/resources/beta/vaults/vaults.js";
import { applyMetadataPatch, createdMetadata } from "./metadata.js";
import type { Page, PageRequest } from "./pagination.js";
import { SimpleResource } from "./resource.js";
import type { Workspace } from "./store.js";
import { required, str } from "./validate.js";

/**
 * Vaults (`/v1/vaults`): create, retrieve, update, list, archive, delete.
 * Request shapes: SDK `VaultCreateParams` / `VaultUpdateParams`; response: `BetaManagedAgentsVault`.
 * Archiving a vault leaves its credentials as they are; deleting it deletes them.
 */

type Vault = BetaManagedAgentsVault;

const FIELDS = ["display_name", "metadata"] as const;

/**
 * Vaults as a `SimpleResource`: `vlt_` ids, newest first; no `created_at` bounds (`VaultListParams`). An archived
 * vault is updatable: no source says otherwise (docs/adr/0020-emulator-rules-cite-sources.md).
 */
const VAULTS = new SimpleResource<Vault>({
  noun: "vault",
  type: "vault",
  idPrefix: "vlt",
  list: "vaults",
  fields: FIELDS,
  records: (ws) => ws.vaults,
});

/**
 * The vault `id` of workspace `ws`.
 * @throws 404 `vault '<id>' not found`.
 */
export function getVault(ws: Workspace, id: string): Vault {
  return VAULTS.get(ws, id);
}

function parseDisplayName(v: unknown): string {
  return str(v, "display_name", { min: 1, max: 255 });
}

/** Creates a vault (`POST /v1/vaults`); `display_name` 1-255 characters, `metadata` defaults to `{}`. @throws 400. */
export function createVault(ws: Workspace, body: unknown, now: string): Vault {
  return VAULTS.create(ws, body, now, (o) => ({
    display_name: parseDisplayName(required(o, "display_name", "")),
    metadata: createdMetadata(o),
  }));
}

/** Reads a vault (`GET /v1/vaults/:id`), archived or not. @throws 404. */
export function retrieveVault(ws: Workspace, id: string, now: string): Vault {
  return VAULTS.retrieve(ws, id, now);
}

/**
 * Updates a vault (`POST /v1/vaults/:id`): `display_name` (`null` keeps it), `metadata` per-key patch (`null` value
 * deletes the key; `metadata: null` changes nothing). A no-op leaves `updated_at` alone.
 * An archived vault is updatable: no source says otherwise (docs/adr/0020-emulator-rules-cite-sources.md).
 * @throws 404 unknown; 400 invalid field.
 */
export function updateVault(ws: Workspace, id: string, body: unknown, now: string): Vault {
  return VAULTS.update(ws, id, body, now, (o, next, cur) => {
    if (o.display_name !== undefined && o.display_name !== null) next.display_name = parseDisplayName(o.display_name);
    applyMetadataPatch(o, next, cur.metadata);
  });
}

/** Lists vaults (`GET /v1/vaults`), newest first; archived only with `include_archived=true`. @throws 400. */
export function listVaults(ws: Workspace, query: Record<string, unknown>, page: PageRequest, now: string): Page<Vault> {
  return VAULTS.list(ws, query, page, now);
}

/**
 * Archives a vault (`POST /v1/vaults/:id/archive`); idempotent. Its credentials are left as they are: no source says
 * archiving cascades (docs/adr/0020-emulator-rules-cite-sources.md), so reconcile archives each credential itself.
 * @throws 404.
 */
export function archiveVault(ws: Workspace, id: string, now: string): Vault {
  return VAULTS.archive(ws, id, now);
}

/**
 * Deletes a vault and its credentials (`DELETE /v1/vaults/:id`) → `{id, type: "vault_deleted"}` (public docs,
 * "Authenticate with vaults": "To revoke access, delete the vault or credential"). @throws 404.
 */
export function deleteVault(ws: Workspace, id: string): BetaManagedAgentsDeletedVault {
  return VAULTS.delete(ws, id, () => {
    for (const [cid, rec] of ws.credentials) {
      if (rec.credential.vault_id === id) ws.credentials.delete(cid);
    }
  });
}
