/**
 * The table of exporters: every kind of live resource `reconcile export` writes specs for, in the order they are
 * mapped. Order matters: a spec can name another only once that one has its name (`ExportContext.exported`). Skills
 * and tunnels come before agents (an agent names a custom skill by spec name, a toolset its tunnel), agents before
 * vaults (mapping agents fills the toolset catalog that vault credentials refer to: `toolset:` instead of a repeated
 * URL), and deployments last (they name an agent, an environment, vaults and memory stores). `McpToolset` specs are
 * derived from agents (`toolset.ts`), not listed from the API.
 */
import { agentExporter } from "./agent.js";
import { deploymentExporter } from "./deployment.js";
import { environmentExporter } from "./environment.js";
import { memoryStoreExporter } from "./memory-store.js";
import { skillExporter } from "./skill.js";
import { tunnelExporter } from "./tunnel.js";
import type { ResourceExporter } from "./types.js";
import { vaultExporter } from "./vault.js";

export { ExportContext, type SecretVariable } from "./context.js";
export { LAYOUT, renderSpec, specFile } from "./render.js";
export * from "./types.js";

/** Every exporter, in mapping order (see module comment). */
export const EXPORTERS: readonly ResourceExporter[] = [
  skillExporter,
  tunnelExporter,
  agentExporter,
  environmentExporter,
  vaultExporter,
  memoryStoreExporter,
  deploymentExporter,
];

/** The exporter whose id prefix `id` carries, or undefined. */
export function exporterForId(id: string): ResourceExporter | undefined {
  return EXPORTERS.find((e) => e.idPrefixes.some((prefix) => id.startsWith(prefix)));
}

/** Every id prefix `--id` accepts, for messages: `agent_, env_, vlt_, vcrd_`. */
export function knownIdPrefixes(): string[] {
  return EXPORTERS.flatMap((e) => [...e.idPrefixes]);
}
