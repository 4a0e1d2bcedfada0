/**
 * Terminal-safe text: the one function every renderer passes spec and live values through before printing them
 * (plan text, apply progress, warnings, errors, the Markdown plan), so that a system prompt holding `ESC [1A ESC [2K`
 * cannot rewrite the plan shown above it, a binary prompt cannot ring the bell, and a bidi override cannot make the
 * text read differently from what it is (CVE-2021-42574, "Trojan Source").
 *
 * Escaped, as `\u001b`-style escapes (lowercase hex, four digits, the form JSON uses): the C0 controls U+0000-001F
 * except the tab (and the line feed where the caller keeps line breaks), DEL U+007F, the C1 controls U+0080-009F
 * (U+009B is a one-byte CSI on many terminals), and the bidirectional embeddings, overrides and isolates
 * U+202A-202E and U+2066-2069. See docs/adr/0012-safe-rendering.md.
 */

/** The characters `escapeControl` rewrites (with `\n`; see `keepNewlines`). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const UNSAFE_KEEP_NEWLINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** `\u001b` for ESC: the JSON escape of one UTF-16 code unit. */
export const unicodeEscape = (char: string): string => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;

/** Options of `escapeControl`. */
export interface EscapeOptions {
  /** Keep `\n` as a line break (multi-line error messages); default false: `\n` becomes `\u000a`. */
  keepNewlines?: boolean;
}

/**
 * `text` with every terminal control character and bidi override replaced by its `\u001b`-style escape; the tab and
 * (with `keepNewlines`) the line feed are kept. Everything else, including `\` and printable Unicode, is unchanged,
 * so plain text reads the same. Pure; never throws.
 */
export function escapeControl(text: string, options: EscapeOptions = {}): string {
  return text.replace(options.keepNewlines ? UNSAFE_KEEP_NEWLINES : UNSAFE, unicodeEscape);
}

/**
 * JSON text (from `JSON.stringify`) with DEL, the C1 controls and the bidi overrides written as `\u` escapes too
 * (`JSON.stringify` already escapes C0 inside strings; the line breaks of indentation are kept). Such characters occur only inside JSON strings, where the escape denotes the
 * same character, so `JSON.parse` returns exactly the same value.
 */
export function escapeJsonText(json: string): string {
  return json.replace(UNSAFE_KEEP_NEWLINES, unicodeEscape);
}
