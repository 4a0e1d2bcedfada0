/**
 * The one table of providers. Order matters: a parent type comes before its children, and apply creates in this
 * order when dependencies say nothing more specific.
 */
import { agentProvider } from "./agent.js";
import { credentialProvider } from "./credential.js";
import { deploymentProvider } from "./deployment.js";
import { environmentProvider } from "./environment.js";
import { memoryStoreProvider } from "./memory-store.js";
import { skillProvider } from "./skill.js";
import { tunnelProvider } from "./tunnel.js";
import type { Provider, ResourceType } from "./types.js";
import { vaultProvider } from "./vault.js";

/** Every provider, parents before children. */
export const PROVIDERS: readonly Provider[] = [
  environmentProvider,
  vaultProvider,
  credentialProvider,
  memoryStoreProvider,
  skillProvider,
  tunnelProvider,
  agentProvider,
  deploymentProvider,
];

/** The provider of `type`. @throws Error for an unknown type (a bug, not user input). */
export function providerFor(type: ResourceType): Provider {
  const provider = PROVIDERS.find((p) => p.type === type);
  if (!provider) throw new Error(`no provider for resource type ${type}`);
  return provider;
}
