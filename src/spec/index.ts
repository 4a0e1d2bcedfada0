import { stat } from "node:fs/promises";
import path from "node:path";
import { compareSpecErrors } from "./errors.js";
import { type LoadedDocument, type LoadResult, loadSpecFiles } from "./load.js";
import { type IgnoreEntry, loadProjectConfig, type ProjectConfig, type TargetConfig } from "./project-config.js";
import { referenceErrorsOfInvalid, resolveSpecs } from "./resolve.js";
import { secretEnvErrors } from "./secret-env.js";
import { timeSlices } from "./slices.js";
import type { DesiredSpecs, SpecError } from "./types.js";
import { type ValidationResult, validateDocuments } from "./validate.js";
import { substituteVars } from "./vars.js";

export { formatSpecError } from "./errors.js";
export {
  type AdoptEdit,
  type AdoptEntry,
  addAdoptEntry,
  DEFAULT_STACK,
  type IgnoreEntry,
  loadProjectConfig,
  PROJECT_CONFIG_FILE,
  type ProjectConfig,
  removeAdoptEntries,
  selectTarget,
  type TargetConfig,
} from "./project-config.js";
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

/** Options of `loadProject`. */
export interface LoadOptions {
  /**
   * The target whose `values` replace `${var:NAME}` in the specs (see `selectTarget`). Without one, a spec that uses
   * `${var:...}` is an error asking for targets and `--target`.
   */
  target?: TargetConfig;
  /**
   * `ignore:` of `reconcile.yaml` (`ProjectConfig.ignore`): YAML files that are not specs. Without it every YAML file
   * must be a spec or a foreign manifest, so a caller that forgets it fails closed (errors), never silently.
   */
  ignore?: readonly IgnoreEntry[];
  /** Use the root's parse cache (`parse-cache.ts`); default on unless `RECONCILE_PARSE_CACHE=off`. */
  parseCache?: boolean;
}

/**
 * Reads the specs of a repository: finds the YAML files under `root`, parses them with positions, substitutes
 * `${var:NAME}` with the values of `options.target`, validates each document against `schemas/`, and resolves
 * names, defaults, secret references and `system_file`s into `DesiredSpecs` (load → substitute → validate → resolve;
 * see DESIGN.md, "The data path"). Bad input never throws: every error of every file comes back at once, located as
 * `file:line:col` (print them with `formatSpecError`); a substitution error sits at the scalar holding the reference,
 * and validation errors of substituted values point at the original scalar too. Does not read `reconcile.yaml`
 * (see `loadProjectConfig`, `validateAllTargets`): pass its `ignore` list in `options`. Throws only when `root` is not a readable directory.
 */
export async function loadProject(root: string, options: LoadOptions = {}): Promise<LoadedProject> {
  const absoluteRoot = await directory(root);
  const loaded = await loadSpecFiles(absoluteRoot, {
    ignore: options.ignore ?? [],
    ...(options.parseCache !== undefined ? { parseCache: options.parseCache } : {}),
  });
  return (await checkSpecs(absoluteRoot, loaded, options.target)).project;
}

async function directory(root: string): Promise<string> {
  const absoluteRoot = path.resolve(root);
  const info = await stat(absoluteRoot).catch(() => undefined);
  if (!info?.isDirectory()) throw new Error(`spec root ${absoluteRoot} is not a directory`);
  return absoluteRoot;
}

/**
 * Substitutes, validates and resolves loaded files for one target. Returns the substitution errors apart as well
 * (`targetNamed`): their messages already name the target.
 */
async function checkSpecs(
  root: string,
  loaded: LoadResult,
  target: TargetConfig | undefined,
): Promise<{ project: LoadedProject; targetNamed: Set<SpecError> }> {
  const varErrors: SpecError[] = [];
  const failed = new Set<LoadedDocument>();
  // The event loop turns between slices (`timeSlices`): `plan` observes the API meanwhile.
  const pause = timeSlices();
  const documents: LoadedDocument[] = [];
  for (const document of loaded.documents) {
    const result = substituteVars(document, target);
    const envErrors = secretEnvErrors(result.document, target);
    if (result.errors.length + envErrors.length > 0) failed.add(result.document);
    varErrors.push(...result.errors, ...envErrors);
    documents.push(result.document);
    await pause();
  }
  const validated = await validateInSlices(documents, pause);
  // A document whose references could not be substituted is invalid: its schema errors at those very scalars
  // (about the `${var:...}` text left in place) would only repeat the substitution error.
  const varLocations = new Set(varErrors.map((e) => locationKey(e.location)));
  const schemaErrors = validated.errors.filter((e) => !varLocations.has(locationKey(e.location)));
  const invalid = [...validated.invalid];
  const specs = validated.specs.filter((s) => {
    if (!failed.has(s.document)) return true;
    invalid.push({ kind: s.kind, name: s.spec.name });
    return false;
  });
  const resolved = await resolveSpecs(specs, { root, invalid });
  const toolsetNames = new Set([
    ...validated.specs.flatMap((s) => (s.kind === "McpToolset" ? [s.spec.name] : [])),
    ...validated.invalid.flatMap((s) => (s.kind === "McpToolset" ? [s.name] : [])),
  ]);
  const failedRefs = referenceErrorsOfInvalid(validated.failed, toolsetNames);
  const errors = [...loaded.errors, ...varErrors, ...schemaErrors, ...resolved.errors, ...failedRefs].sort(
    compareSpecErrors,
  );
  return { project: { specs: resolved.specs, errors, files: loaded.files }, targetNamed: new Set(varErrors) };
}

/** Documents validated per slice by `validateInSlices`. */
const VALIDATE_CHUNK = 64;

/**
 * `validateDocuments` of `documents`, `VALIDATE_CHUNK` at a time with `pause` in between: the same result (each
 * document is validated on its own, and the lists keep document order).
 */
async function validateInSlices(
  documents: readonly LoadedDocument[],
  pause: () => Promise<void>,
): Promise<ValidationResult> {
  const result: ValidationResult = { specs: [], errors: [], invalid: [], failed: [] };
  for (let i = 0; i < documents.length; i += VALIDATE_CHUNK) {
    const part = validateDocuments(documents.slice(i, i + VALIDATE_CHUNK));
    result.specs.push(...part.specs);
    result.errors.push(...part.errors);
    result.invalid.push(...part.invalid);
    result.failed.push(...part.failed);
    await pause();
  }
  return result;
}

function locationKey(location: SpecError["location"]): string {
  return `${location.file}:${location.line}:${location.col}`;
}

/** What `validateAllTargets` returns. */
export interface TargetsValidation {
  /** The project configuration (a best effort when it has errors; see `loadProjectConfig`). */
  config: ProjectConfig;
  /**
   * The errors of `reconcile.yaml` and of the specs loaded against every target, deduplicated and sorted. An error
   * that occurs for some targets only names them: `... (target "prod")`, `... (targets "a", "b")`; an undefined
   * `${var:NAME}` names its target in its own words.
   */
  errors: SpecError[];
  /** The spec files read, relative to the root, sorted. */
  files: string[];
  /** Each target's own result, in the order `reconcile.yaml` declares them (the implicit `default` when none). */
  targets: Array<{ target: TargetConfig; specs: DesiredSpecs; errors: SpecError[] }>;
}

/**
 * What `reconcile validate` runs without `--target`: reads `reconcile.yaml`, then loads the specs (as
 * `loadProject` does) once per declared target, with that target's values, so one run proves the repository works
 * for staging and for production alike. A repository without `targets:` is checked against the implicit `default`
 * target (no values). Bad input never throws; throws only when `root` is not a readable directory.
 */
export async function validateAllTargets(root: string): Promise<TargetsValidation> {
  const absoluteRoot = await directory(root);
  const { config, errors: configErrors } = await loadProjectConfig(absoluteRoot);
  const loaded = await loadSpecFiles(absoluteRoot, { ignore: config.ignore });
  const targets: TargetsValidation["targets"] = [];
  const byKey = new Map<string, { error: SpecError; targets: string[]; named: boolean }>();
  for (const target of config.targets) {
    const { project, targetNamed } = await checkSpecs(absoluteRoot, loaded, target);
    targets.push({ target, specs: project.specs, errors: project.errors });
    for (const error of project.errors) {
      const key = `${locationKey(error.location)}|${error.kind ?? ""}|${error.name ?? ""}|${error.message}`;
      const seen = byKey.get(key);
      if (seen) seen.targets.push(target.name);
      else byKey.set(key, { error, targets: [target.name], named: targetNamed.has(error) });
    }
  }
  const specErrors = [...byKey.values()].map(({ error, targets: where, named }) => {
    if (named || where.length === config.targets.length) return error;
    const which = where.length === 1 ? `target "${where[0]}"` : `targets ${where.map((t) => `"${t}"`).join(", ")}`;
    return { ...error, message: `${error.message} (${which})` };
  });
  const errors = [...configErrors, ...specErrors].sort(compareSpecErrors);
  return { config, errors, files: loaded.files, targets };
}
