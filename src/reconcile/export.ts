/**
 * Export: specs for live resources, so a workspace built in the console, with `ant apply` or with Terraform moves
 * into a reconcile repository without recreating anything.
 *
 * Reads live objects through the exporter table (`providers/export/index.ts`; this module names no kind), names
 * them (ownership `reconcile/name`, else a slug of the API name, unique within the kind), maps each to a spec
 * document, adds the MCP toolsets the agents use, writes one file per spec in the fleet layout
 * (`agents/NAME.yaml`, ...) with the folder a spec refers to (a skill's files, `SpecTree`, `export-tree.ts`), lists
 * such folders holding YAML files under `ignore:`, and records an `adopt:` entry in `reconcile.yaml` for every
 * exported resource this stack does not own yet, so the next apply takes it over instead of creating a duplicate. Resources another stack
 * owns are skipped with a warning: they belong to that stack's repository (and the engine refuses to adopt them).
 *
 * Nothing is written when anything is in the way: an existing file (without `force`), a symbolic link that would
 * lead a write out of the output directory, a spec of the same name in another file, an id already adopted under another address, or a missing `reconcile.yaml` when adoption is needed.
 * Secret values are never read (the API cannot return them): secret fields become `${env:NAME}` references, and the
 * result lists the variables to set before apply.
 */
import { mkdir, stat, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import type Anthropic from "@anthropic-ai/sdk";
import { schemasPathFrom } from "../init/schemas-path.js";
import { ownerFromMetadata } from "../providers/export/context.js";
import { claimOrder } from "../providers/export/fetch.js";
import {
  EXPORTERS,
  ExportContext,
  ExportError,
  type ExportedResource,
  type ExportKind,
  exporterForId,
  knownIdPrefixes,
  type LiveItem,
  type ResourceExporter,
  renderSpec,
  type SecretVariable,
  type SpecDocument,
  type SpecTree,
  specFile,
} from "../providers/export/index.js";
import { NameBook } from "../providers/export/naming.js";
import type { ApiObject } from "../providers/types.js";
import {
  addIgnorePatterns,
  addSecretEnv,
  adoptEntriesFor,
  adoptTargetField,
  type ProjectConfig,
} from "../spec/project-config.js";
import type { DesiredSpecs } from "../spec/types.js";
import { isInside, resolvedPath, treeConflicts, writeTree } from "./export-tree.js";
import type { LoadedProject } from "./workflow.js";

/** Records an adoption (`addAdoptEntry` of `spec/project-config.ts`): `address` is to take over live `id`. */
export type AdoptWriter = (root: string, address: string, id: string, target?: string) => Promise<unknown>;

/** Options of `exportSpecs`. */
export interface ExportOptions {
  client: Anthropic;
  /**
   * The repository exported into (`loadSpecs` of `reconcile/workflow.ts`): its `reconcile.yaml` names the stack and
   * receives the `adopt:` entries; its McpToolset specs are reused when identical, and its spec names are checked.
   */
  project: LoadedProject;
  /** Where the spec files go (created if missing). Default: the repository root. */
  out?: string;
  /** Export only these ids (any prefix of the exporter table: `agent_…`, `vlt_…/vcrd_…`, `skill_…`, ...); empty: all. */
  ids?: readonly string[];
  /** Overwrite existing files. */
  force?: boolean;
  /**
   * Export resources that already have a spec too (`--include-existing`). By default a resource this stack already
   * owns, or already adopts on this target, whose spec is declared in the repository is skipped (with a note).
   */
  includeExisting?: boolean;
  /** How adoptions are recorded: `addAdoptEntry` from `spec/project-config.ts`. */
  adopt: AdoptWriter;
  /** Called after each file is written. */
  onFile?: (file: ExportedFile) => void;
}

/** One written spec file. */
export interface ExportedFile {
  /** The path as shown to the user: relative to the repository root when inside it (POSIX separators), else absolute. */
  file: string;
  kind: ExportKind;
  name: string;
  /** The API resources the spec stands for (a vault and its credentials); empty for an McpToolset. */
  resources: ExportedResource[];
}

/** One line of `reconcile export --json`: an address (`toolset.NAME` for an McpToolset), its id, and its file. */
export interface ExportEntry {
  address: string;
  id: string | null;
  file: string;
}

/** What `exportSpecs` did. */
export interface ExportResult {
  stack: string;
  /** The output directory, absolute. */
  out: string;
  /** Every file written, sorted by path. */
  files: ExportedFile[];
  /** Every exported resource and toolset with its file, in file order. */
  entries: ExportEntry[];
  /** The adoptions recorded in `reconcile.yaml` (resources this stack did not own). */
  adopted: Array<{ address: string; id: string }>;
  /** The environment variables the specs' secret references need, in file order. */
  secrets: SecretVariable[];
  /** What could not be exported exactly (the next plan shows it), or was skipped. */
  warnings: string[];
}

/** Thrown when files or names are in the way; nothing was written. The message lists each and what to do. */
export class ExportConflictError extends Error {
  constructor(readonly conflicts: string[]) {
    super(
      `nothing was written:\n${conflicts.map((c) => `  - ${c}`).join("\n")}\nPass --force to overwrite existing files, or --out DIR to write the specs somewhere else.`,
    );
    this.name = "ExportConflictError";
  }
}

/** One spec before it is written. */
interface PendingSpec {
  kind: ExportKind;
  name: string;
  document: SpecDocument;
  resources: ExportedResource[];
  tree?: SpecTree;
}

/**
 * Groups `ids` by the exporter whose prefix they carry; null for "everything".
 * @throws ExportError for an id with an unknown prefix
 */
function selectExporters(ids: readonly string[] | undefined): Map<ResourceExporter, string[]> | null {
  if (!ids || ids.length === 0) return null;
  const out = new Map<ResourceExporter, string[]>();
  for (const id of ids) {
    const exporter = exporterForId(id);
    if (!exporter) {
      throw new ExportError(`"${id}" is not an id export knows: ids start with ${knownIdPrefixes().join(", ")}`);
    }
    out.set(exporter, [...(out.get(exporter) ?? []), id]);
  }
  return out;
}

/** Where each existing spec is declared, by `Kind/name`. */
function declaredFiles(specs: DesiredSpecs): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of specs.agents) out.set(`Agent/${s.name}`, s.source.file);
  for (const s of specs.environments) out.set(`Environment/${s.name}`, s.source.file);
  for (const s of specs.vaults) out.set(`Vault/${s.name}`, s.source.file);
  for (const s of specs.toolsets) out.set(`McpToolset/${s.name}`, s.source.file);
  for (const s of specs.deployments ?? []) out.set(`Deployment/${s.name}`, s.source.file);
  for (const s of specs.memory_stores ?? []) out.set(`MemoryStore/${s.name}`, s.source.file);
  for (const s of specs.skills ?? []) out.set(`Skill/${s.name}`, s.source.file);
  for (const s of specs.tunnels ?? []) out.set(`Tunnel/${s.name}`, s.source.file);
  return out;
}

/** Every string inside `value`, for the `${var:` check. */
function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (typeof value === "object" && value !== null) for (const v of Object.values(value)) strings(v, out);
  return out;
}

/**
 * True (with a warning) for an object another stack owns: the engine refuses to adopt it (it belongs to another
 * repository), so it is not exported.
 */
function ownedElsewhere(object: ApiObject, kind: string, ctx: ExportContext): boolean {
  const owner = ownerFromMetadata(object.metadata);
  if (owner === null || owner.stack === ctx.stack) return false;
  ctx.warn(
    `${kind ? `${kind} ` : ""}${object.id} belongs to stack "${owner.stack}" (as ${owner.name}) and was not exported: export it from that stack's repository, or release it there first`,
  );
  return true;
}

/** Fetches, names and maps every selected live resource (skipping what other stacks own); toolsets last. */
async function collectSpecs(
  client: Anthropic,
  ids: readonly string[] | undefined,
  ctx: ExportContext,
): Promise<PendingSpec[]> {
  const selection = selectExporters(ids);
  const fetched: Array<{ exporter: ResourceExporter; items: LiveItem[] }> = [];
  for (const exporter of EXPORTERS) {
    if (selection !== null && !selection.has(exporter)) continue;
    fetched.push({ exporter, items: await exporter.fetch(client, selection?.get(exporter) ?? null, ctx) });
  }
  const specs: PendingSpec[] = [];
  for (const { exporter, items } of fetched) {
    const names = new NameBook();
    const ours = items.filter((item) => !ownedElsewhere(item.object, exporter.kind, ctx));
    const named = ours
      .sort((a, b) => claimOrder(a.object, b.object))
      .map((found) => {
        const item = { ...found, children: found.children.filter((child) => !ownedElsewhere(child, "", ctx)) };
        const name = names.claim(exporter.wantedName(item).name);
        ctx.exported.set(item.object.id, { name, object: item.object });
        return { item, name };
      });
    for (const { item, name } of named) {
      const spec = exporter.toSpec(item, name, ctx);
      if (spec) specs.push({ kind: exporter.kind, name, ...spec });
    }
  }
  for (const { name, document } of ctx.toolsets.documents()) {
    specs.push({ kind: "McpToolset", name, document, resources: [] });
  }
  for (const spec of specs) {
    if (strings(spec.document).some((s) => s.includes("${var:"))) {
      ctx.warn(
        `${spec.kind}/${spec.name}: a value contains "\${var:", which reconcile reads as a target variable; escape or remove it before applying`,
      );
    }
  }
  return specs;
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

/** A YAML file name, as the spec loader finds them (`findSpecFiles`). */
const YAML_FILE = /\.ya?ml$/i;

/**
 * Lists under `ignore:` in `reconcile.yaml` every written folder (`SpecTree`) that holds YAML files: the loader reads
 * every YAML file of the repository as a spec, and a skill's `config.yaml` is not one. An ignored file that does
 * hold a reconcile document stays an error (it cannot slip into the desired state). Outside the repository, a note
 * says what to ignore instead.
 * @throws Error saying the spec files were written but the ignore entry failed
 */
async function ignoreYamlTrees(root: string, out: string, specs: readonly PendingSpec[], ctx: ExportContext) {
  const folders = specs
    .filter((s) => s.tree?.files.some((f) => YAML_FILE.test(f.path.split("/").pop() ?? "")))
    .map((s) => join(out, dirname(specFile(s.kind, s.name)), s.tree?.folder ?? ""));
  const inside = folders.filter((f) => isInside(root, f)).map((f) => `${displayPath(root, f)}/`);
  for (const folder of folders.filter((f) => !isInside(root, f))) {
    ctx.warn(`${folder} holds YAML files that are not specs: list it under ignore: in the repository it moves to`);
  }
  if (inside.length === 0) return;
  try {
    const added = await addIgnorePatterns(root, inside);
    if (added.length > 0) {
      ctx.warn(
        `${added.join(", ")} ${added.length === 1 ? "holds" : "hold"} YAML files that are not specs: added to ignore: in reconcile.yaml`,
      );
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`the spec files were written, but adding ${inside.join(", ")} to ignore: failed: ${reason}`);
  }
}

/** Everything that must stop the export before a file is written (see the module comment). */
async function findConflicts(
  specs: readonly PendingSpec[],
  options: {
    root: string;
    out: string;
    force: boolean;
    config: ProjectConfig;
    target: string;
    existing: DesiredSpecs;
    stack: string;
  },
): Promise<string[]> {
  const conflicts: string[] = [];
  const declared = declaredFiles(options.existing);
  const outInsideRoot = !relative(options.root, options.out).startsWith("..");
  const realOut = (await resolvedPath(options.out)) ?? options.out;
  for (const spec of specs) {
    const path = join(options.out, specFile(spec.kind, spec.name));
    for (const target of [path, ...(spec.tree ? [join(dirname(path), spec.tree.folder)] : [])]) {
      const real = await resolvedPath(target);
      if (real === null || !isInside(realOut, real)) {
        conflicts.push(
          `${displayPath(options.root, target)} leads outside ${displayPath(options.root, options.out) || "."} through a symbolic link; export writes only inside it`,
        );
      }
    }
    const shown = displayPath(options.root, path);
    if (!options.force && (await exists(path))) conflicts.push(`${shown} already exists`);
    if (spec.tree) {
      const folder = join(dirname(path), spec.tree.folder);
      const problems = await treeConflicts(folder, spec.tree, options.force, realOut);
      conflicts.push(...problems.map((p) => `${displayPath(options.root, p.path)}${p.problem}`));
    }
    const other = declared.get(`${spec.kind}/${spec.name}`);
    if (outInsideRoot && other !== undefined && resolve(options.root, other) !== path) {
      conflicts.push(
        `${spec.kind} "${spec.name}" is already declared in ${other}; remove or rename it there first, or export with --out DIR`,
      );
    }
  }
  const adoptions = toAdopt(specs, options.stack);
  if (adoptions.length > 0 && options.config.file === null) {
    conflicts.push(
      `there is no reconcile.yaml in ${options.root} to record the adoptions in: create it with a \`stack:\` first (like \`stack: support-agents\`)`,
    );
  }
  for (const { address, id } of adoptions) {
    const entry = adoptEntriesFor(options.config, options.target).find((a) => a.id === id && a.address !== address);
    if (entry)
      conflicts.push(`${id} is already adopted as ${entry.address} in reconcile.yaml; remove that entry first`);
  }
  return conflicts;
}

/**
 * `specs` without those that already have a spec (unless `includeExisting`): the spec's `Kind/name` is declared in the
 * repository, and each of its resources is owned by this stack or adopted on this target. A note names what was
 * skipped.
 */
function skipExisting(specs: PendingSpec[], options: ExportOptions, ctx: ExportContext): PendingSpec[] {
  if (options.includeExisting) return specs;
  const { config, target, specs: existing } = options.project;
  const declared = declaredFiles(existing);
  const adopted = new Set(adoptEntriesFor(config, target.name).map((a) => a.id));
  const has = (spec: PendingSpec) =>
    spec.kind !== "McpToolset" &&
    declared.has(`${spec.kind}/${spec.name}`) &&
    spec.resources.every((r) => r.owner?.stack === config.stack || adopted.has(r.id));
  const skipped = specs.filter(has);
  if (skipped.length > 0) {
    ctx.warn(
      `skipped ${skipped.length} resource${skipped.length === 1 ? "" : "s"} that already ha${skipped.length === 1 ? "s a spec" : "ve specs"} (${skipped.map((s) => `${s.kind}/${s.name}`).join(", ")}); pass --include-existing to export ${skipped.length === 1 ? "it" : "them"} too`,
    );
  }
  return specs.filter((s) => !has(s));
}

/** The resources this stack does not own yet: they need an `adopt:` entry. */
function toAdopt(specs: readonly PendingSpec[], stack: string): Array<{ address: string; id: string }> {
  return specs.flatMap((s) =>
    s.resources.filter((r) => r.owner?.stack !== stack).map(({ address, id }) => ({ address, id })),
  );
}

/** `path` relative to `root` with POSIX separators when inside it, else absolute. */
function displayPath(root: string, path: string): string {
  const rel = relative(root, path);
  return rel.startsWith("..") || isAbsolute(rel) ? path : rel.split(sep).join("/");
}

/**
 * Exports live resources as spec files (see the module comment).
 * @returns what was written, adopted and warned about, and the secret variables to set
 * @throws ExportError for an unusable `--id`;
 *   ExportConflictError when files or names are in the way (nothing written); the SDK's `APIError` when reading
 *   the API fails (nothing written); the adopt writer's error (the spec files are written by then, and the message
 *   says which adoption failed)
 */
export async function exportSpecs(options: ExportOptions): Promise<ExportResult> {
  const { config, specs: existing } = options.project;
  const root = resolve(options.project.root);
  const out = resolve(options.out ?? root);
  const ctx = new ExportContext(config.stack, existing.toolsets, {
    specs: existing,
    adopt: adoptEntriesFor(config, options.project.target.name),
  });
  const specs = skipExisting(await collectSpecs(options.client, options.ids, ctx), options, ctx);

  const conflicts = await findConflicts(specs, {
    root,
    out,
    force: options.force === true,
    config,
    target: options.project.target.name,
    existing,
    stack: config.stack,
  });
  if (conflicts.length > 0) throw new ExportConflictError(conflicts);

  const files: ExportedFile[] = [];
  const ordered = [...specs].sort((a, b) => specFile(a.kind, a.name).localeCompare(specFile(b.kind, b.name)));
  for (const spec of ordered) {
    const path = join(out, specFile(spec.kind, spec.name));
    await mkdir(dirname(path), { recursive: true });
    const text = renderSpec(spec.kind, spec.document, schemasPathFrom(dirname(path)));
    if (spec.tree) await writeTree(out, dirname(path), spec.tree, options.force === true);
    await writeFile(path, text, { flag: options.force ? "w" : "wx" });
    const file: ExportedFile = {
      file: displayPath(root, path),
      kind: spec.kind,
      name: spec.name,
      resources: spec.resources,
    };
    files.push(file);
    options.onFile?.(file);
  }

  const adopted: Array<{ address: string; id: string }> = [];
  for (const { address, id } of toAdopt(ordered, config.stack)) {
    try {
      await options.adopt(root, address, id, adoptTargetField(config, options.project.target.name));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(
        `the spec files were written, but recording the adoption of ${address} (${id}) in reconcile.yaml failed: ${reason}`,
      );
    }
    adopted.push({ address, id });
  }

  // The specs refer to these variables: declare them, as every stack must (secret_env, issue 7 item 5).
  if (ctx.secrets.length > 0) {
    try {
      await addSecretEnv(
        root,
        ctx.secrets.map((s) => s.name),
      );
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(
        `the spec files were written, but declaring their secret variables in reconcile.yaml failed: ${reason}`,
      );
    }
  }

  await ignoreYamlTrees(root, out, ordered, ctx);

  const entries = files.flatMap((f): ExportEntry[] =>
    f.kind === "McpToolset"
      ? [{ address: `toolset.${f.name}`, id: null, file: f.file }]
      : f.resources.map((r) => ({ address: r.address, id: r.id, file: f.file })),
  );
  const order = new Map(entries.map((e, i) => [e.address, i]));
  const secrets = [...ctx.secrets].sort((a, b) => (order.get(a.address) ?? 0) - (order.get(b.address) ?? 0));
  return { stack: config.stack, out, files, entries, adopted, secrets, warnings: ctx.warnings };
}
