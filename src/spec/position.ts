import { type Document, isAlias, isMap, isScalar, isSeq, type LineCounter, type Node } from "yaml";
import type { SourceLocation } from "./types.js";

/** A path into a document's data, as ajv's `instancePath` segments: map keys and list indexes. */
export type DataPath = ReadonlyArray<string | number>;

/** A parsed YAML document and what is needed to turn its nodes into `file:line:col`. */
export interface SourceDocument {
  /** The file, relative to the repository root, with POSIX separators. */
  file: string;
  /** The parsed document, when it was parsed in this thread; otherwise `tree` stands for it. */
  doc?: Document.Parsed;
  /** The document's positions without the document (parsed in a worker thread, see `documentTree`). */
  tree?: DocumentTree;
  /** Where the content starts, when neither `doc` nor `tree` is at hand (a document read from the parse cache). */
  start?: number;
  /** The document's positions computed on demand, when neither `doc` nor `tree` is at hand (the parse cache). */
  positions?: () => DocumentTree;
  lineCounter: LineCounter;
}

/**
 * The positions of a YAML node, as plain data that can cross threads (`postMessage` keeps shared references, so an
 * alias points at the very object of its anchor): where it starts, and its entries (map: key text, key position,
 * value) or items (sequence), or for an alias the node it resolves to.
 */
export interface PositionNode {
  at?: number;
  pairs?: Array<{ key?: string; keyAt?: number; value: PositionNode | null }>;
  items?: Array<PositionNode | null>;
  alias?: PositionNode | null;
}

/** A document's positions: where its content starts (`documentLocation`) and its root node. */
export interface DocumentTree {
  start: number;
  root: PositionNode | null;
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

/**
 * The positions of `doc` (see `PositionNode`): everything `locate` and `documentLocation` read, computed once per
 * node (an alias shares its anchor's node, so a "billion laughs" document stays linear).
 */
export function documentTree(doc: Document.Parsed): DocumentTree {
  const memo = new Map<unknown, PositionNode>();
  const convert = (node: unknown): PositionNode | null => {
    if (node === null || node === undefined) return null;
    const known = memo.get(node);
    if (known) return known;
    const out: PositionNode = {};
    const range = (node as { range?: [number, number, number] }).range;
    if (range) out.at = range[0];
    memo.set(node, out);
    if (isAlias(node)) out.alias = convert(node.resolve(doc) ?? null);
    else if (isMap(node)) {
      out.pairs = node.items.map((pair) => {
        const key = pair.key as Node | null;
        const entry: NonNullable<PositionNode["pairs"]>[number] = { value: convert(pair.value) };
        const text = keyText(key);
        if (text !== undefined) entry.key = text;
        if (key?.range) entry.keyAt = key.range[0];
        return entry;
      });
    } else if (isSeq(node)) out.items = node.items.map((item) => convert(item));
    return out;
  };
  return { start: doc.contents?.range[0] ?? doc.range[0], root: convert(doc.contents) };
}

/**
 * The positions of a document without its `doc`: parsed in a worker thread (`tree`), or read from the parse cache
 * (`positions`, computed on first use and kept); a programming error for any other.
 */
function treeOf(source: SourceDocument): DocumentTree {
  if (!source.tree && source.positions) source.tree = source.positions();
  if (!source.tree) throw new Error(`no positions for ${source.file}: neither its document nor its tree`);
  return source.tree;
}

/** `locate` on a document parsed in this thread: walks its nodes. */
function locateInDocument(
  source: SourceDocument,
  doc: Document.Parsed,
  path: DataPath,
  at: "key" | "value",
): SourceLocation {
  let node: Node | null | undefined = doc.contents as Node | null;
  let offset = node?.range?.[0] ?? doc.range[0];
  for (const [i, segment] of path.entries()) {
    if (isAlias(node)) node = node.resolve(doc) ?? null;
    if (isMap(node)) {
      const pair = node.items.find((p) => keyText(p.key) === String(segment));
      if (!pair) break;
      const key = pair.key as Node | null;
      const value = pair.value as Node | null;
      const isLast = i === path.length - 1;
      if (isLast && at === "key" && key?.range) return locationAt(source, key.range[0]);
      node = value;
      offset = value?.range?.[0] ?? key?.range?.[0] ?? offset;
    } else if (isSeq(node) && typeof segment === "number") {
      const item = node.items[segment] as Node | null | undefined;
      if (!item) break;
      node = item;
      offset = item.range?.[0] ?? offset;
    } else {
      break;
    }
  }
  return locationAt(source, offset);
}

/** The 1-based location of a character offset of the document's file. */
export function locationAt(source: SourceDocument, offset: number): SourceLocation {
  const { line, col } = source.lineCounter.linePos(offset);
  return { file: source.file, line, col };
}

/** Where the document's content starts (its first key), or the document itself when it is empty. */
export function documentLocation(source: SourceDocument): SourceLocation {
  if (source.doc) return locationAt(source, source.doc.contents?.range[0] ?? source.doc.range[0]);
  if (!source.tree && source.start !== undefined) return locationAt(source, source.start);
  return locationAt(source, treeOf(source).start);
}

/**
 * The location of the node at `path` in the document. With `at: "key"`, a path ending in a map key points at the key
 * (`foo:`), which is where an editor's cursor should go for "unknown field" or "missing field inside foo"; otherwise
 * it points at the value. A path that leaves the document (a key that is absent, an alias merged from elsewhere)
 * stops at the closest node that exists. Aliases are followed. A document parsed in a worker thread has only its
 * positions (`documentTree`), which are walked the same way (test/spec/parse-workers.test.ts checks both agree on
 * every path).
 */
export function locate(source: SourceDocument, path: DataPath, at: "key" | "value" = "value"): SourceLocation {
  if (source.doc) return locateInDocument(source, source.doc, path, at);
  const tree = treeOf(source);
  let node: PositionNode | null = tree.root;
  let offset = node?.at ?? tree.start;
  for (const [i, segment] of path.entries()) {
    if (node?.alias !== undefined) node = node.alias;
    if (node?.pairs) {
      const pair = node.pairs.find((p) => p.key === String(segment));
      if (!pair) break;
      if (i === path.length - 1 && at === "key" && pair.keyAt !== undefined) return locationAt(source, pair.keyAt);
      node = pair.value;
      offset = pair.value?.at ?? pair.keyAt ?? offset;
    } else if (node?.items && typeof segment === "number") {
      const item = node.items[segment];
      if (!item) break;
      node = item;
      offset = item.at ?? offset;
    } else {
      break;
    }
  }
  return locationAt(source, offset);
}

/**
 * Calls `visit` with every string value of `data` (map values and list items, not keys) and its path, depth first in
 * key order. The path is one array updated along the walk: copy it (`[...path]`) to keep it. Walks without a copy
 * per value, which mattered when loading a large repository (issue 10 item 6).
 */
export function eachString(data: unknown, visit: (value: string, path: ReadonlyArray<string | number>) => void): void {
  const path: Array<string | number> = [];
  const walk = (value: unknown): void => {
    if (typeof value === "string") visit(value, path);
    else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        path.push(i);
        walk(value[i]);
        path.pop();
      }
    } else if (value !== null && typeof value === "object") {
      for (const key of Object.keys(value)) {
        path.push(key);
        walk((value as Record<string, unknown>)[key]);
        path.pop();
      }
    }
  };
  walk(data);
}

/**
 * `config.networking.allowed_hosts[0]: message`, or just `message` at the document root. The path is the one a
 * reader of the YAML would write, not a JSON pointer.
 */
export function atPath(path: DataPath, message: string): string {
  if (path.length === 0) return message;
  let field = "";
  for (const segment of path) field += typeof segment === "number" ? `[${segment}]` : field ? `.${segment}` : segment;
  return `${field}: ${message}`;
}
