import { type Document, isAlias, isMap, isScalar, isSeq, type LineCounter, type Node } from "yaml";
import type { SourceLocation } from "./types.js";

/** A path into a document's data, as ajv's `instancePath` segments: map keys and list indexes. */
export type DataPath = ReadonlyArray<string | number>;

/** A parsed YAML document and what is needed to turn its nodes into `file:line:col`. */
export interface SourceDocument {
  /** The file, relative to the repository root, with POSIX separators. */
  file: string;
  doc: Document.Parsed;
  lineCounter: LineCounter;
}

/** The 1-based location of a character offset of the document's file. */
export function locationAt(source: SourceDocument, offset: number): SourceLocation {
  const { line, col } = source.lineCounter.linePos(offset);
  return { file: source.file, line, col };
}

/** Where the document's content starts (its first key), or the document itself when it is empty. */
export function documentLocation(source: SourceDocument): SourceLocation {
  const start = source.doc.contents?.range[0] ?? source.doc.range[0];
  return locationAt(source, start);
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

/**
 * The location of the node at `path` in the document. With `at: "key"`, a path ending in a map key points at the key
 * (`foo:`), which is where an editor's cursor should go for "unknown field" or "missing field inside foo"; otherwise
 * it points at the value. A path that leaves the document (a key that is absent, an alias merged from elsewhere)
 * stops at the closest node that exists. Aliases are followed.
 */
export function locate(source: SourceDocument, path: DataPath, at: "key" | "value" = "value"): SourceLocation {
  const { doc } = source;
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
