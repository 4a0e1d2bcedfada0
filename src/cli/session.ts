/**
 * The frame every command that talks to an API runs in: find the repository, load and check the specs for the
 * target (before any network), connect, run, close, and turn any error into stderr lines and exit code 1.
 */
import { type Command, InvalidArgumentError } from "commander";
import ms from "ms";
import type { LiveState } from "../reconcile/observe.js";
import { type LoadedProject, loadProjectHead, loadSpecsFor } from "../reconcile/workflow.js";
import { type Connection, connect } from "./connect.js";
import { reportError } from "./errors.js";
import { type EarlyObserve, observeEarly, worthObservingEarly } from "./observe-early.js";
import type { Output } from "./output.js";
import { findProjectRoot } from "./root.js";

/** The flags every such command shares. */
export interface ProjectFlags {
  dir?: string;
  target?: string;
  local?: boolean;
  /** `--timeout DURATION`, in milliseconds (default 60000). */
  timeout?: number;
  /** `--insecure-base-url`: allow a plain-http base URL to a host other than loopback. */
  insecureBaseUrl?: boolean;
  /** `--json`: errors are reported as JSON on stdout (`reportError`). */
  json?: boolean;
}

/**
 * Runs `body` with the loaded project and an open connection. A command that may write passes `lock` (see
 * `ConnectOptions.lock`: with `--local` the state file is locked for the run; otherwise it is opened read-only).
 *
 * A command that only reads and plans passes `early: true`: in a large repository (`worthObservingEarly`) the
 * connection is opened and the observe started as soon as `reconcile.yaml` is read, while the specs load
 * (`observeEarly`); `body` gets the live state's promise to
 * hand to `preparePlan`. Errors are reported in the same order either way: `reconcile.yaml`, the specs (the observe
 * is then abandoned and nothing else is reported), the connection, then whatever `body` throws.
 * @returns `body`'s exit code, or 1 after printing the error
 */
export async function withProject(
  flags: ProjectFlags,
  output: Output,
  body: (project: LoadedProject, connection: Connection, observed?: Promise<LiveState>) => Promise<number>,
  lock?: { operation: string; timeoutMs: number },
  early = false,
): Promise<number> {
  let connection: Connection | undefined;
  let started: EarlyObserve | undefined;
  try {
    const root = findProjectRoot(flags.dir);
    const head = await loadProjectHead(root, flags.target);
    const open = () =>
      connect({
        root,
        local: flags.local === true,
        target: head.target,
        defaultTarget: head.config.default_target,
        warn: output.err,
        ...(flags.timeout ? { timeoutMs: flags.timeout } : {}),
        insecureBaseUrl: flags.insecureBaseUrl === true,
        lock,
      });
    started = early && !lock && (await worthObservingEarly(root)) ? observeEarly(head, open) : undefined;
    const project = await loadSpecsFor(head);
    connection = await (started ? started.connection : open());
    if (process.stderr.isTTY) {
      output.err(`Stack ${project.config.stack}, target ${project.target.name}: ${connection.describe}\n`);
    }
    return await body(project, connection, started?.observed);
  } catch (error) {
    return reportError(error, output, flags.json === true);
  } finally {
    // An observe still pending (the specs had errors, or `body` stopped before using it) is stopped first, so the
    // connection closes with no request in flight.
    if (started) connection = (await started.abandon()) ?? connection;
    await connection?.close();
  }
}

/**
 * `withProject` for a command that reads and plans (`plan`, `drift`): it observes while the specs load, and `body`
 * gets the live state's promise (`PrepareOptions.observed`).
 */
export function withProjectObserving(
  flags: ProjectFlags,
  output: Output,
  body: (project: LoadedProject, connection: Connection, observed: Promise<LiveState>) => Promise<number>,
): Promise<number> {
  return withProject(
    flags,
    output,
    (project, connection, observed) => body(project, connection, observed as Promise<LiveState>),
    undefined,
    true,
  );
}

/**
 * `--timeout DURATION` → milliseconds: a number with a unit (`500ms`, `30s`, `2m`; parsed by `ms`), from 100ms to
 * 1h. A bare number is refused, so `--timeout 60` cannot silently mean 60 milliseconds.
 * @throws InvalidArgumentError (commander prints it as a usage error)
 */
export function parseTimeout(value: string): number {
  const parsed = /[a-z]\s*$/i.test(value.trim()) ? ms(value.trim() as ms.StringValue) : Number.NaN;
  if (typeof parsed !== "number" || !Number.isFinite(parsed) || parsed < 100 || parsed > 3_600_000) {
    throw new InvalidArgumentError("expected a duration with a unit from 100ms to 1h, like 30s, 2m or 500ms");
  }
  return Math.round(parsed);
}

/**
 * Adds `--only ADDRESS` (repeatable) to `plan` and `apply`: a partial plan of those addresses and their dependencies
 * (`reconcile/only.ts`), like Terraform's `-target`.
 */
export function onlyOption(command: Command): Command {
  return command.option(
    "--only <address>",
    "plan only this resource (agent.NAME, environment.NAME, vault.NAME, credential.VAULT/NAME) and what it depends on; repeatable; the plan warns that it is partial",
    (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
  );
}

/**
 * Adds the shared `--dir`, `--target`, `--local`, `--timeout` and `--insecure-base-url` options to a commander
 * command.
 */
export function projectOptions(command: Command): Command {
  return command
    .option("--dir <path>", "repository root (default: nearest directory with reconcile.yaml or .git)")
    .option("--target <name>", "the target (workspace) from reconcile.yaml (default: default_target, or the only one)")
    .option(
      "--local",
      "use the embedded emulator (state in .reconcile/local-state.json, or local-state.TARGET.json for a target other than the default) instead of the API",
    )
    .option(
      "--timeout <duration>",
      "the longest wait for one API request, like 30s or 2m (default 60s); a timed-out request is retried",
      parseTimeout,
    )
    .option(
      "--insecure-base-url",
      "allow a plain http:// base URL to a host other than loopback (sends the key unencrypted)",
    );
}
