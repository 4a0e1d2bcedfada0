/**
 * The parse cache: what parsing each spec file gave, kept between runs in `.reconcile/cache/parse.v8` under the
 * repository root, keyed by the SHA-256 of the file's text, so that a plan over unchanged files does not parse them
 * again (issue 10 item 6: on the benchmark fleet, parsing is most of what loading costs, and loading most of what a
 * no-op plan costs). ADR 27 explains the choice; it follows the content-hash caches of ESLint (`--cache-strategy
 * content`) and Prettier (`--cache`).
 *
 * What is kept: for a file whose every document parsed without error, each document's data (`toJS`), where its
 * content starts, where the file's lines start, and the positions of its nodes (`DocumentTree`, serialized apart and
 * read only when a location inside the document is asked for: `positions` of `SourceDocument`). Files with a syntax
 * or `toJS` error are not kept: they are parsed every time. The data is what the file says before `${var:...}`
 * substitution and before secrets are read, so the cache holds no secret value that the repository does not hold.
 *
 * The file is written with `v8.serialize` (exact for every value YAML yields: `.nan`, `.inf`, `-0`, shared anchors),
 * in one write to a temporary file renamed over the old one, so that two runs at once or a run killed mid-write leave
 * either the old cache or the new one. A cache that cannot be read (absent, truncated, edited, from another
 * version of reconcile, of the `yaml` library or of Node.js) is ignored and rewritten; one that cannot be written
 * (read-only checkout) is skipped. Entries not used by a run are dropped when it writes, so the file holds the
 * current files only.
 *
 * Trust: the cache is as trusted as the working tree it sits in (anyone who can write `.reconcile/` can edit the
 * specs). Do not restore `.reconcile/` from an untrusted source (a CI cache a pull request could write): set
 * `RECONCILE_PARSE_CACHE=off` there. `reconcile github` commands never use it.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { deserialize, serialize } from "node:v8";
import { PARSE_OPTIONS, type ParsedYamlFile, TO_JS_OPTIONS } from "./parse.js";
import { type DocumentTree, documentTree } from "./position.js";

/** The cache file, relative to the repository root. */
export const PARSE_CACHE_FILE = path.join(".reconcile", "cache", "parse.v8");

/** The environment variable that turns the cache off (`off`, `0`, `false`, `no`); any other value leaves it on. */
export const PARSE_CACHE_ENV = "RECONCILE_PARSE_CACHE";

/** Bumped when what is cached changes, or how it is parsed changes beyond `PARSE_OPTIONS` and `TO_JS_OPTIONS`. */
const FORMAT = 1;

/**
 * One cached file: what `parseYamlText` gave. The positions inside its documents (`DocumentTree`s, one per document)
 * are kept serialized apart, and read only when an error or a source location needs them.
 */
export interface CachedFile {
  lineStarts: number[];
  documents: Array<{ data: unknown; start: number }>;
  /** `v8.serialize` of the documents' `DocumentTree`s, in document order. */
  positions: Uint8Array;
}

interface CacheFileContent {
  format: number;
  /** What the entries depend on: the `yaml` library's version and options, and Node.js's (for `v8.serialize`). */
  versions: string;
  entries: Record<string, CachedFile>;
}

const yamlVersion = (): string => {
  try {
    return String((createRequire(import.meta.url)("yaml/package.json") as { version?: string }).version);
  } catch {
    return "unknown";
  }
};

/** What the entries depend on besides the text: the parser, its options, and `v8.serialize`'s Node.js. */
const VERSIONS = `yaml ${yamlVersion()} ${JSON.stringify(PARSE_OPTIONS)} ${JSON.stringify(TO_JS_OPTIONS)}; node ${process.versions.node}`;

/** True unless `RECONCILE_PARSE_CACHE` turns the cache off. */
export function parseCacheEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env[PARSE_CACHE_ENV]?.trim().toLowerCase();
  return !(value === "off" || value === "0" || value === "false" || value === "no");
}

/** The cache key of a file's text: its SHA-256, hex. */
export function textKey(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * What one parsed file becomes in the cache, or undefined when it is not cached: a file with any syntax or `toJS`
 * error, or a document without data or start (an empty file has no documents and is cached as such).
 */
export function toCached(parsed: ParsedYamlFile): CachedFile | undefined {
  const documents: CachedFile["documents"] = [];
  const trees: DocumentTree[] = [];
  for (const document of parsed.documents) {
    if (document.errors.length > 0 || document.toJsError !== undefined) return undefined;
    const tree = document.tree ?? (document.doc ? documentTree(document.doc) : undefined);
    if (!tree) return undefined;
    trees.push(tree);
    documents.push({ data: document.data ?? null, start: tree.start });
  }
  return { lineStarts: [...parsed.lineStarts], documents, positions: serialize(trees) };
}

/**
 * The positions of the documents of a cached file (`CachedFile.positions`), one per document, or undefined when they
 * cannot be read (an edited cache): the caller then parses the file again.
 */
export function cachedPositions(entry: CachedFile): DocumentTree[] | undefined {
  try {
    const trees = deserialize(entry.positions) as unknown;
    const valid =
      Array.isArray(trees) &&
      trees.length === entry.documents.length &&
      trees.every((t) => isRecord(t) && Number.isInteger(t.start));
    return valid ? (trees as DocumentTree[]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The parse cache of one repository (see the module comment). `open` reads it; `get` answers a text's entry and
 * marks it used; `put` adds one; `save` writes the used entries back when anything changed.
 */
export class ParseCache {
  private readonly used = new Map<string, CachedFile>();
  private changed = false;

  private constructor(
    private readonly file: string,
    private readonly entries: Record<string, CachedFile>,
  ) {}

  /**
   * Reads the cache of the repository at `root` (absolute). Never throws: an absent or unreadable cache is empty, and
   * counts as changed so that `save` rewrites it.
   */
  static open(root: string): ParseCache {
    const file = path.join(root, PARSE_CACHE_FILE);
    let entries: Record<string, CachedFile> | undefined;
    try {
      const content = deserialize(readFileSync(file)) as Partial<CacheFileContent> | null;
      if (content?.format === FORMAT && content.versions === VERSIONS && isRecord(content.entries)) {
        entries = content.entries;
      }
    } catch {
      // absent, truncated, edited or from another version: start empty
    }
    const cache = new ParseCache(file, entries ?? {});
    if (!entries) cache.changed = true;
    return cache;
  }

  /** The entry for a text whose key (`textKey`) is `key`, if the cache has a well-formed one. */
  get(key: string): CachedFile | undefined {
    const entry = Object.hasOwn(this.entries, key) ? this.entries[key] : undefined;
    if (!isCachedFile(entry)) return undefined;
    this.used.set(key, entry);
    return entry;
  }

  /** Records what parsing the text of key `key` gave (ignored when `toCached` does not cache it). */
  put(key: string, parsed: ParsedYamlFile): void {
    const entry = toCached(parsed);
    if (!entry) return;
    this.used.set(key, entry);
    this.changed = true;
  }

  /**
   * Writes the entries used since `open` (dropping the others) when something changed. Never throws: a cache that
   * cannot be written is skipped (the next run parses again).
   */
  async save(): Promise<void> {
    if (!this.changed && this.used.size === Object.keys(this.entries).length) return;
    const content: CacheFileContent = { format: FORMAT, versions: VERSIONS, entries: Object.fromEntries(this.used) };
    const temporary = `${this.file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      await mkdir(path.dirname(this.file), { recursive: true });
      await writeFile(temporary, serialize(content));
      await rename(temporary, this.file);
    } catch {
      await rm(temporary, { force: true }).catch(() => {});
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The shape of an entry, checked on use: a cache edited by hand must not throw later. */
function isCachedFile(value: unknown): value is CachedFile {
  if (!isRecord(value) || !Array.isArray(value.lineStarts) || !Array.isArray(value.documents)) return false;
  return (
    value.lineStarts.every((n) => Number.isInteger(n)) &&
    value.positions instanceof Uint8Array &&
    value.documents.every((d) => isRecord(d) && Number.isInteger(d.start) && "data" in d)
  );
}
