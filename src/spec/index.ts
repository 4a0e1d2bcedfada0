import { stat } from "node:fs/promises";
import path from "node:path";
import { compareSpecErrors } from "./errors.js";
import { loadSpecFiles } from "./load.js";
import { resolveSpecs } from "./resolve.js";
import type { DesiredSpecs, SpecError } from "./types.js";
import { validateDocuments } from "./validate.js";

export { formatSpecError } from "./errors.js";
export * from "./types.js";

/** What `loadProject` returns. */
export interface LoadedProject {
  /** The desired state: every spec that could be resolved (all of them when `errors` is empty). */
  specs: DesiredSpecs;
  /** Every problem in every file, sorted by file, line and column. Plan and apply must not run unless it is empty. */
  errors: SpecError[];
  /** The spec files read (those holding reconcile documents), relative to the root, sorted. */
  files: string[];
}

/**
 * Reads the specs of a repository: finds the YAML files under `root`, parses them with positions, validates each
 * document against `schemas/`, and resolves names, defaults, secret references and `system_file`s into
 * `DesiredSpecs` (load → validate → resolve; see DESIGN.md, "The data path"). Bad input never throws: every error
 * of every file comes back at once, located as `file:line:col` (print them with `formatSpecError`). Throws only
 * when `root` is not a readable directory.
 */
export async function loadProject(root: string): Promise<LoadedProject> {
  const absoluteRoot = path.resolve(root);
  const info = await stat(absoluteRoot).catch(() => undefined);
  if (!info?.isDirectory()) throw new Error(`spec root ${absoluteRoot} is not a directory`);
  const loaded = await loadSpecFiles(absoluteRoot);
  const validated = validateDocuments(loaded.documents);
  const resolved = await resolveSpecs(validated.specs, { root: absoluteRoot, invalid: validated.invalid });
  const errors = [...loaded.errors, ...validated.errors, ...resolved.errors].sort(compareSpecErrors);
  return { specs: resolved.specs, errors, files: loaded.files };
}
