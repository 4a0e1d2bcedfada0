/**
 * The YAML half of reading a spec file, apart from what reconcile makes of the documents (load.ts), so that it can
 * run in a worker thread (parse-pool.ts) as well as here, with the same results. YAML 1.2 core schema, `<<` merge
 * keys, duplicate keys as errors, at most 100 alias expansions per document.
 */
import { type Document, LineCounter, parseAllDocuments } from "yaml";
import { type DocumentTree, documentTree } from "./position.js";

/** One document of a file, as the YAML library read it. */
export interface ParsedYamlDocument {
  /** The document itself (parsed in this thread), or only its positions (`detached`). */
  doc?: Document.Parsed;
  tree?: DocumentTree;
  /** Syntax errors, each at its character offset. When there are any, `data` is absent. */
  errors: Array<{ pos: number; message: string }>;
  /** The document as plain data (`toJS`), when it has no syntax error and converts. */
  data?: unknown;
  /** Why `toJS` failed (too many aliases, ...). */
  toJsError?: string;
  /** Where the content starts, for a document read from the parse cache (which has neither `doc` nor `tree`). */
  start?: number;
  /** The positions of a document read from the parse cache, computed on demand by parsing its file again. */
  positions?: () => DocumentTree;
}

/** A parsed file: its documents and where its lines start (for `LineCounter`). */
export interface ParsedYamlFile {
  documents: ParsedYamlDocument[];
  /** Offsets where each line starts, as `LineCounter.lineStarts`. */
  lineStarts: number[];
}

/** The options every spec file is parsed with (part of the parse cache's header, `parse-cache.ts`). */
export const PARSE_OPTIONS = { prettyErrors: false, merge: true, uniqueKeys: true } as const;

/** The options documents are turned into data with (part of the parse cache's header). */
export const TO_JS_OPTIONS = { maxAliasCount: 100 } as const;

/**
 * Parses `text` (a decoded file) into its documents. With `detached`, each document is kept only as plain data and
 * positions (`DocumentTree`), which can be posted from a worker thread; otherwise the `Document` is kept.
 */
export function parseYamlText(text: string, detached: boolean): ParsedYamlFile {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter, ...PARSE_OPTIONS });
  const docs = Array.isArray(parsed) ? parsed : [];
  const documents = docs.map((doc): ParsedYamlDocument => {
    const out: ParsedYamlDocument = detached ? { tree: documentTree(doc), errors: [] } : { doc, errors: [] };
    if (doc.errors.length > 0) {
      out.errors = doc.errors.map((e) => ({ pos: e.pos[0], message: e.message }));
      return out;
    }
    try {
      out.data = doc.toJS(TO_JS_OPTIONS);
    } catch (e) {
      out.toJsError = (e as Error).message;
    }
    return out;
  });
  return { documents, lineStarts: lineCounter.lineStarts };
}

/** A `LineCounter` for the line starts of a parsed file. */
export function lineCounterOf(lineStarts: readonly number[]): LineCounter {
  const lineCounter = new LineCounter();
  for (const start of lineStarts) lineCounter.addNewLine(start);
  return lineCounter;
}
