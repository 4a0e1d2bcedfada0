/**
 * The table of exporters: every kind of live resource `reconcile export` writes specs for, in the order they are
 * mapped. Order matters: agents come first, because mapping them fills the toolset catalog that vault credentials
 * refer to (`toolset:` instead of a repeated URL). `McpToolset` specs are derived from agents (`toolset.ts`), not
 * listed from the API.
 */
import { agentExporter } from "./agent.js";
import { environmentExporter } from "./environment.js";
import { memoryStoreExporter } from "./memory-store.js";
import type { ResourceExporter } from "./types.js";
import { vaultExporter } from "./vault.js";

export { ExportContext, type SecretVariable } from "./context.js";
export { LAYOUT, renderSpec, specFile } from "./render.js";
export * from "./types.js";

/** Every exporter, in mapping order (see module comment). */
export const EXPORTERS: readonly ResourceExporter[] = [
  agentExporter,
  environmentExporter,
  vaultExporter,
  memoryStoreExporter,
];

/** The exporter whose id prefix `id` carries, or undefined. */
export function exporterForId(id: string): ResourceExporter | undefined {
  return EXPORTERS.find((e) => e.idPrefixes.some((prefix) => id.startsWith(prefix)));
}

/** Every id prefix `--id` accepts, for messages: `agent_, env_, vlt_, vcrd_`. */
export function knownIdPrefixes(): string[] {
  return EXPORTERS.flatMap((e) => [...e.idPrefixes]);
}
