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
