import type { SpecError } from "./types.js";

/**
 * Renders a spec error the way compilers do, so editors and CI annotate the right line:
 * `file:line:col: Kind/name: message`. The `Kind/name: ` part is omitted when the document is too broken to tell
 * its kind (and shortened to `Kind: ` when only the name is missing).
 */
export function formatSpecError(e: SpecError): string {
  const { file, line, col } = e.location;
  const subject = e.kind && e.name ? `${e.kind}/${e.name}: ` : e.kind ? `${e.kind}: ` : "";
  return `${file}:${line}:${col}: ${subject}${e.message}`;
}

/** Orders errors by file (byte order, not locale), line, column, then message, for output that never shuffles. */
export function compareSpecErrors(a: SpecError, b: SpecError): number {
  const x = a.location;
  const y = b.location;
  if (x.file !== y.file) return x.file < y.file ? -1 : 1;
  if (x.line !== y.line) return x.line - y.line;
  if (x.col !== y.col) return x.col - y.col;
  return a.message < b.message ? -1 : a.message > b.message ? 1 : 0;
}
