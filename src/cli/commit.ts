/**
 * The commit the specs come from, for the `reconcile/applied` stamp apply writes and for drift reports: GitHub
 * Actions' `GITHUB_SHA` when set, else `git rev-parse HEAD` in the repository, else nothing (not a git checkout, no
 * git installed). Never fails: a missing commit only leaves it out of the stamp.
 */
import { execFile } from "node:child_process";

const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/**
 * @param root the repository root (`git` runs there)
 * @returns a full hex SHA (40, or 64 for SHA-256 repositories), or undefined when none is known
 */
export function currentCommit(root: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const fromEnv = env.GITHUB_SHA?.trim().toLowerCase();
  if (fromEnv && SHA.test(fromEnv)) return Promise.resolve(fromEnv);
  return new Promise((resolve) => {
    execFile("git", ["rev-parse", "HEAD"], { cwd: root, timeout: 5000, windowsHide: true }, (error, stdout) => {
      const sha = String(stdout ?? "").trim();
      resolve(!error && SHA.test(sha) ? sha : undefined);
    });
  });
}
