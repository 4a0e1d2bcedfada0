import type { SpecError } from "./types.js";

/**
 * Control characters (C0, DEL, C1) and bidirectional-text controls: echoed from a hostile or damaged spec file
 * (an `apiVersion`, a `kind`, a file name), they could move the cursor, clear the terminal, forge or hide lines in a
 * CI log, or split one error into two.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** `text` with every character of `UNPRINTABLE` written as a `\uXXXX` escape, so it prints as one inert line. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * Renders a spec error the way compilers do, so editors and CI annotate the right line:
 * `file:line:col: Kind/name: message`. The `Kind/name: ` part is omitted when the document is too broken to tell
 * its kind (and shortened to `Kind: ` when only the name is missing). Control characters from the input are escaped
 * (`printable`): one error is always one line of plain text.
 */
export function formatSpecError(e: SpecError): string {
  const { file, line, col } = e.location;
  const subject = e.kind && e.name ? `${e.kind}/${e.name}: ` : e.kind ? `${e.kind}: ` : "";
  return printable(`${file}:${line}:${col}: ${subject}${e.message}`);
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
