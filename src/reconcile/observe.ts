/**
 * Observe: the live state this stack owns, read through the providers' list calls.
 *
 * Each top-level type is listed once (all pages, types in parallel); a child type (credentials) is listed once per
 * owned parent. Nothing is fetched one by one. Objects without this stack's ownership metadata are dropped here, so
 * no later stage can touch what is not ours (DESIGN.md, "Identity lives on the live resource").
 */
import type Anthropic from "@anthropic-ai/sdk";
import pLimit from "p-limit";
import { PROVIDERS } from "../providers/registry.js";
import type { LiveResource, Provider, ProviderContext, ResourceType } from "../providers/types.js";

/** The owned live resources by address, plus any extra objects claiming an address already taken. */
export interface LiveState {
  resources: Map<string, LiveResource>;
  /**
   * Owned objects that claim the same address as a newer one (an interrupted replace, or a create that was sent
   * twice). The newest is the resource; these are reported and left alone.
   */
  duplicates: LiveResource[];
}

/** Parallel list calls per child type (one per parent). */
const CHILD_LIST_CONCURRENCY = 8;

/**
 * Reads the live state owned by `ctx.stack`.
 * @param providers the provider table (parents listed before children)
 * @throws the SDK's `APIError` when a list call fails (after the SDK's own retries)
 */
export async function observe(
  client: Anthropic,
  ctx: ProviderContext,
  providers: readonly Provider[] = PROVIDERS,
): Promise<LiveState> {
  const byType = new Map<ResourceType, LiveResource[]>();
  const listTop = async (provider: Provider) => {
    const objects = await provider.list(client);
    byType.set(
      provider.type,
      objects.map((o) => provider.observe(o, ctx)).filter((r) => r !== null),
    );
  };
  await Promise.all(providers.filter((p) => !p.parent).map(listTop));

  const limit = pLimit(CHILD_LIST_CONCURRENCY);
  await Promise.all(
    providers
      .filter((p) => p.parent)
      .map(async (provider) => {
        const parents = byType.get(provider.parent as ResourceType) ?? [];
        const lists = await Promise.all(
          parents.map((parent) =>
            limit(async () => (await provider.list(client, parent.id)).map((o) => provider.observe(o, ctx, parent))),
          ),
        );
        byType.set(
          provider.type,
          lists.flat().filter((r) => r !== null),
        );
      }),
  );

  const resources = new Map<string, LiveResource>();
  const duplicates: LiveResource[] = [];
  const all = [...byType.values()].flat().sort((a, b) => b.created_at.localeCompare(a.created_at));
  for (const resource of all) {
    if (resources.has(resource.address)) duplicates.push(resource);
    else resources.set(resource.address, resource);
  }
  return { resources, duplicates };
}
