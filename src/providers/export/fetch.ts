/**
 * Helpers the kind modules share to read live objects and name them.
 */
import Anthropic from "@anthropic-ai/sdk";
import { providerFor } from "../registry.js";
import type { ApiObject, ResourceType } from "../types.js";
import type { ExportContext } from "./context.js";
import { ownerFromMetadata } from "./context.js";
import { isSpecName, slug } from "./naming.js";
import { ExportError, type Owner } from "./types.js";

/** True for an archived object (`archived_at` set); export skips those. */
export function isArchived(object: ApiObject): boolean {
  return typeof object.archived_at === "string" && object.archived_at !== "";
}

/**
 * The live objects of `type` through its provider (the one place that knows each kind's list and retrieve calls):
 * every unarchived one when `ids` is null (the API's lists leave archived objects out), else those `ids` name, via
 * `fetchByIds`. For a child type, `parentId` names the parent.
 * @throws ExportError naming an id the API does not know
 */
export async function fetchLive(
  client: Anthropic,
  type: ResourceType,
  ids: readonly string[] | null,
  ctx: ExportContext,
  parentId?: string,
): Promise<ApiObject[]> {
  const provider = providerFor(type);
  const objects =
    ids === null
      ? await provider.list(client, parentId)
      : await fetchByIds(ids, type, (id) => provider.retrieve(client, id, parentId), ctx);
  return objects.map((object) => withOwnership(type, object));
}

/**
 * `object` with `metadata` holding the ownership keys its provider reads elsewhere (`Provider.metadataOf`: a skill's
 * label, a tunnel's display-name tag), for kinds without a metadata field; other objects unchanged. Export then reads
 * every kind's owner the same way (`ownerFromMetadata`).
 */
export function withOwnership(type: ResourceType, object: ApiObject): ApiObject {
  const provider = providerFor(type);
  if (!provider.metadataOf) return object;
  return { ...object, metadata: provider.metadataOf(object) ?? {} };
}

/**
 * The objects `ids` name, retrieved one by one with `retrieve`, in the order given, without repeats. An archived
 * object is skipped with a warning.
 * @throws ExportError naming the id when the API answers 404
 */
export async function fetchByIds(
  ids: readonly string[],
  label: string,
  retrieve: (id: string) => Promise<ApiObject>,
  ctx: ExportContext,
): Promise<ApiObject[]> {
  const out: ApiObject[] = [];
  for (const id of [...new Set(ids)]) {
    const object = await retrieveOrExplain(id, label, () => retrieve(id));
    if (isArchived(object)) ctx.warn(`${label} ${id} is archived; archived resources are not exported`);
    else out.push(object);
  }
  return out;
}

/**
 * Runs `call`, turning the API's 404 into an `ExportError` that names what was asked for.
 * @throws ExportError on 404; the SDK's error otherwise
 */
export async function retrieveOrExplain<T>(id: string, label: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof Anthropic.NotFoundError) {
      throw new ExportError(`no ${label} with id ${id} in this workspace`);
    }
    throw error;
  }
}

/**
 * The spec name a live object wants: the name its ownership metadata records (`reconcile/name`; for a credential
 * the part after `vault/`), else a slug of `apiName` (`fallback` when the slug is empty). Not yet unique.
 */
export function nameFor(object: ApiObject, apiName: string, fallback: string): { name: string; owner: Owner | null } {
  const owner = ownerFromMetadata(object.metadata);
  const recorded = owner?.name.split("/").pop();
  if (recorded !== undefined && isSpecName(recorded)) return { name: recorded, owner };
  return { name: slug(apiName, fallback), owner };
}

/**
 * The order names are handed out in: objects whose ownership metadata records a name first (they keep it), then
 * the oldest first, then by id, so that the same workspace always exports to the same names.
 */
export function claimOrder(a: ApiObject, b: ApiObject): number {
  const owned = (o: ApiObject) => (ownerFromMetadata(o.metadata) ? 0 : 1);
  const created = (o: ApiObject) => String(o.created_at ?? "");
  return owned(a) - owned(b) || created(a).localeCompare(created(b)) || a.id.localeCompare(b.id);
}
