/**
 * The desired state as resources: every provider's `desired` over the resolved specs, in provider table order.
 */
import { PROVIDERS } from "../providers/registry.js";
import type { DesiredResource, Provider, ProviderContext } from "../providers/types.js";
import { timeSlices } from "../spec/slices.js";
import type { DesiredSpecs } from "../spec/types.js";

/** All resources `specs` declare, parents before children. */
export function desiredResources(
  specs: DesiredSpecs,
  ctx: ProviderContext,
  providers: readonly Provider[] = PROVIDERS,
): DesiredResource[] {
  return providers.flatMap((provider) => provider.desired(specs, ctx));
}

/** Items of a provider's own list (`Provider.desiredPerItemOf`) mapped per call by `desiredResourcesInSlices`. */
const SLICE_ITEMS = 64;

/**
 * `desiredResources`, the same resources in the same order, computed in parts with the event loop turning in
 * between (`timeSlices`): `plan` builds the desired state while the observe's pages arrive, and 10,000 agents at once
 * held the thread for about 400 ms, during which no page was asked for (issue 10 item 6). A provider whose `desired`
 * maps its list item by item (`desiredPerItemOf`) is called with `SLICE_ITEMS` of them at a time; any other once.
 */
export async function desiredResourcesInSlices(
  specs: DesiredSpecs,
  ctx: ProviderContext,
  providers: readonly Provider[] = PROVIDERS,
): Promise<DesiredResource[]> {
  const pause = timeSlices();
  const out: DesiredResource[] = [];
  for (const provider of providers) {
    const key = provider.desiredPerItemOf;
    const items = key ? specs[key] : undefined;
    if (!key || !items) {
      for (const resource of provider.desired(specs, ctx)) out.push(resource);
      await pause();
      continue;
    }
    for (let i = 0; i < items.length; i += SLICE_ITEMS) {
      const part: DesiredSpecs = { ...specs, [key]: items.slice(i, i + SLICE_ITEMS) };
      for (const resource of provider.desired(part, ctx)) out.push(resource);
      await pause();
    }
  }
  return out;
}
