import { readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";

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
 * The text is returned exactly as stored (UTF-8), with the file's path relative to `root` (POSIX separators).
 */
export async function readSystemFile(root: string, specFile: string, target: string): Promise<SystemFileResult> {
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
    real = await realpath(absolute);
  } catch {
    return { ok: false, message: `"${target}" not found (looked for ${file})` };
  }
  if (!isInside(await realpath(root), real)) {
    return { ok: false, message: `"${target}" is a symlink to a file outside the repository root` };
  }
  if (!(await stat(real)).isFile()) {
    return { ok: false, message: `"${target}" is not a file` };
  }
  return { ok: true, text: await readFile(real, "utf8"), file };
}
