/**
 * Resolution of `MemoryStore` specs (schemas/memory-store.schema.json) into `ResolvedMemoryStore`: defaults filled
 * the way the API stores them (SDK `BetaManagedAgentsMemoryStore`: `description` is `""` when unset), the API name
 * (`display_name`, default the spec name). A memory store refers to nothing, so its only cross-field rule is the
 * lifecycle one shared by every kind with `on_prune`.
 */
import { atPath, locate } from "./position.js";
import type { ResolvedMemoryStore, SpecError } from "./types.js";
import type { ValidatedSpec } from "./validate.js";

/** A validated `MemoryStore` document. */
export type MemoryStoreDocument = Extract<ValidatedSpec, { kind: "MemoryStore" }>;

/**
 * The resolved store of a valid `MemoryStore` spec, or the errors that prevent it: `on_prune: delete` together with
 * `protect: true` is a contradiction (protected resources are never pruned), reported at `on_prune`.
 */
export function resolveMemoryStore(spec: MemoryStoreDocument): { value?: ResolvedMemoryStore; errors: SpecError[] } {
  const s = spec.spec;
  const onPrune = s.on_prune ?? "archive";
  if (onPrune === "delete" && s.protect === true) {
    const path = ["on_prune"];
    const message = "cannot be `delete` on a protected resource: protect: true means it is never pruned";
    return {
      errors: [
        { location: locate(spec.document, path), kind: spec.kind, name: s.name, message: atPath(path, message) },
      ],
    };
  }
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(s.metadata ?? {})) if (value !== undefined) metadata[key] = value;
  return {
    errors: [],
    value: {
      kind: "MemoryStore",
      name: s.name,
      display_name: s.display_name ?? s.name,
      description: s.description ?? "",
      metadata,
      protect: s.protect ?? false,
      on_prune: onPrune,
      previous_names: [...(s.previous_names ?? [])],
      source: spec.document.location,
    },
  };
}
