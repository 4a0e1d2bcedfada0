import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { LineCounter, parseAllDocuments } from "yaml";
import { documentLocation, locationAt, type SourceDocument } from "./position.js";
import { PROJECT_CONFIG_FILE } from "./project-config.js";
import { type SourceLocation, SPEC_KINDS, type SpecError } from "./types.js";

/** One reconcile document of a spec file, with its source positions. */
export interface LoadedDocument extends SourceDocument {
  /** Absolute path of the file. */
  absolutePath: string;
  /** 0-based position of the document in its file (files may hold several, separated by `---`). */
  index: number;
  /** The document as plain data (a mapping). */
  data: Record<string, unknown>;
  /** Where the document's content starts. */
  location: SourceLocation;
}

/** What `loadSpecFiles` found under a root directory. */
export interface LoadResult {
  /** The reconcile documents, in file order then document order. */
  documents: LoadedDocument[];
  /** YAML syntax errors (every one of them, in files that hold reconcile specs). */
  errors: SpecError[];
  /** The files that hold at least one reconcile document or a syntax error, relative to the root, sorted. */
  files: string[];
}

/** Directory names never searched: dependencies and build output. Hidden directories are skipped as well. */
const SKIPPED_DIRS = new Set(["node_modules", "dist"]);
/** Text that marks a YAML file as (meant to be) a reconcile spec, to decide whether its syntax errors are ours. */
const LOOKS_LIKE_SPEC = new RegExp(
  `^\\s*(apiVersion:\\s*["']?reconcile/|kind:\\s*["']?(${SPEC_KINDS.join("|")})["']?\\s*$)`,
  "m",
);

/**
 * Every `*.yaml` / `*.yml` file under `root`, recursively, as sorted POSIX paths relative to `root`. Skips hidden
 * directories (`.git`, `.github`, `.reconcile`, ...), `node_modules`, `dist`, and the project configuration
 * (`reconcile.yaml` at the root). Symlinked files are read; symlinked directories are not followed (no loops).
 */
export async function findSpecFiles(root: string): Promise<string[]> {
  const found: string[] = [];
  async function walk(dir: string, rel: string): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      const relPath = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!entry.name.startsWith(".") && !SKIPPED_DIRS.has(entry.name)) {
          await walk(path.join(dir, entry.name), relPath);
        }
      } else if ((entry.isFile() || entry.isSymbolicLink()) && /\.ya?ml$/.test(entry.name)) {
        if (!(rel === "" && entry.name === PROJECT_CONFIG_FILE)) found.push(relPath);
      }
    }
  }
  await walk(root, "");
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Whether a document is a reconcile spec: its `apiVersion` starts with `reconcile/`, or it has no `apiVersion` and
 * its `kind` is one of ours (validate then reports the missing apiVersion). Kubernetes manifests, compose files and
 * other YAML are not.
 */
export function isReconcileDocument(data: unknown): data is Record<string, unknown> {
  if (data === null || typeof data !== "object" || Array.isArray(data)) return false;
  const { apiVersion, kind } = data as Record<string, unknown>;
  if (typeof apiVersion === "string") return apiVersion.startsWith("reconcile/");
  return apiVersion === undefined && typeof kind === "string" && (SPEC_KINDS as readonly string[]).includes(kind);
}

/**
 * Parses one spec file into its reconcile documents. YAML errors of the file are returned with their positions when
 * the file looks like a reconcile spec (other YAML, such as templated Helm charts, may be invalid without concern);
 * documents with errors are left out. YAML 1.2 core schema, with `<<` merge keys; duplicate keys are errors.
 */
export function parseSpecFile(
  file: string,
  absolutePath: string,
  text: string,
): { documents: LoadedDocument[]; errors: SpecError[] } {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter, prettyErrors: false, merge: true, uniqueKeys: true });
  const docs = Array.isArray(parsed) ? parsed : [];
  const documents: LoadedDocument[] = [];
  const errors: SpecError[] = [];
  const reportErrors = LOOKS_LIKE_SPEC.test(text);
  for (const [index, doc] of docs.entries()) {
    const source: SourceDocument = { file, doc, lineCounter };
    if (doc.errors.length > 0) {
      if (reportErrors) {
        for (const e of doc.errors) {
          errors.push({ location: locationAt(source, e.pos[0]), message: `invalid YAML: ${e.message}` });
        }
      }
      continue;
    }
    let data: unknown;
    try {
      data = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      errors.push({ location: documentLocation(source), message: `invalid YAML: ${(e as Error).message}` });
      continue;
    }
    if (isReconcileDocument(data)) {
      documents.push({ ...source, absolutePath, index, data, location: documentLocation(source) });
    }
  }
  return { documents, errors };
}

/**
 * Finds and parses every spec file under `root` (see `findSpecFiles`). Never throws for bad input: unreadable or
 * invalid files become errors. Throws only when `root` itself cannot be read.
 */
export async function loadSpecFiles(root: string): Promise<LoadResult> {
  const result: LoadResult = { documents: [], errors: [], files: [] };
  const files = await findSpecFiles(root);
  const texts = await Promise.all(
    files.map((file) => readFile(path.join(root, ...file.split("/")), "utf8").catch((e: unknown) => e as Error)),
  );
  for (const [i, file] of files.entries()) {
    const absolutePath = path.join(root, ...file.split("/"));
    const text = texts[i] as string | Error;
    if (typeof text !== "string") {
      const e = text;
      const reason = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      result.errors.push({ location: { file, line: 1, col: 1 }, message: `cannot read the file (${reason})` });
      result.files.push(file);
      continue;
    }
    const { documents, errors } = parseSpecFile(file, absolutePath, text);
    result.documents.push(...documents);
    result.errors.push(...errors);
    if (documents.length > 0 || errors.length > 0) result.files.push(file);
  }
  return result;
}
