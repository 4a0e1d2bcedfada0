/**
 * The frame every command that talks to an API runs in: find the repository, load and check the specs for the
 * target (before any network), connect, run, close, and turn any error into stderr lines and exit code 1.
 */
import { type LoadedProject, loadSpecs } from "../reconcile/workflow.js";
import { type Connection, connect } from "./connect.js";
import { reportError } from "./errors.js";
import type { Output } from "./output.js";
import { findRoot } from "./root.js";

/** The flags every such command shares. */
export interface ProjectFlags {
  dir?: string;
  target?: string;
  local?: boolean;
}

/**
 * Runs `body` with the loaded project and an open connection. A command that may write passes `lock` (see
 * `ConnectOptions.lock`: with `--local` the state file is locked for the run; otherwise it is opened read-only).
 * @returns `body`'s exit code, or 1 after printing the error
 */
export async function withProject(
  flags: ProjectFlags,
  output: Output,
  body: (project: LoadedProject, connection: Connection) => Promise<number>,
  lock?: { operation: string; timeoutMs: number },
): Promise<number> {
  let connection: Connection | undefined;
  try {
    const root = findRoot(flags.dir);
    const project = await loadSpecs(root, flags.target);
    connection = await connect({ root, local: flags.local === true, target: project.target, warn: output.err, lock });
    if (process.stderr.isTTY) {
      output.err(`Stack ${project.config.stack}, target ${project.target.name}: ${connection.describe}\n`);
    }
    return await body(project, connection);
  } catch (error) {
    return reportError(error, output);
  } finally {
    await connection?.close();
  }
}

/** Adds the shared `--dir`, `--target` and `--local` options to a commander command. */
export function projectOptions<T extends { option: (flags: string, description: string) => T }>(command: T): T {
  return command
    .option("--dir <path>", "repository root (default: nearest directory with reconcile.yaml or .git)")
    .option("--target <name>", "the target (workspace) from reconcile.yaml (default: default_target, or the only one)")
    .option("--local", "use the embedded emulator (.reconcile/local-state.json) instead of the API");
}
