/**
 * The files export writes beside a spec (`SpecTree`: a skill's folder), and the checks that keep every write of
 * export inside its output directory: symbolic links are resolved before anything is written (`resolvedPath`), and
 * again after each folder is created (`writeTree`), so a link in the way (even a broken one) never leads a write out.
 */
import { lstat, mkdir, readdir, realpath, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, sep } from "node:path";
import type { SpecTree } from "../providers/export/index.js";

/** Every file under `dir`, relative to it (POSIX separators); empty when it does not exist. */
async function listTree(dir: string, prefix = ""): Promise<string[]> {
  const entries = await readdir(join(dir, prefix), { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const entry of entries) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listTree(dir, rel)));
    else out.push(rel);
  }
  return out;
}

/**
 * What stops `tree` from being written into `folder` (absolute), each as the path concerned and the rest of the
 * message: an existing folder without `force`; with `force`, files in it the tree does not have (they would become
 * part of the content, and export never deletes a file), or a file of it that is a symbolic link leading out of
 * `realOut` (the output directory, symbolic links resolved).
 */
export async function treeConflicts(
  folder: string,
  tree: SpecTree,
  force: boolean,
  realOut: string,
): Promise<Array<{ path: string; problem: string }>> {
  if (!(await lexists(folder))) return [];
  if (!force) return [{ path: folder, problem: "/ already exists" }];
  const wanted = new Set(tree.files.map((f) => f.path));
  const extra = (await listTree(folder)).filter((f) => !wanted.has(f)).sort();
  const conflicts: Array<{ path: string; problem: string }> = [];
  if (extra.length > 0) {
    conflicts.push({
      path: folder,
      problem: `/ holds files the exported version does not have (${extra.slice(0, 3).join(", ")}${extra.length > 3 ? ", ..." : ""}); export never deletes files: remove them, or export with --out DIR`,
    });
  }
  for (const file of tree.files) {
    const path = join(folder, ...file.path.split("/"));
    const real = await resolvedPath(path);
    if (real === null || !isInside(realOut, real)) {
      conflicts.push({ path, problem: " leads outside the output folder through a symbolic link" });
      break;
    }
  }
  return conflicts;
}

/**
 * Writes `tree` under `specDir`: each file's folder is created, then checked to be inside `out` once symlinks are
 * resolved (a symlinked folder in the way must not lead the write elsewhere), then the file is written (`wx`
 * without `force`: never over an existing file).
 * @throws Error naming the path that leads outside `out`
 */
export async function writeTree(out: string, specDir: string, tree: SpecTree, force: boolean): Promise<void> {
  const realOut = await realpath(out);
  for (const file of tree.files) {
    const path = join(specDir, tree.folder, ...file.path.split("/"));
    if (!isInside(out, path)) throw new Error(`${file.path} would be written outside ${out}`);
    await mkdir(dirname(path), { recursive: true });
    if (!isInside(realOut, await realpath(dirname(path)))) {
      throw new Error(`${dirname(path)} leads outside ${out} (a symbolic link); nothing more was written`);
    }
    await writeFile(path, file.data, { flag: force ? "w" : "wx" });
  }
}

/**
 * `path` with the symbolic links of its longest existing ancestor resolved (`realpath`), the rest appended as is:
 * where a write to `path` would land; null when a broken symbolic link is in the way (a write would follow it to
 * wherever it points).
 */
export async function resolvedPath(path: string): Promise<string | null> {
  let existing = path;
  while (!(await lexists(existing))) {
    const up = dirname(existing);
    if (up === existing) break;
    existing = up;
  }
  const real = await realpath(existing).catch(() => null);
  return real === null ? null : join(real, relative(existing, path));
}

/** True when `path` exists, a symbolic link (even a broken one) included. */
const lexists = (path: string) =>
  lstat(path).then(
    () => true,
    () => false,
  );

/** True when `target` is `root` or below it. */
export function isInside(root: string, target: string): boolean {
  const rel = relative(root, target);
  return rel === "" || !(rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel));
}
