import type {
  BetaManagedAgentsDeletedVault,
  BetaManagedAgentsVault,
} from "@anthropic-ai/sdk/resources/beta/vaults/vaults.js";
import { notFound } from "./errors.js";
import { newId } from "./ids.js";
import { parseMetadata, patchMetadata } from "./metadata.js";
import { byCreatedAt, type Page, type PageRequest, paginate, queryBool } from "./pagination.js";
import type { Workspace } from "./store.js";
import { clone, has, jsonEqual, obj, onlyKeys, required, str } from "./validate.js";

/**
 * Vaults (`/v1/vaults`): create, retrieve, update, list, archive, delete.
 * Request shapes: SDK `VaultCreateParams` / `VaultUpdateParams`; response: `BetaManagedAgentsVault`.
 * Archiving a vault archives its credentials; deleting it deletes them.
 */

type Vault = BetaManagedAgentsVault;

/**
 * The vault `id` of workspace `ws`.
 * @throws 404 `vault '<id>' not found`.
 */
export function getVault(ws: Workspace, id: string): Vault {
  const vault = ws.vaults.get(id);
  if (!vault) throw notFound(`vault '${id}' not found`);
  return vault;
}

/** Creates a vault (`POST /v1/vaults`); `display_name` 1-255 characters, `metadata` defaults to `{}`. @throws 400. */
export function createVault(ws: Workspace, body: unknown, now: string): Vault {
  const o = obj(body ?? {}, "");
  onlyKeys(o, ["display_name", "metadata"], "");
  const vault: Vault = {
    type: "vault",
    id: newId("vlt"),
    display_name: str(required(o, "display_name", ""), "display_name", { min: 1, max: 255 }),
    metadata: o.metadata === undefined ? {} : parseMetadata(o.metadata),
    created_at: now,
    updated_at: now,
    archived_at: null,
  };
  ws.vaults.set(vault.id, vault);
  return clone(vault);
}

/** Reads a vault (`GET /v1/vaults/:id`), archived or not. @throws 404. */
export function retrieveVault(ws: Workspace, id: string): Vault {
  return clone(getVault(ws, id));
}

/**
 * Updates a vault (`POST /v1/vaults/:id`): `display_name` (`null` keeps it), `metadata` per-key patch (`null` value
 * deletes the key; `metadata: null` changes nothing). A no-op leaves `updated_at` alone.
 * An archived vault is updatable: no source says otherwise (docs/adr/0020-emulator-rules-cite-sources.md).
 * @throws 404 unknown; 400 invalid field.
 */
export function updateVault(ws: Workspace, id: string, body: unknown, now: string): Vault {
  const cur = getVault(ws, id);
  const o = obj(body ?? {}, "");
  onlyKeys(o, ["display_name", "metadata"], "");
  const next = clone(cur);
  if (o.display_name !== undefined && o.display_name !== null) {
    next.display_name = str(o.display_name, "display_name", { min: 1, max: 255 });
  }
  if (has(o, "metadata") && o.metadata !== null) next.metadata = patchMetadata(cur.metadata, o.metadata, false);
  if (jsonEqual(next, cur)) return clone(cur);
  next.updated_at = now;
  ws.vaults.set(id, next);
  return clone(next);
}

/** Lists vaults (`GET /v1/vaults`), newest first; archived only with `include_archived=true`. @throws 400. */
export function listVaults(ws: Workspace, query: Record<string, unknown>, page: PageRequest): Page<Vault> {
  const includeArchived = queryBool(query, "include_archived", false);
  const items = [...ws.vaults.values()].filter((v) => includeArchived || v.archived_at === null);
  const result = paginate(items, byCreatedAt, page, "vaults");
  return { data: result.data.map(clone), next_page: result.next_page };
}

/**
 * Archives a vault (`POST /v1/vaults/:id/archive`); idempotent. Its credentials are left as they are: no source says
 * archiving cascades (docs/adr/0020-emulator-rules-cite-sources.md), so reconcile archives each credential itself.
 * @throws 404.
 */
export function archiveVault(ws: Workspace, id: string, now: string): Vault {
  const cur = getVault(ws, id);
  if (cur.archived_at === null) ws.vaults.set(id, { ...cur, archived_at: now, updated_at: now });
  return clone(getVault(ws, id));
}

/**
 * Deletes a vault and its credentials (`DELETE /v1/vaults/:id`) → `{id, type: "vault_deleted"}` (public docs,
 * "Authenticate with vaults": "To revoke access, delete the vault or credential"). @throws 404.
 */
export function deleteVault(ws: Workspace, id: string): BetaManagedAgentsDeletedVault {
  getVault(ws, id);
  ws.vaults.delete(id);
  for (const [cid, rec] of ws.credentials) {
    if (rec.credential.vault_id === id) ws.credentials.delete(cid);
  }
  return { id, type: "vault_deleted" };
}
