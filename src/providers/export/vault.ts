/**
 * Vaults → `Vault` specs: a `BetaManagedAgentsVault` (SDK `client.beta.vaults`) with its unarchived credentials
 * becomes the spec whose `vaultState` and `credentialState`s (`providers/vault.ts`, `providers/credential.ts`) match
 * the live ones. `display_name` is written only when it differs from the spec name (its default); `metadata`
 * without reserved keys; `protect: true` for a protected vault; credentials as `credential.ts` maps them, named
 * uniquely within the vault.
 *
 * Ids: `vlt_...` exports the vault with all its credentials; `vcrd_...` (found by listing every vault's
 * credentials) or `vlt_.../vcrd_...` exports the credential inside its vault's spec, with only the credentials
 * asked for (unless the vault itself was asked for too).
 */
import type Anthropic from "@anthropic-ai/sdk";
import type { ExportContext } from "./context.js";
import { commonFields, ownerFromMetadata } from "./context.js";
import { credentialSpec, credentialWantedName } from "./credential.js";
import { claimOrder, fetchLive, nameFor } from "./fetch.js";
import { NameBook } from "./naming.js";
import { ExportError, type ExportedSpec, type LiveItem, type ResourceExporter, type SpecDocument } from "./types.js";

const listVaults = (client: Anthropic, ctx: ExportContext) => fetchLive(client, "vault", null, ctx);

const listCredentials = (client: Anthropic, vaultId: string, ctx: ExportContext) =>
  fetchLive(client, "credential", null, ctx, vaultId);

/** The vault id of a credential given as `vcrd_...` alone: found by listing every vault's credentials. */
async function findVaultOf(client: Anthropic, credentialId: string, ctx: ExportContext): Promise<string | undefined> {
  for (const vault of await listVaults(client, ctx)) {
    if ((await listCredentials(client, vault.id, ctx)).some((c) => c.id === credentialId)) return vault.id;
  }
  return undefined;
}

/** Vaults and credentials named by `ids`, grouped by vault (see module comment). */
async function fetchSelected(client: Anthropic, ids: readonly string[], ctx: ExportContext): Promise<LiveItem[]> {
  const whole = new Set<string>();
  const partial = new Map<string, Set<string>>();
  for (const id of ids) {
    if (id.startsWith("vlt_") && !id.includes("/")) {
      whole.add(id);
      continue;
    }
    let [vaultId, credentialId] = id.includes("/") ? (id.split("/", 2) as [string, string]) : [undefined, id];
    vaultId ??= await findVaultOf(client, credentialId, ctx);
    if (vaultId === undefined) {
      throw new ExportError(`no credential with id ${credentialId} in any unarchived vault of this workspace`);
    }
    partial.set(vaultId, (partial.get(vaultId) ?? new Set()).add(credentialId));
  }
  const vaults = await fetchLive(client, "vault", [...whole, ...partial.keys()], ctx);
  const items: LiveItem[] = [];
  for (const vault of vaults) {
    if (whole.has(vault.id)) {
      items.push({ object: vault, children: await listCredentials(client, vault.id, ctx) });
      continue;
    }
    const children = await fetchLive(client, "credential", [...(partial.get(vault.id) ?? [])], ctx, vault.id);
    items.push({ object: vault, children });
  }
  return items;
}

/** The spec for one live vault and the credentials fetched with it (see the module comment). */
function vaultSpec(item: LiveItem, name: string, ctx: ExportContext): ExportedSpec {
  const vault = item.object;
  const address = `vault.${name}`;
  const doc: SpecDocument = { apiVersion: "reconcile/v1", kind: "Vault", name };
  if (typeof vault.display_name === "string" && vault.display_name !== name) doc.display_name = vault.display_name;
  Object.assign(doc, commonFields(vault.metadata, true, address, ctx));
  const resources = [{ address, id: vault.id, owner: ownerFromMetadata(vault.metadata) }];
  const names = new NameBook();
  const credentials = [...item.children].sort(claimOrder).map((credential) => {
    const { entry, resource } = credentialSpec(
      credential,
      name,
      names.claim(credentialWantedName(credential).name),
      ctx,
    );
    resources.push(resource);
    return entry;
  });
  if (credentials.length > 0) {
    doc.credentials = credentials.sort((a, b) => String(a.name).localeCompare(String(b.name)));
  }
  return { document: doc, resources };
}

/** The `Vault` exporter (`vlt_` and `vcrd_` ids); credentials are exported inside their vault's spec. */
export const vaultExporter: ResourceExporter = {
  kind: "Vault",
  type: "vault",
  idPrefixes: ["vlt_", "vcrd_"],
  async fetch(client: Anthropic, ids, ctx) {
    if (ids !== null) return fetchSelected(client, ids, ctx);
    const vaults = await listVaults(client, ctx);
    return Promise.all(
      vaults.map(async (object) => ({ object, children: await listCredentials(client, object.id, ctx) })),
    );
  },
  wantedName: (item: LiveItem) => nameFor(item.object, String(item.object.display_name ?? ""), "vault"),
  toSpec: vaultSpec,
};
