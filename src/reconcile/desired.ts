/**
 * The desired state as resources: every provider's `desired` over the resolved specs, in provider table order.
 */
import { PROVIDERS } from "../providers/registry.js";
import type { DesiredResource, Provider, ProviderContext } from "../providers/types.js";
import type { DesiredSpecs } from "../spec/types.js";

/** All resources `specs` declare, parents before children. */
export function desiredResources(
  specs: DesiredSpecs,
  ctx: ProviderContext,
  providers: readonly Provider[] = PROVIDERS,
): DesiredResource[] {
  return providers.flatMap((provider) => provider.desired(specs, ctx));
}
