/**
 * Unpacking the repository tarball GitHub serves for a commit (`GET /repos/{owner}/{repo}/tarball/{ref}`): a gzipped
 * tar whose entries sit under one top-level folder (`owner-repo-sha/`). The App plans pull requests from forks too,
 * so the tarball is hostile input: it is read twice, first to check every entry (only regular files and folders,
 * relative paths that stay inside, within size and count limits; anything else refuses the whole tarball), then to
 * extract exactly the entries checked, with node-tar's own path protections on as a second line.
 */
import { mkdir, readdir } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { extract, Parser, type ReadEntry } from "tar";

/** Limits on what a tarball may hold. */
export interface TarballLimits {
  /** Regular files, at most (default 10,000). */
  maxFiles: number;
  /** Bytes of all regular files together, at most (default 100 MiB). */
  maxBytes: number;
  /** Entries of any type, at most (default 20,000), so a tarball of empty folders is bounded too. */
  maxEntries: number;
}

/** The defaults: far above an agent repository, far below what would hurt the server. */
export const DEFAULT_TARBALL_LIMITS: TarballLimits = {
  maxFiles: 10_000,
  maxBytes: 100 * 1024 * 1024,
  maxEntries: 20_000,
};

/** Thrown when a tarball holds an entry reconcile does not extract, or exceeds a limit; nothing was written. */
export class UnsafeTarballError extends Error {
  constructor(message: string) {
    super(`refused the repository tarball: ${message}`);
    this.name = "UnsafeTarballError";
  }
}

const FILE_TYPES = new Set(["File", "OldFile", "ContiguousFile"]);

/** A printable form of an entry path for error messages (control characters escaped, length capped). */
const shown = (p: string) =>
  JSON.stringify(p.length > 200 ? `${p.slice(0, 200)}...` : p).replace(
    /[\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );

/** The entry's path inside the repository (the top-level folder removed), or an error message. */
function insidePath(raw: string): string | { error: string } {
  if (raw.includes("\0")) return { error: `an entry path holds a NUL byte: ${shown(raw)}` };
  if (raw.includes("\\")) return { error: `an entry path holds a backslash: ${shown(raw)}` };
  if (raw.startsWith("/") || /^[A-Za-z]:/.test(raw)) return { error: `an absolute entry path: ${shown(raw)}` };
  const parts = raw.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) return { error: `an entry path leaves the repository: ${shown(raw)}` };
  return parts.slice(1).join("/");
}

/**
 * Checks every entry of `tarball` (gzipped or not) without writing anything.
 * @returns the number of regular files and their total size in bytes
 * @throws UnsafeTarballError on a symlink, hard link, device, FIFO or other non-regular entry; an absolute path, a
 *   `..` segment, a backslash or NUL in a path; entries outside the single top-level folder; a limit exceeded; a
 *   corrupt archive
 */
export async function checkTarball(
  tarball: Buffer,
  limits: TarballLimits = DEFAULT_TARBALL_LIMITS,
): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  let entries = 0;
  let top: string | undefined;
  let problem: string | undefined;
  const parser = new Parser({
    strict: true,
    onReadEntry: (entry: ReadEntry) => {
      entry.resume();
      if (problem) return;
      entries++;
      const inside = insidePath(entry.path);
      const first = entry.path.split("/").find((p) => p !== "" && p !== ".");
      if (typeof inside !== "string") problem = inside.error;
      else if (top !== undefined && first !== top)
        problem = `entries outside the top-level folder: ${shown(entry.path)}`;
      else if (entry.type !== "Directory" && !FILE_TYPES.has(entry.type)) {
        problem = `${entry.type} entries are not extracted (only regular files and folders): ${shown(entry.path)}`;
      } else if (FILE_TYPES.has(entry.type) && inside === "") problem = "a regular file at the top level";
      else if (entries > limits.maxEntries) problem = `more than ${limits.maxEntries} entries`;
      else if (FILE_TYPES.has(entry.type)) {
        files++;
        bytes += entry.size ?? 0;
        if (files > limits.maxFiles) problem = `more than ${limits.maxFiles} files`;
        else if (bytes > limits.maxBytes) problem = `more than ${limits.maxBytes} bytes of files`;
      }
      top ??= first;
    },
  });
  try {
    await pipeline(Readable.from([tarball]), parser);
  } catch (error) {
    throw new UnsafeTarballError(`not a readable tar archive (${(error as Error).message})`);
  }
  if (problem) throw new UnsafeTarballError(problem);
  if (entries === 0) throw new UnsafeTarballError("the archive is empty");
  return { files, bytes };
}

/**
 * Checks `tarball` (see `checkTarball`), then extracts its regular files and folders into `dest` (created if
 * missing; it must be empty, so nothing planted there beforehand can redirect a write), without the top-level
 * folder, so `dest` becomes the repository root. Modes are not kept beyond read/write for the owner; owners are not
 * kept.
 * @throws UnsafeTarballError as `checkTarball` (nothing is written then), or when extraction itself fails
 * @throws Error when `dest` exists and is not an empty folder
 */
export async function extractRepositoryTarball(
  tarball: Buffer,
  dest: string,
  limits: TarballLimits = DEFAULT_TARBALL_LIMITS,
): Promise<{ files: number; bytes: number }> {
  const counts = await checkTarball(tarball, limits);
  const root = path.resolve(dest);
  await mkdir(root, { recursive: true });
  if ((await readdir(root)).length > 0) throw new Error(`${root} is not empty; extract into a new folder`);
  await pipeline(
    Readable.from([tarball]),
    extract({
      cwd: root,
      strip: 1,
      strict: true,
      preservePaths: false,
      preserveOwner: false,
      noChmod: true,
      dmode: 0o700,
      fmode: 0o600,
      filter: (_p, entry) => "type" in entry && (entry.type === "Directory" || FILE_TYPES.has(entry.type)),
    }),
  ).catch((error: Error) => {
    throw new UnsafeTarballError(`extraction failed (${error.message})`);
  });
  return counts;
}
