/** Helpers for end-to-end tests: a temp copy of the example fleet and the real CLI run as a subprocess. */
import { spawn } from "node:child_process";
import { cp, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository this test runs in. */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** What a fleet is made of: its spec folders and `reconcile.yaml`. */
export const FLEET = [
  "agents",
  "environments",
  "vaults",
  "toolsets",
  "memory-stores",
  "tunnels",
  "deployments",
  "prompts",
  "skills",
  "reconcile.yaml",
];

/**
 * The test fleet (`test/fixtures/fleet`): a frozen copy of the example fleet, so that users editing the example at the
 * repository root (a template) cannot break the tests. Only `test/e2e/example.test.ts` uses the example itself.
 */
export const FIXTURE_FLEET = join(REPO, "test", "fixtures", "fleet");

/** A temp directory holding a copy of the fleet in `from` (default: the test fleet); remove it with `removeDir`. */
export async function copyFleet(from: string = FIXTURE_FLEET): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "reconcile-e2e-"));
  for (const entry of FLEET) await cp(join(from, entry), join(dir, entry), { recursive: true });
  return dir;
}

/** Removes a directory made by `copyFleet`. */
export const removeDir = (dir: string) => rm(dir, { recursive: true, force: true });

/** What a CLI run printed and its exit code. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `bin/reconcile args` with `env` added to a clean environment (no inherited API key or colour settings), stdin
 * closed (not a terminal), and resolves when it exits.
 */
export function runCli(args: string[], env: Record<string, string> = {}, cwd = REPO): Promise<CliResult> {
  const base: Record<string, string> = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" };
  // The test run's cache directory (vitest.config.ts), not the user's.
  if (process.env.RECONCILE_CACHE_DIR) base.RECONCILE_CACHE_DIR = process.env.RECONCILE_CACHE_DIR;
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [join(REPO, "bin", "reconcile"), ...args], {
      cwd,
      env: { ...base, ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdin.end();
    child.on("error", fail);
    child.on("close", (code) => done({ code, stdout, stderr }));
  });
}
