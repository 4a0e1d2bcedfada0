/**
 * Memory stores for `session_start`: spec names resolved, through the stack's observed live state (`StackIndex`, the
 * same observe as `reconcile plan`), to the session `resources` the API takes (SDK
 * `BetaManagedAgentsMemoryStoreResourceParam`: `{type: "memory_store", memory_store_id, access}`).
 */
import type { BetaManagedAgentsMemoryStoreResourceParam } from "@anthropic-ai/sdk/resources/beta/sessions/sessions.js";
import type { StackSnapshot } from "../stack.js";
import { ToolError } from "../tool.js";

/** How a memory store is asked for: its spec name, or the name and an access mode (default `read_write`). */
export type MemoryStoreRequest = string | { name: string; access?: "read_write" | "read_only" | undefined };

/** One attached store: its spec name and the resource sent to the API. */
export interface AttachedMemoryStore {
  name: string;
  resource: BetaManagedAgentsMemoryStoreResourceParam & { access: "read_write" | "read_only" };
}

/**
 * The session resources of `requested`, in order, from `snap.memory_stores`. `access` defaults to `read_write`, the
 * API's default, written out so the tool's answer says what was mounted.
 * @throws ToolError for a name the stack does not have (naming the ones it has, or saying to apply first) or a store
 *   asked for twice
 */
export function memoryStoreResources(
  snap: StackSnapshot,
  requested: readonly MemoryStoreRequest[],
): AttachedMemoryStore[] {
  const seen = new Set<string>();
  return requested.map((entry) => {
    const { name, access } = typeof entry === "string" ? { name: entry, access: undefined } : entry;
    const store = snap.memory_stores.find((m) => m.name === name);
    if (!store) {
      const known = snap.memory_stores.map((m) => m.name).join(", ");
      throw new ToolError(
        `no memory store "${name}" in this stack; there are: ${known || "none (declare a MemoryStore spec and run reconcile apply)"}`,
      );
    }
    if (seen.has(name)) throw new ToolError(`memory store "${name}" is listed twice; attach each store once`);
    seen.add(name);
    return {
      name,
      resource: { type: "memory_store", memory_store_id: store.id, access: access ?? "read_write" },
    };
  });
}
