/**
 * Outputs: the map from spec names to live ids that `reconcile outputs` prints (schemas/outputs.schema.json) and the
 * MCP server offers (DESIGN.md, "An exported name→ID map serves tools that want IDs"). The mapping is a pure
 * function of the declared resources and the observed live state; `observeOutputs` runs the same observe as
 * `reconcile plan` to get that state, so outputs and plans can never disagree about which live object a spec is.
 */
import type Anthropic from "@anthropic-ai/sdk";
import type { DesiredResource, Json, LiveResource, ProviderContext, ResourceType } from "../providers/types.js";
import { desiredResources } from "./desired.js";
import { type LiveState, observe } from "./observe.js";
import type { LoadedProject } from "./workflow.js";

/** One live resource in the outputs: its id, the agent's current version, the credential's vault id. */
export interface OutputEntry {
  id: string;
  /** Agents only: the live version (what a session pinned to "latest" runs). */
  version?: number;
  /** Credentials only: the id of the vault holding it. */
  vault_id?: string;
  /** What else the kind publishes for references (`Provider.outputs`: a tunnel's `domain`). */
  outputs?: Record<string, Json>;
}

/** The outputs document (schemas/outputs.schema.json, `format_version` 1). */
export interface Outputs {
  format_version: 1;
  stack: string;
  target: string;
  agents: Record<string, OutputEntry>;
  environments: Record<string, OutputEntry>;
  vaults: Record<string, OutputEntry>;
  /** Keyed `vault/credential`, like plan addresses. */
  credentials: Record<string, OutputEntry>;
  memory_stores: Record<string, OutputEntry>;
  /** Declared addresses with no live resource yet (apply has not created them). */
  pending: string[];
  /** Addresses the stack owns live but no spec declares any more (prune candidates); not in the maps above. */
  orphaned: string[];
  /** Every other kind, by its plural (`memory_stores`, `skills`, `deployments`, `tunnels`), present when declared. */
  [section: string]: unknown;
}

/** The outputs map a resource type fills: its plural (`agent` → `agents`, `memory_store` → `memory_stores`). */
const sectionOf = (type: ResourceType): string => `${type}s`;

function entry(live: LiveResource): OutputEntry {
  return {
    id: live.id,
    ...(live.version !== undefined ? { version: live.version } : {}),
    ...(live.type === "credential" && live.parentId ? { vault_id: live.parentId } : {}),
    ...(live.outputs && Object.keys(live.outputs).length > 0 ? { outputs: live.outputs } : {}),
  };
}

/**
 * The outputs of a stack: every declared resource that exists live (matched by address, the same identity plan
 * uses), the declared ones that do not exist yet, and the owned ones no spec declares. Names and addresses are
 * sorted, so the JSON is stable for scripts and diffs.
 */
export function buildOutputs(
  desired: readonly DesiredResource[],
  live: LiveState,
  meta: { stack: string; target: string },
): Outputs {
  const out: Outputs = {
    format_version: 1,
    stack: meta.stack,
    target: meta.target,
    agents: {},
    environments: {},
    vaults: {},
    credentials: {},
    memory_stores: {},
    pending: [],
    orphaned: [],
  };
  const declared = new Set<string>();
  for (const resource of [...desired].sort((a, b) => a.address.localeCompare(b.address))) {
    declared.add(resource.address);
    const found = live.resources.get(resource.address);
    if (found) {
      const section = sectionOf(resource.type);
      out[section] ??= {};
      (out[section] as Record<string, OutputEntry>)[resource.name] = entry(found);
    } else out.pending.push(resource.address);
  }
  out.orphaned = [...live.resources.keys()].filter((address) => !declared.has(address)).sort();
  return out;
}

/** The outputs and the live state they came from (the MCP server also reads models and descriptions from it). */
export interface ObservedOutputs {
  outputs: Outputs;
  live: LiveState;
}

/**
 * Observes the stack of `project` (the same `observe` as `reconcile plan`: owned resources only, by ownership
 * metadata) and maps it to outputs. Read-only: makes list calls only.
 * @throws the SDK's `APIError` when a list call fails
 */
export async function observeOutputs(
  project: LoadedProject,
  client: Anthropic,
  secrets: ProviderContext["secrets"],
): Promise<ObservedOutputs> {
  const ctx: ProviderContext = { stack: project.config.stack, secrets };
  const desired = desiredResources(project.specs, ctx);
  const live = await observe(client, ctx);
  return { outputs: buildOutputs(desired, live, { stack: ctx.stack, target: project.target.name }), live };
}
