/**
 * The parse cache: what parsing each spec file gave, kept between runs so that a plan over unchanged files does not
 * parse them again (issue 10 item 6: on the benchmark fleet, parsing is most of what loading costs, and loading most
 * of what a no-op plan costs). Keyed by the SHA-256 of each file's bytes, as ESLint's `--cache-strategy content` and
 * Prettier's `--cache`. ADR 27 explains the choice.
 *
 * Where: one file per repository, in the user's cache directory (`parseCacheFile`:
 * `$RECONCILE_CACHE_DIR`, else `$XDG_CACHE_HOME/reconcile`, else `~/.cache/reconcile` (`%LOCALAPPDATA%\reconcile` on
 * Windows), then `parse/<hash of the repository's real path>.v8`), never inside the repository: a cache file
 * committed to a branch, or a `.reconcile` symlink, must not be able to make reconcile read something other than the
 * files (a pull request could otherwise show one spec and plan another).
 *
 * What is kept: for a file whose every document parsed without error, each document's data (`toJS`), where its
 * content starts, where the file's lines start, and the positions of its nodes (`DocumentTree`, serialized apart and
 * read only when a location inside the document is asked for: `positions` of `SourceDocument`). Files with a syntax
 * or `toJS` error are not kept: they are parsed every time. The data is what the file says before `${var:...}`
 * substitution and before secrets are read, so the cache holds no secret value that the repository does not hold.
 *
 * The file is written with `v8.serialize`. Each file's data is stored as JSON text, read with `JSON.parse` only when
 * the file is asked for (about twice as fast as `v8.deserialize` of the same values, and spread over the load's time
 * slices instead of one pause at open); data JSON cannot hold exactly (`.nan`, `.inf`, `-0`, an anchor's value
 * shared by aliases) is stored as the values themselves, which `v8.serialize` keeps exactly. The file is written
 * in one write to a temporary file renamed over the old one, so that two runs at once or a run killed mid-write leave
 * either the old cache or the new one. A cache that cannot be read (absent, truncated, edited, from another
 * version of reconcile, of the `yaml` library or of Node.js) is ignored and rewritten; one that cannot be written
 * (no home directory, read-only) is skipped. Entries not used by a run are dropped when it writes, so the file holds
 * the current files only; when a repository's cache is first written, the caches of repositories not planned for
 * `STALE_DAYS` days are removed.
 *
 * `RECONCILE_PARSE_CACHE=off` turns it off; the GitHub commands never use it (fresh checkouts, and a CI cache a pull
 * request could write is not trusted).
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import path from "node:path";
import { deserialize, serialize } from "node:v8";
import { PARSE_OPTIONS, type ParsedYamlFile, TO_JS_OPTIONS } from "./parse.js";
import { type DocumentTree, documentTree } from "./position.js";

/** The environment variable that turns the cache off (`off`, `0`, `false`, `no`); any other value leaves it on. */
export const PARSE_CACHE_ENV = "RECONCILE_PARSE_CACHE";

/** The environment variable that names reconcile's cache directory (default: see `cacheDirectory`). */
export const CACHE_DIR_ENV = "RECONCILE_CACHE_DIR";

/** Caches of repositories not planned for this many days are removed (see the module comment). */
const STALE_DAYS = 30;

/**
 * reconcile's cache directory: `$RECONCILE_CACHE_DIR`; else `$XDG_CACHE_HOME/reconcile` (the XDG base directory
 * convention); else `%LOCALAPPDATA%\reconcile` on Windows; else `~/.cache/reconcile`. Undefined when none can be
 * found (no home directory): the cache is then off.
 */
export function cacheDirectory(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env[CACHE_DIR_ENV]) return path.resolve(env[CACHE_DIR_ENV]);
  if (env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME)) return path.join(env.XDG_CACHE_HOME, "reconcile");
  if (process.platform === "win32" && env.LOCALAPPDATA) return path.join(env.LOCALAPPDATA, "reconcile");
  let home = "";
  try {
    home = homedir();
  } catch {
    return undefined;
  }
  return home ? path.join(home, ".cache", "reconcile") : undefined;
}

/**
 * The parse cache file of the repository at `root`: `<cacheDirectory>/parse/<first 32 hex digits of the SHA-256 of
 * the root's real path>.v8`, or undefined when there is no cache directory.
 */
export function parseCacheFile(root: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const directory = cacheDirectory(env);
  if (!directory) return undefined;
  let real = path.resolve(root);
  try {
    real = realpathSync(real);
  } catch {
    // a root that cannot be resolved is hashed as given
  }
  return path.join(directory, "parse", `${createHash("sha256").update(real).digest("hex").slice(0, 32)}.v8`);
}

/**
 * Bumped when what is cached changes, or how it is parsed changes beyond `PARSE_OPTIONS` and `TO_JS_OPTIONS`, between
 * two builds of one version of reconcile (`VERSIONS` covers releases).
 */
const FORMAT = 2;

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

/**
 * A cached file as stored: its lines and documents as JSON text (`json`, see `jsonExact`) and its positions, or, for
 * data JSON cannot hold exactly, the `CachedFile` itself.
 */
type StoredFile = { json: string; positions: Uint8Array } | CachedFile;

interface CacheFileContent {
  format: number;
  /** What the entries depend on (`VERSIONS`). */
  versions: string;
  entries: Record<string, StoredFile>;
}

/**
 * True when `JSON.parse(JSON.stringify(value))` gives `value` back exactly, as a tree: only strings, booleans, null,
 * finite numbers other than `-0`, arrays and plain objects, and no object reached twice (an anchor's value that
 * aliases share; as JSON text it would be repeated, and a file of nested aliases could grow without bound).
 */
export function jsonExact(value: unknown, seen: Set<object> = new Set()): boolean {
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value) && !Object.is(value, -0);
  if (typeof value !== "object" || seen.has(value)) return false;
  seen.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!(i in value) || !jsonExact(value[i], seen)) return false;
    return true;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  for (const key of Object.keys(value)) {
    if (key === "__proto__" || !jsonExact((value as Record<string, unknown>)[key], seen)) return false;
  }
  return true;
}

/** How `entry` is stored: as JSON text when its data allows (`jsonExact`), else as it is. */
function toStored(entry: CachedFile): StoredFile {
  const { lineStarts, documents, positions } = entry;
  return jsonExact(documents.map((d) => d.data))
    ? { json: JSON.stringify({ lineStarts, documents }), positions }
    : entry;
}

/** The `CachedFile` a stored entry holds, or undefined when it is not well formed (an edited cache). */
function fromStored(stored: unknown): CachedFile | undefined {
  if (isRecord(stored) && typeof stored.json === "string") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(stored.json);
    } catch {
      return undefined;
    }
    if (!isRecord(parsed)) return undefined;
    const entry = { lineStarts: parsed.lineStarts, documents: parsed.documents, positions: stored.positions };
    return isCachedFile(entry) ? entry : undefined;
  }
  return isCachedFile(stored) ? stored : undefined;
}

/** The `version` of a package.json `require` can resolve from here, or `unknown`. */
const versionOf = (specifier: string): string => {
  try {
    return String((createRequire(import.meta.url)(specifier) as { version?: string }).version);
  } catch {
    return "unknown";
  }
};

/**
 * What the entries depend on besides the text: reconcile's own version (which fixes the shape of what is cached),
 * the parser's version and options, and the Node.js whose `v8.serialize` wrote them. From `src/spec` and
 * `dist/spec` alike, the package's own package.json is two folders up.
 */
const VERSIONS = [
  `reconcile ${versionOf("../../package.json")}`,
  `yaml ${versionOf("yaml/package.json")} ${JSON.stringify(PARSE_OPTIONS)} ${JSON.stringify(TO_JS_OPTIONS)}`,
  `node ${process.versions.node}`,
].join("; ");

/** True unless `RECONCILE_PARSE_CACHE` turns the cache off. */
export function parseCacheEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env[PARSE_CACHE_ENV]?.trim().toLowerCase();
  return !(value === "off" || value === "0" || value === "false" || value === "no");
}

/**
 * The cache key of a file: the SHA-256 of its bytes, hex (of a string: of its UTF-8 encoding, which is the same key
 * for a file without a byte-order mark).
 */
export function textKey(content: string | Uint8Array): string {
  return createHash("sha256").update(content).digest("hex");
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
  /** The entries used since `open`, as stored: what `save` writes. */
  private readonly used = new Map<string, StoredFile>();
  private changed = false;

  private constructor(
    private readonly file: string,
    private readonly entries: Record<string, StoredFile>,
  ) {}

  /**
   * Reads the cache of the repository at `root` (`parseCacheFile`). Never throws: an absent or unreadable cache is
   * empty, and counts as changed so that `save` rewrites it. Undefined when there is no cache directory.
   */
  static open(root: string, env: NodeJS.ProcessEnv = process.env): ParseCache | undefined {
    const file = parseCacheFile(root, env);
    if (!file) return undefined;
    let entries: Record<string, StoredFile> | undefined;
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
    const stored = Object.hasOwn(this.entries, key) ? this.entries[key] : undefined;
    const entry = fromStored(stored);
    if (!entry) return undefined;
    this.used.set(key, stored as StoredFile);
    return entry;
  }

  /** Records what parsing the text of key `key` gave (ignored when `toCached` does not cache it). */
  put(key: string, parsed: ParsedYamlFile): void {
    const entry = toCached(parsed);
    if (!entry) return;
    this.used.set(key, toStored(entry));
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
    const first = !existsSync(this.file);
    try {
      await mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
      await writeFile(temporary, serialize(content), { mode: 0o600 });
      await rename(temporary, this.file);
    } catch {
      await rm(temporary, { force: true }).catch(() => {});
      return;
    }
    if (first) await removeStale(path.dirname(this.file));
  }
}

/**
 * Removes the cache files (and temporary files left by a killed run) in `directory` not modified for `STALE_DAYS`
 * days. Never throws.
 */
async function removeStale(directory: string): Promise<void> {
  const before = Date.now() - STALE_DAYS * 24 * 60 * 60 * 1000;
  try {
    for (const name of await readdir(directory)) {
      if (!/\.v8(\.[\w.]+\.tmp)?$/.test(name)) continue;
      const file = path.join(directory, name);
      const info = await stat(file).catch(() => undefined);
      if (info?.isFile() && info.mtimeMs < before) await rm(file, { force: true }).catch(() => {});
    }
  } catch {
    // an unreadable directory is left alone
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
