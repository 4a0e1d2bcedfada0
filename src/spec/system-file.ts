import { readFileSync, realpathSync, statSync } from "node:fs";
import path from "node:path";
import { decodeUtf8 } from "./text.js";

/**
 * The longest system prompt the API takes, in characters: "System prompt for the agent. Up to 100,000 characters."
 * (Managed Agents API reference, `POST /v1/agents`, `system`). `schemas/agent.schema.json` sets the same `maxLength`
 * on an inline `system`; a test keeps the two equal.
 */
export const SYSTEM_PROMPT_MAX_LENGTH = 100_000;

/** The most bytes `SYSTEM_PROMPT_MAX_LENGTH` characters take in UTF-8 (4 per character): larger files are not read. */
const SYSTEM_FILE_MAX_BYTES = 4 * SYSTEM_PROMPT_MAX_LENGTH;

/**
 * A string's length in Unicode code points, as JSON Schema's `maxLength` (and ajv) counts it: a character outside
 * the Basic Multilingual Plane (an emoji) is one character, not two UTF-16 units.
 */
export function characterCount(text: string): number {
  let count = text.length;
  for (let i = 0; i < text.length - 1; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        count--;
        i++;
      }
    }
  }
  return count;
}

/** The prompt read from an agent's `system_file`, or why it could not be read. */
export type SystemFileResult = { ok: true; text: string; file: string } | { ok: false; message: string };

function isInside(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  return rel === "" || !(rel === ".." || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel));
}

/**
 * Reads an agent's `system_file`: `target` is relative to the directory of the spec file (`specFile`, absolute), and
 * must stay inside the repository `root` (absolute) both as written (no `..` escape, no absolute path) and once
 * symlinks are followed: a spec must not be able to publish a file from outside the repository as a system prompt.
 * The file must be UTF-8 text (no invalid bytes, no NUL: `decodeUtf8`) of at most `SYSTEM_PROMPT_MAX_LENGTH`
 * characters; a file over 4 bytes per allowed character is refused unread. The text is returned as stored (a leading
 * byte-order mark dropped), with the file's path relative to `root` (POSIX separators). Synchronous: a few small
 * system calls, several times cheaper than as many round trips through libuv's thread pool (issue 10 item 6); the
 * caller yields between agents (`timeSlices`).
 */
export function readSystemFile(root: string, specFile: string, target: string): SystemFileResult {
  if (path.isAbsolute(target) || path.win32.isAbsolute(target)) {
    return { ok: false, message: `"${target}" must be a path relative to the spec file, not an absolute path` };
  }
  const absolute = path.resolve(path.dirname(specFile), target);
  if (!isInside(root, absolute)) {
    return { ok: false, message: `"${target}" points outside the repository root` };
  }
  const file = path.relative(root, absolute).split(path.sep).join("/");
  let real: string;
  try {
    real = realpathSync.native(absolute);
  } catch {
    return { ok: false, message: `"${target}" not found (looked for ${file})` };
  }
  if (!isInside(realpathSync.native(root), real)) {
    return { ok: false, message: `"${target}" is a symlink to a file outside the repository root` };
  }
  const info = statSync(real);
  if (!info.isFile()) {
    return { ok: false, message: `"${target}" is not a file` };
  }
  const tooLong = (size: string) =>
    `"${target}" is ${size}; a system prompt is at most ${SYSTEM_PROMPT_MAX_LENGTH.toLocaleString("en-US")} characters (the API's limit)`;
  if (info.size > SYSTEM_FILE_MAX_BYTES)
    return { ok: false, message: tooLong(`${info.size.toLocaleString("en-US")} bytes`) };
  const decoded = decodeUtf8(readFileSync(real));
  if (!decoded.ok) {
    return { ok: false, message: `"${target}" ${decoded.message}: a system prompt must be UTF-8 text` };
  }
  const length = characterCount(decoded.text);
  if (length > SYSTEM_PROMPT_MAX_LENGTH) {
    return { ok: false, message: tooLong(`${length.toLocaleString("en-US")} characters long`) };
  }
  return { ok: true, text: decoded.text, file };
}
