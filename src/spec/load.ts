import { existsSync, readFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import picomatch from "picomatch";
import { LineCounter } from "yaml";
import { BARE_VERSION, classifyApiVersion } from "./api-version.js";
import { lineCounterOf, type ParsedYamlFile, parseYamlText } from "./parse.js";
import { type CachedFile, cachedPositions, ParseCache, parseCacheEnabled, textKey } from "./parse-cache.js";
import { parseYamlTexts } from "./parse-pool.js";
import { type DocumentTree, documentLocation, locationAt, type SourceDocument } from "./position.js";
import { type IgnoreEntry, PROJECT_CONFIG_FILE } from "./project-config.js";
import { timeSlices } from "./slices.js";
import { decodeUtf8 } from "./text.js";
import { API_VERSION, type SourceLocation, SPEC_KINDS, type SpecError } from "./types.js";

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
  /**
   * Every file that could not be read as specs: unreadable, not UTF-8, YAML syntax errors, documents that are not a
   * mapping, documents that are neither a spec nor a foreign manifest, ignored files that hold a spec.
   */
  errors: SpecError[];
  /** The files that hold at least one reconcile document or an error, relative to the root, sorted. */
  files: string[];
}

/** Options of `loadSpecFiles`. */
export interface LoadFilesOptions {
  /** `ignore:` of `reconcile.yaml`: files that are not specs. */
  ignore?: readonly IgnoreEntry[];
  /**
   * Whether to use the parse cache of the root (`parse-cache.ts`): read what unchanged files gave last time, and
   * record what the others give. Default: on unless `RECONCILE_PARSE_CACHE=off`.
   */
  parseCache?: boolean;
}

/** Directory names never searched: dependencies and build output. Hidden directories are skipped as well. */
const SKIPPED_DIRS = new Set(["node_modules", "dist"]);

/** What to tell the author of a YAML file that is not a spec. */
const IGNORE_HINT = `if this file is not a reconcile spec, list it under ignore: in ${PROJECT_CONFIG_FILE}`;

/**
 * Every `*.yaml` / `*.yml` file (extension in any case) under `root`, recursively, as sorted POSIX paths relative to
 * `root`; hidden files are listed (`loadSpecFiles` skips them, checking they hold no spec). Skips hidden
 * directories (`.git`, `.github`, `.reconcile`, ...), `node_modules`, `dist`, and the project configuration
 * (`reconcile.yaml` at the root), and directories below the root that hold their own `reconcile.yaml` (another
 * project: a nested repository, a test fixture, another stack in a monorepo). Symlinked files are read; symlinked directories are not followed (no loops).
 */
export async function findSpecFiles(root: string): Promise<string[]> {
  const found: string[] = [];
  async function walk(dir: string, rel: string): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      const relPath = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        const nested = existsSync(path.join(dir, entry.name, PROJECT_CONFIG_FILE)); // another repository's root
        if (!entry.name.startsWith(".") && !SKIPPED_DIRS.has(entry.name) && !nested) {
          await walk(path.join(dir, entry.name), relPath);
        }
      } else if ((entry.isFile() || entry.isSymbolicLink()) && /\.ya?ml$/i.test(entry.name)) {
        if (!(rel === "" && entry.name === PROJECT_CONFIG_FILE)) found.push(relPath);
      }
    }
  }
  await walk(root, "");
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The `ignore:` entry that matches `file` (a POSIX path relative to the root), if any. An entry is a picomatch glob
 * matched against the whole path (`k8s/**`, `docker-compose*.yml`); an entry that names a
 * folder (`charts`, `charts/`) also matches everything under it, as in `.gitignore`. Dot files match too.
 */
export function isIgnored(file: string, ignore: readonly IgnoreEntry[]): IgnoreEntry | undefined {
  return ignore.find((entry) => {
    const pattern = entry.pattern.replace(/\/+$/, "");
    return picomatch.isMatch(file, [pattern, `${pattern}/**`], { dot: true });
  });
}

/** What one parsed document is to the loader. */
export type DocumentClass =
  /** A reconcile document (maybe invalid: validate reports why), or a near miss that validate reports. */
  | { type: "spec" }
  /** An empty document (`---` with nothing, only comments, or `null`). */
  | { type: "empty" }
  /** Another tool's manifest: its `apiVersion` is clearly not ours. */
  | { type: "foreign" }
  /** Not a mapping, or a mapping with neither `apiVersion` nor `kind`: an error, with its message. */
  | { type: "error"; message: string };

function describeValue(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (typeof value === "string") return "a string";
  return `a ${typeof value}`;
}

/**
 * Sorts a parsed document (`data`, from `toJS`) into spec, empty, foreign or error, so that no document reconcile
 * could misread is ever silently left out (DESIGN.md, "Identity typos fail closed": a spec left out would look like
 * a removal, and prune would archive its resource).
 * - `null` (an empty document) is empty;
 * - anything but a mapping (a list, a string, a number) is an error;
 * - a mapping whose `apiVersion` is a string is foreign when `classifyApiVersion` says so, except a bare core
 *   version (`v1`) with one of our kinds, which reads as a forgotten `reconcile/`; otherwise it is a spec;
 * - a mapping with a non-string `apiVersion`, or with a `kind` but no `apiVersion`, is a spec (validate reports the
 *   apiVersion); one with neither `apiVersion` nor `kind` is an error.
 * `kind` alone never makes a document foreign: other tools use our kind names (`Agent`, `Deployment`).
 */
export function classifyDocument(data: unknown): DocumentClass {
  if (data === null || data === undefined) return { type: "empty" };
  if (typeof data !== "object" || Array.isArray(data)) {
    return {
      type: "error",
      message: `a spec is a mapping that starts with "apiVersion: ${API_VERSION}" and a kind, but this document is ${describeValue(data)}; ${IGNORE_HINT}`,
    };
  }
  const { apiVersion, kind } = data as Record<string, unknown>;
  if (typeof apiVersion === "string") {
    const group = classifyApiVersion(apiVersion);
    if (group !== "foreign") return { type: "spec" };
    const ours = typeof kind === "string" && (SPEC_KINDS as readonly string[]).includes(kind);
    return ours && BARE_VERSION.test(apiVersion.trim().toLowerCase()) ? { type: "spec" } : { type: "foreign" };
  }
  if (apiVersion !== undefined || kind !== undefined) return { type: "spec" };
  return {
    type: "error",
    message: `not a reconcile spec: the document has neither apiVersion nor kind (a spec starts with "apiVersion: ${API_VERSION}" and a kind); ${IGNORE_HINT}`,
  };
}

/**
 * Parses one spec file into its reconcile documents. Every YAML syntax error is reported at its position (a file
 * reconcile cannot read must never pass for one without specs), and so is every document `classifyDocument` refuses;
 * foreign documents and empty ones are skipped; documents with errors are left out. YAML 1.2 core schema, with `<<`
 * merge keys; duplicate keys are errors. `text` is the decoded file (see `decodeUtf8`).
 */
export function parseSpecFile(
  file: string,
  absolutePath: string,
  text: string,
): { documents: LoadedDocument[]; errors: SpecError[] } {
  return specDocuments(file, absolutePath, parseYamlText(text, false));
}

/**
 * What reconcile makes of a parsed file (`parseYamlText`, here or in a worker thread): its reconcile documents and
 * the errors, as `parseSpecFile` describes.
 */
export function specDocuments(
  file: string,
  absolutePath: string,
  parsed: ParsedYamlFile,
): { documents: LoadedDocument[]; errors: SpecError[] } {
  const lineCounter = lineCounterOf(parsed.lineStarts);
  const documents: LoadedDocument[] = [];
  const errors: SpecError[] = [];
  for (const [index, yaml] of parsed.documents.entries()) {
    // Built field by field and completed in place below (no spread copies: this runs for every document of every
    // file on every load).
    const source: SourceDocument = { file, lineCounter };
    if (yaml.doc) source.doc = yaml.doc;
    if (yaml.tree) source.tree = yaml.tree;
    if (yaml.start !== undefined) source.start = yaml.start;
    if (yaml.positions) source.positions = yaml.positions;
    if (yaml.errors.length > 0) {
      for (const e of yaml.errors) {
        errors.push({ location: locationAt(source, e.pos), message: `invalid YAML: ${e.message}` });
      }
      continue;
    }
    if (yaml.toJsError !== undefined) {
      errors.push({ location: documentLocation(source), message: `invalid YAML: ${yaml.toJsError}` });
      continue;
    }
    const { data } = yaml;
    const kind = classifyDocument(data);
    if (kind.type === "error") errors.push({ location: documentLocation(source), message: kind.message });
    if (kind.type === "spec") {
      const location = documentLocation(source);
      documents.push(Object.assign(source, { absolutePath, index, data: data as Record<string, unknown>, location }));
    }
  }
  return { documents, errors };
}

/** `apiVersion: value` anywhere in a text, in block or flow style, with the key quoted or not, any case. */
const API_VERSION_TEXT = /(?:^|[\s{,])["']?apiversion["']?[ \t]*:[ \t]*["']?([^\s"',{}[\]#]+)/gi;

/** Why a file is not parsed: an `ignore:` entry, or a hidden file name. */
export type SkipReason = { type: "ignore"; entry: IgnoreEntry } | { type: "hidden" };

/** What to do about a skipped file that holds a reconcile document. */
function unskip(reason: SkipReason): string {
  if (reason.type === "hidden") {
    return 'is a hidden file (reconcile does not read files whose name starts with "."): rename it';
  }
  const { pattern, source } = reason.entry;
  return `is ignored by "${pattern}" (${source.file}:${source.line}:${source.col}): narrow the ignore: pattern`;
}

/**
 * The reconcile documents a skipped file (ignored, or hidden) seems to hold, found in its text (it need not be valid
 * YAML: Helm templates are not): each `apiVersion:` whose value `classifyApiVersion` does not call foreign is an
 * error at its position, saying why the file was skipped. Skipping must never hide a spec, or its resource would be
 * pruned.
 */
export function skippedSpecErrors(file: string, text: string, reason: SkipReason): SpecError[] {
  const lineCounter = new LineCounter();
  let offset = 0;
  for (const line of text.split("\n")) {
    lineCounter.addNewLine(offset);
    offset += line.length + 1;
  }
  const errors: SpecError[] = [];
  for (const match of text.matchAll(API_VERSION_TEXT)) {
    const value = match[1] ?? "";
    if (classifyApiVersion(value) === "foreign") continue;
    const at = (match.index ?? 0) + match[0].search(/["']?apiversion/i);
    const { line, col } = lineCounter.linePos(at);
    errors.push({
      location: { file, line, col },
      message: `this file holds a reconcile document (apiVersion: ${value}) but ${unskip(reason)}, or its specs would be left out and their resources pruned`,
    });
  }
  return errors;
}

/** What a spec file's bytes gave: its parsed YAML, or why they are not text (`decodeUtf8`). */
type ParseOutcome = { parsed: ParsedYamlFile } | { notText: string };

/**
 * Decodes and parses `files` (the bytes of each spec file; `decodeUtf8`, then `parseYamlTexts`), taking from the
 * root's parse cache what unchanged files gave last time when `useCache`, and recording the others (see
 * `parse-cache.ts`). The cache is keyed by the bytes, so a file it holds is neither decoded nor hashed as text. The
 * results are the same as without the cache, except that a document read from it carries `start` and `positions`
 * (computed on demand) instead of its `doc` or `tree`.
 */
async function parseWithCache(root: string, files: readonly Uint8Array[], useCache: boolean): Promise<ParseOutcome[]> {
  const cache = useCache ? ParseCache.open(root) : undefined;
  const pause = timeSlices();
  const keys: string[] = [];
  const out: Array<ParseOutcome | undefined> = [];
  for (const bytes of files) {
    const key = cache ? textKey(bytes) : "";
    const entry = cache?.get(key);
    keys.push(key);
    out.push(entry ? { parsed: fromCache(entry, bytes) } : undefined);
    await pause();
  }
  const texts: string[] = [];
  const missing: number[] = [];
  for (const [i, bytes] of files.entries()) {
    if (out[i]) continue;
    const decoded = decodeUtf8(bytes);
    if (decoded.ok) {
      missing.push(i);
      texts.push(decoded.text);
    } else out[i] = { notText: decoded.message };
  }
  const parsed = await parseYamlTexts(texts);
  for (const [n, i] of missing.entries()) {
    const file = parsed[n] as ParsedYamlFile;
    out[i] = { parsed: file };
    cache?.put(keys[i] as string, file);
  }
  await cache?.save();
  return out as ParseOutcome[];
}

/**
 * A file read from the parse cache, whose documents' positions are read from it when asked (or, when the cache's
 * positions cannot be read, from parsing the file's bytes again).
 */
function fromCache(entry: CachedFile, bytes: Uint8Array): ParsedYamlFile {
  let trees: Array<DocumentTree | undefined> | undefined;
  const reparse = () => {
    const decoded = decodeUtf8(bytes);
    return decoded.ok ? parseYamlText(decoded.text, true).documents.map((d) => d.tree) : [];
  };
  return {
    lineStarts: entry.lineStarts,
    documents: entry.documents.map(({ data, start }, index) => ({
      data,
      errors: [],
      start,
      positions: () => {
        trees ??= cachedPositions(entry) ?? reparse();
        return trees[index] ?? { start, root: null };
      },
    })),
  };
}

/**
 * Finds and parses every spec file under `root` (see `findSpecFiles`). A file an `ignore` entry matches, and a
 * hidden file (`.pre-commit-config.yaml`, `.gitlab-ci.yml`), is not parsed, only searched for reconcile documents
 * (see `skippedSpecErrors`). Large repositories are parsed in worker threads (`parseYamlTexts`), with the same
 * documents, errors and locations. Never throws for bad input: unreadable files, files that are not UTF-8 text, and
 * invalid files become errors. Throws only when `root` cannot be read.
 */
export async function loadSpecFiles(root: string, options: LoadFilesOptions = {}): Promise<LoadResult> {
  const ignore = options.ignore ?? [];
  const result: LoadResult = { documents: [], errors: [], files: [] };
  const files = await findSpecFiles(root);
  // Read one after another, synchronously: for many small files this is several times faster than as many
  // concurrent reads on libuv's thread pool (measured on the benchmark fleet); the event loop turns between slices.
  const pause = timeSlices();
  const contents: Array<Buffer | Error> = [];
  for (const file of files) {
    try {
      contents.push(readFileSync(path.join(root, ...file.split("/"))));
    } catch (error) {
      contents.push(error as Error);
    }
    await pause();
  }
  /** Per file, in order: its errors without parsing, or the index of its bytes in `inputs`. */
  const outcomes: Array<{ errors: SpecError[] } | { input: number }> = [];
  const inputs: Uint8Array[] = [];
  for (const [i, file] of files.entries()) {
    const bytes = contents[i] as Buffer | Error;
    const fail = (message: string) => outcomes.push({ errors: [{ location: { file, line: 1, col: 1 }, message }] });
    const entry = isIgnored(file, ignore);
    const skip: SkipReason | undefined = entry
      ? { type: "ignore", entry }
      : path.posix.basename(file).startsWith(".")
        ? { type: "hidden" }
        : undefined;
    if (skip) {
      outcomes.push({
        errors: bytes instanceof Error ? [] : skippedSpecErrors(file, new TextDecoder().decode(bytes), skip),
      });
      continue;
    }
    if (bytes instanceof Error) {
      const reason = (bytes as NodeJS.ErrnoException).code ?? bytes.message;
      fail(`cannot read the file (${reason})`);
      continue;
    }
    outcomes.push({ input: inputs.length });
    inputs.push(bytes);
  }
  const parsed = await parseWithCache(root, inputs, options.parseCache ?? parseCacheEnabled());
  for (const [i, file] of files.entries()) {
    const outcome = outcomes[i] as { errors: SpecError[] } | { input: number };
    if ("errors" in outcome) {
      result.errors.push(...outcome.errors);
      if (outcome.errors.length > 0) result.files.push(file);
      continue;
    }
    const got = parsed[outcome.input] as ParseOutcome;
    if ("notText" in got) {
      result.errors.push({ location: { file, line: 1, col: 1 }, message: `the file ${got.notText}; ${IGNORE_HINT}` });
      result.files.push(file);
      continue;
    }
    await pause();
    const absolutePath = path.join(root, ...file.split("/"));
    const { documents, errors } = specDocuments(file, absolutePath, got.parsed);
    result.documents.push(...documents);
    result.errors.push(...errors);
    if (documents.length > 0 || errors.length > 0) result.files.push(file);
  }
  return result;
}
