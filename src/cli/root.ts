/**
 * Finds the repository root the commands work on.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/**
 * The directory `--dir` names, or else the nearest directory at or above `cwd` holding `reconcile.yaml` or `.git`,
 * or else `cwd` itself. Specs are loaded below it and `system_file` may not leave it.
 */
export function findRoot(dir: string | undefined, cwd = process.cwd()): string {
  if (dir) return resolve(cwd, dir);
  for (let current = resolve(cwd); ; current = dirname(current)) {
    if (existsSync(join(current, "reconcile.yaml")) || existsSync(join(current, ".git"))) return current;
    if (dirname(current) === current) return resolve(cwd);
  }
}

/** Thrown when no `reconcile.yaml` is found: the message says how to start (issue 10: not "Valid: 0 files"). */
export class NoProjectError extends Error {
  constructor(root: string, explicit: boolean) {
    super(
      `no reconcile.yaml in ${root}${explicit ? "" : " or any directory above it"}: this is not a reconcile repository. Start one with \`reconcile init${explicit ? ` --dir ${root}` : ""}\`, or pass --dir to point at one`,
    );
    this.name = "NoProjectError";
  }
}

/**
 * `findRoot`, for commands that need a repository: the root must hold `reconcile.yaml`.
 * @throws NoProjectError when it does not (saying to run `reconcile init`)
 */
export function findProjectRoot(dir: string | undefined, cwd = process.cwd()): string {
  const root = findRoot(dir, cwd);
  if (!existsSync(join(root, "reconcile.yaml"))) throw new NoProjectError(root, dir !== undefined);
  return root;
}
