/**
 * `reconcile import`: take over a live resource as the spec that declares it, like a Terraform import block. The
 * import is recorded as an `adopt:` entry in reconcile.yaml (reviewed in the pull request like any change); the next
 * plan shows `<= adopt` with only the real differences, and apply writes them and the ownership metadata.
 */
import type Anthropic from "@anthropic-ai/sdk";
import { PROVIDERS } from "../providers/registry.js";
import { addressOf } from "../providers/resource.js";
import type { ProviderContext, ResourceType } from "../providers/types.js";
import { type AdoptEdit, addAdoptEntry, adoptEntriesFor, adoptTargetField } from "../spec/project-config.js";
import { desiredResources } from "./desired.js";
import { observe } from "./observe.js";
import type { LoadedProject } from "./workflow.js";

/** Thrown when the import cannot be recorded; the message says why and what to do. */
export class ImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ImportError";
  }
}

/** The resource types `import` takes, from a user's spelling (`agent`, `Agent`, `memory_store`, `MemoryStore`...). */
export function parseResourceType(kind: string): ResourceType {
  const wanted = kind.toLowerCase().replace(/_/g, "");
  const provider = PROVIDERS.find((p) => p.type.replace(/_/g, "") === wanted);
  if (provider) return provider.type;
  if (kind.toLowerCase() === "mcptoolset") {
    throw new ImportError("an McpToolset has no API resource of its own; import the agent that uses it");
  }
  throw new ImportError(`unknown kind "${kind}"; use one of ${PROVIDERS.map((p) => p.type).join(", ")}`);
}

/**
 * Checks that a spec declares `type.name`, that `id` exists and belongs to no stack (or to this one under that very
 * name), and records the `adopt:` entry.
 * @returns the address and what happened to reconcile.yaml
 * @throws ImportError for anything that makes the import wrong (no spec, unknown id, owned elsewhere)
 */
export async function importResource(
  project: LoadedProject,
  client: Anthropic,
  ctx: ProviderContext,
  request: { type: ResourceType; name: string; id: string },
): Promise<{ address: string; edit: AdoptEdit | "already-managed" }> {
  const address = addressOf(request.type, request.name);
  const declared = desiredResources(project.specs, ctx).map((d) => d.address);
  if (!declared.includes(address)) {
    throw new ImportError(
      `no spec declares ${address}; write it first (\`reconcile export --id ${request.id}\` can generate it), then import`,
    );
  }
  const adopt = [
    ...adoptEntriesFor(project.config, project.target.name)
      .filter((a) => a.address !== address)
      .map(({ address: a, id }) => ({ address: a, id })),
    { address, id: request.id },
  ];
  const live = await observe(client, ctx, { adopt });
  const owned = live.resources.get(address);
  if (owned) {
    if (owned.id === request.id) return { address, edit: "already-managed" };
    throw new ImportError(
      `stack "${ctx.stack}" already manages ${address} as ${owned.id}; archive or rename that one first`,
    );
  }
  const problem = live.adoptionErrors.get(address);
  if (problem) throw new ImportError(`cannot import ${address}: ${problem}`);
  const target = adoptTargetField(project.config, project.target.name);
  return { address, edit: await addAdoptEntry(project.root, address, request.id, target) };
}
