/**
 * The CLI side of the apply lock (ADR 8): a command that writes runs under the lock of its stack and target, taken
 * before it observes anything, renewed while it runs, and released at the end (after an interrupt, once the writes in
 * flight have finished).
 *
 * Against an API (a real one, or `reconcile emulator`): the lease in the API (`providers/lock.ts`). With `--local`:
 * the state file lock that `connect` holds for the whole run (the lease would live in that very file, so it would
 * add nothing).
 */
import type Anthropic from "@anthropic-ai/sdk";
import { acquireLock, formatDuration, type HeldLock, type LockHolder } from "../providers/lock.js";
import type { LoadedProject } from "../reconcile/workflow.js";
import type { Connection } from "./connect.js";
import type { Output } from "./output.js";
import { type ProjectFlags, withProject } from "./session.js";

/** What a locked command records and how long it waits. */
export interface LockRequest {
  /** Shown to others who find the lock held, e.g. `apply`. */
  operation: string;
  /** How long to wait for a held lock, in ms (`--lock-timeout`); 0 fails at once. */
  timeoutMs: number;
}

/** A signal that never aborts. */
const NEVER = new AbortController().signal;

/** A locked command's body: `signal` aborts when the lock is lost (start no new write after that). */
export type LockedBody = (project: LoadedProject, connection: Connection, signal: AbortSignal) => Promise<number>;

function describeHolder(holder: LockHolder): string {
  return `held by ${holder.who}, ${holder.operation} since ${holder.since}, expires ${holder.expires}, lock id ${holder.id}`;
}

/** Releases `lock`, warning on stderr with the next step when that fails (the lease then expires by itself). */
async function release(lock: HeldLock, output: Output): Promise<void> {
  const problem = await lock.release();
  if (problem) {
    output.err(
      `Warning: could not release the lock (${problem}). It expires at ${lock.holder.expires}; or run \`reconcile force-unlock ${lock.id}\`.\n`,
    );
  }
}

/** The exit code of a run stopped by `signal` (128 + its number, as shells report it). */
function signalExitCode(signal: NodeJS.Signals): number {
  return signal === "SIGINT" ? 130 : 143;
}

/**
 * Takes the API lease of the project's stack and target, runs `body`, and releases the lease.
 *
 * The first SIGINT/SIGTERM stops new writes (the signal given to `body` aborts), lets writes in flight finish, then
 * releases the lease and makes the exit code 130/143: releasing earlier would let another apply observe before those
 * writes land. A second one exits at once without releasing; the lease then expires by itself.
 * @throws LockHeldError when the lock is held after `request.timeoutMs`
 */
export async function withApiLock(
  client: Anthropic,
  project: LoadedProject,
  request: LockRequest,
  output: Output,
  body: (signal: AbortSignal) => Promise<number>,
): Promise<number> {
  const scope = { stack: project.config.stack, target: project.target.name };
  const lock = await acquireLock(client, {
    ...scope,
    ...request,
    onWait: (holder, waited) =>
      output.err(
        `Waiting for the lock of stack ${scope.stack}, target ${scope.target} (${describeHolder(holder)}): ${formatDuration(waited)} of ${formatDuration(request.timeoutMs)}\n`,
      ),
    onLost: (error) => output.err(`Error: ${error.message}\n`),
  });
  const interrupt = new AbortController();
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) {
      output.err(
        `\nInterrupted again: exiting now; the lock ${lock.id} expires by itself at ${lock.holder.expires}.\n`,
      );
      process.exit(signalExitCode(signal));
    }
    interrupted = signal;
    output.err(
      `\nInterrupted (${signal}): no new write starts; waiting for writes in flight, then releasing the lock. Interrupt again to exit at once.\n`,
    );
    interrupt.abort(new Error(`not started: interrupted by ${signal}`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const code = await body(AbortSignal.any([lock.signal, interrupt.signal]));
    return interrupted ? signalExitCode(interrupted) : code;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await release(lock, output);
  }
}

/**
 * `withProject` for a command that writes: with `--local`, the state file is locked for the whole run (see
 * `connect`); otherwise the API lease is taken before `body` runs (so before anything is observed) and released
 * after. Either wait is bounded by `request.timeoutMs`. A null `request` (the run cannot write, e.g. an apply that
 * will refuse for want of confirmation) takes no lock and opens `--local` state read-only.
 * @returns `body`'s exit code, or 1 after printing the error (a held lock names its holder and the next step)
 */
export function withLockedProject(
  flags: ProjectFlags,
  output: Output,
  request: LockRequest | null,
  body: LockedBody,
): Promise<number> {
  if (!request) return withProject(flags, output, (project, connection) => body(project, connection, NEVER));
  return withProject(
    flags,
    output,
    (project, connection) =>
      flags.local
        ? body(project, connection, NEVER)
        : withApiLock(connection.client, project, request, output, (signal) => body(project, connection, signal)),
    request,
  );
}
