/**
 * Building `DesiredResource`s: the fields every provider fills the same way, in one place.
 */
import type { SourceLocation } from "../spec/types.js";
import { refsIn } from "./refs.js";
import type { ComparableState, DesiredResource, ResourceType } from "./types.js";

/** What a provider knows about one declared resource; everything else has a default. */
export interface DesiredInit {
  type: ResourceType;
  name: string;
  /** Earlier names (`previous_names:`), turned into addresses of the same type. */
  previousNames: readonly string[];
  state: ComparableState;
  spec: unknown;
  protect: boolean;
  /** `on_prune: delete` (default false). */
  deleteOnPrune?: boolean;
  source?: SourceLocation;
  dependsOn?: string[];
  sensitive?: string[];
  serverChosen?: string[];
  missingSecrets?: string[];
}

/** The plan address of a resource: `type.name` (`credential.mail/workspace`). */
export const addressOf = (type: ResourceType, name: string): string => `${type}.${name}`;

/**
 * A `DesiredResource` from `init`, with its address and previous addresses computed. Every address an `OutputRef`
 * in `state` refers to is added to `dependsOn` (apply waits for it; `--only` takes it along).
 */
export function desiredResource(init: DesiredInit): DesiredResource {
  const dependsOn = [...new Set([...(init.dependsOn ?? []), ...refsIn(init.state)])];
  return {
    type: init.type,
    name: init.name,
    address: addressOf(init.type, init.name),
    previousAddresses: init.previousNames.map((name) => addressOf(init.type, name)),
    dependsOn,
    state: init.state,
    sensitive: init.sensitive ?? [],
    serverChosen: init.serverChosen ?? [],
    missingSecrets: init.missingSecrets ?? [],
    protect: init.protect,
    deleteOnPrune: init.deleteOnPrune ?? false,
    ...(init.source ? { source: init.source } : {}),
    spec: init.spec,
  };
}
