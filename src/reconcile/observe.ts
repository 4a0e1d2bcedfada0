/**
 * Observe: the live state this stack owns, read through the providers' list calls, plus the objects that
 * `adopt:` entries name.
 *
 * Each top-level type is listed once (all pages, types in parallel); a child type (credentials) is listed once per
 * owned parent. Nothing is fetched one by one, except the objects named by `adopt:` entries that the stack does
 * not own yet. Objects without this stack's ownership metadata are dropped here, so no later stage can touch what
 * is not ours (DESIGN.md, "Identity lives on the live resource").
 *
 * Every read goes through the providers' request layer (`src/providers/client.ts`): each list page and each
 * retrieve is retried on transient faults with the same policy as apply's writes (`src/providers/retry.ts`), timed
 * out, and checked for the API's shape, so a fault on one page neither restarts the list nor fails the plan, and a
 * server that is not the API never reads as an empty workspace (ADR 11).
 */
import type Anthropic from "@anthropic-ai/sdk";
import pLimit from "p-limit";
import { isLockAgent } from "../providers/lock.js";
import { APPLIED_KEY, ownerOf, parseAppliedStamp } from "../providers/ownership.js";
import { PROVIDERS } from "../providers/registry.js";
import { addressOf } from "../providers/resource.js";
import type { ApiObject, Json, LiveResource, Provider, ProviderContext, ResourceType } from "../providers/types.js";

/** An `adopt:` entry as observe needs it. */
export interface AdoptRequest {
  address: string;
  id: string;
}

/** The owned live resources by address, plus what `adopt:` entries found. */
export interface LiveState {
  resources: Map<string, LiveResource>;
  /**
   * Owned objects that claim the same address as a newer one (an interrupted replace, or a create that was sent
   * twice), and the children listed under them. Observe puts the newest in `resources`; `settleDuplicates` chooses
   * the one to keep, and the plan archives the others.
   */
  duplicates: LiveResource[];
  /** Objects named by `adopt:` entries, not owned by any stack yet, by the address they will take. */
  adoptions: Map<string, LiveResource>;
  /** Why an `adopt:` entry cannot be honoured (not found, archived, owned by another stack), by address. */
  adoptionErrors: Map<string, string>;
}

/** Parallel list calls per child type (one per parent). The benchmark's latency bound uses it too. */
export const CHILD_LIST_CONCURRENCY = 8;

/** The `LiveResource` for `object` as `type.name`; `parentId` for children. */
export function liveResource(
  provider: Provider,
  object: ApiObject,
  name: string,
  parentId: string | undefined,
): LiveResource {
  const metadata = metadataOf(provider, object);
  const owner = ownerOf(metadata);
  const applied = parseAppliedStamp(metadata?.[APPLIED_KEY]);
  const outputs = provider.outputs?.(object);
  return {
    type: provider.type,
    name,
    address: addressOf(provider.type, name),
    id: object.id,
    ...(parentId ? { parentId } : {}),
    ...(typeof object.version === "number" ? { version: object.version } : {}),
    state: provider.state(object),
    metadata: metadata ?? {},
    protected: owner?.lifecycle === "protect",
    deleteOnPrune: owner?.lifecycle === "delete",
    created_at: String(object.created_at),
    ...(typeof object.updated_at === "string" ? { updated_at: object.updated_at } : {}),
    ...(applied ? { applied } : {}),
    ...(outputs ? { outputs } : {}),
  };
}

/**
 * The value of `output` (`id`, `version`, or a provider output) of a live resource, if it
 * has one: what an `OutputRef` to it reads (src/providers/refs.ts).
 */
export function liveOutput(live: LiveResource, output: string): Json | undefined {
  if (output === "id") return live.id;
  if (output === "version") return live.version;
  return live.outputs?.[output];
}

/** The metadata ownership is read from: the provider's view (`Provider.metadataOf`, for kinds without metadata) or the object's. */
export function metadataOf(provider: Provider, object: ApiObject): Record<string, string> | undefined {
  return provider.metadataOf ? provider.metadataOf(object) : object.metadata;
}

function owned(provider: Provider, objects: readonly ApiObject[], stack: string, parentId?: string): LiveResource[] {
  const out: LiveResource[] = [];
  for (const object of objects) {
    const owner = ownerOf(metadataOf(provider, object));
    if (owner?.stack === stack) out.push(liveResource(provider, object, owner.name, parentId));
  }
  return out;
}

/**
 * `owned` of every object `provider.list` lists, worked out page by page as the pages arrive (while the next one
 * is in flight), and all at once for the objects a provider returns instead of handing them to `onPage`.
 */
async function listOwned(
  client: Anthropic,
  provider: Provider,
  stack: string,
  parentId?: string,
): Promise<LiveResource[]> {
  const early: LiveResource[] = [];
  const rest = await provider.list(client, parentId, (page) => {
    for (const resource of owned(provider, page, stack, parentId)) early.push(resource);
  });
  if (rest.length > 0) for (const resource of owned(provider, rest, stack, parentId)) early.push(resource);
  return early;
}

/** The provider of the type an address names, or undefined for an address no provider has. */
function providerOfAddress(address: string, providers: readonly Provider[]): Provider | undefined {
  return providers.find((p) => address.startsWith(`${p.type}.`));
}

async function adopt(
  client: Anthropic,
  request: AdoptRequest,
  providers: readonly Provider[],
  ctx: ProviderContext,
  found: Map<string, LiveResource>,
): Promise<LiveResource | string> {
  const provider = providerOfAddress(request.address, providers);
  if (!provider) return `${request.address} is not an address reconcile manages`;
  const name = request.address.slice(provider.type.length + 1);
  let parentId: string | undefined;
  if (provider.parent) {
    const parentAddress = addressOf(provider.parent, name.split("/")[0] ?? "");
    parentId = found.get(parentAddress)?.id;
    if (!parentId) return `its parent ${parentAddress} is neither owned by stack ${ctx.stack} nor adopted`;
  }
  let object: ApiObject;
  try {
    object = await provider.retrieve(client, request.id, parentId);
  } catch (error) {
    if ((error as { status?: number }).status === 404)
      return `${request.id} does not exist (or is not visible to this key)`;
    throw error;
  }
  if (object.archived_at) return `${request.id} is archived, and archived resources cannot be changed`;
  if (isLockAgent(object.metadata))
    return `${request.id} is reconcile's apply lock, not a resource; it cannot be adopted`;
  const owner = ownerOf(metadataOf(provider, object));
  if (owner && owner.stack !== ctx.stack) {
    return `${request.id} belongs to stack "${owner.stack}" (as ${owner.name}); remove it there first, or leave it alone`;
  }
  if (owner && owner.name !== name) {
    return `${request.id} is already managed by this stack as ${addressOf(provider.type, owner.name)}; to rename it, list the old name under previous_names instead`;
  }
  return liveResource(provider, object, name, parentId);
}

/**
 * Reads the live state owned by `ctx.stack`, and the objects `adopt` names.
 * @param providers the provider table (parents listed before children)
 * @throws the SDK's `APIError` when a list call fails (after the retries of `src/providers/retry.ts`), or the request
 *   layer's `RequestTimeoutError`, `RequestConnectionError`, `UnexpectedResponseError` or `PaginationError`
 */
export async function observe(
  client: Anthropic,
  ctx: ProviderContext,
  options: { adopt?: readonly AdoptRequest[]; providers?: readonly Provider[] } = {},
): Promise<LiveState> {
  const providers = options.providers ?? PROVIDERS;
  const byType = new Map<ResourceType, LiveResource[]>();
  const limit = pLimit(CHILD_LIST_CONCURRENCY);
  // Each type starts as soon as its parent type is listed (credentials do not wait for the agent pages).
  const listed = new Map<ResourceType, Promise<LiveResource[]>>();
  for (const provider of providers) {
    const parentList = provider.parent ? listed.get(provider.parent) : undefined;
    const promise = parentList
      ? parentList.then(async (parents) =>
          (
            await Promise.all(parents.map((parent) => limit(() => listOwned(client, provider, ctx.stack, parent.id))))
          ).flat(),
        )
      : listOwned(client, provider, ctx.stack);
    listed.set(provider.type, promise);
  }
  await Promise.all([...listed].map(async ([type, promise]) => byType.set(type, await promise)));

  const resources = new Map<string, LiveResource>();
  const duplicates: LiveResource[] = [];
  const all = [...byType.values()].flat().sort((a, b) => b.created_at.localeCompare(a.created_at));
  for (const resource of all) {
    if (resources.has(resource.address)) duplicates.push(resource);
    else resources.set(resource.address, resource);
  }

  const adoptions = new Map<string, LiveResource>();
  const adoptionErrors = new Map<string, string>();
  const found = new Map(resources);
  // Parents before children, so an adopted vault's credentials can be adopted in the same run.
  const requests = [...(options.adopt ?? [])].sort(
    (a, b) =>
      providers.indexOf(providerOfAddress(a.address, providers) as Provider) -
      providers.indexOf(providerOfAddress(b.address, providers) as Provider),
  );
  for (const request of requests) {
    const current = resources.get(request.address);
    if (current) continue; // already ours: the entry is a no-op (the plan warns if it names another id)
    const result = await adopt(client, request, providers, ctx, found);
    if (typeof result === "string") adoptionErrors.set(request.address, result);
    else if (providerOfAddress(request.address, providers)?.recordsOwnership === false) {
      // The kind cannot record ownership (docs/adr/0024): the entry itself is the record, for as long as it stays.
      resources.set(request.address, result);
      found.set(request.address, result);
    } else {
      adoptions.set(request.address, result);
      found.set(request.address, result);
    }
  }
  return { resources, duplicates, adoptions, adoptionErrors };
}
