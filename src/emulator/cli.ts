import { Command, InvalidArgumentError } from "commander";
import { escapeControl } from "../reconcile/escape.js";
import { type RunningEmulator, startEmulator } from "./index.js";

/** Parses an integer option in [min, max]; commander reports the `InvalidArgumentError` with the option's name. */
function integerIn(min: number, max: number, what: string): (value: string) => number {
  return (value) => {
    const n = /^-?\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${what} must be an integer from ${min} to ${max}.`);
    }
    return n;
  };
}

function probability(value: string): number {
  const n = value.trim() === "" ? Number.NaN : Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError("fault rate must be a number from 0 to 1.");
  return n;
}

/** Resolves on the first SIGINT or SIGTERM (the listeners are removed afterwards). */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off("SIGINT", on);
      process.off("SIGTERM", on);
      resolve(signal);
    };
    process.on("SIGINT", on);
    process.on("SIGTERM", on);
  });
}

/**
 * One line that says why the emulator could not start and what to do: a port in use or not allowed, a host that
 * cannot be bound, a state file that is corrupt, of another version, a directory, or unreadable. Control characters
 * in paths are escaped (`escapeControl`).
 */
export function startFailure(error: unknown, opts: { port: number; host: string; state?: string }): string {
  const code = (error as NodeJS.ErrnoException).code;
  const message = error instanceof Error ? error.message : String(error);
  let line: string;
  if (code === "EADDRINUSE") {
    line = `port ${opts.port} on ${opts.host} is already in use (another emulator?); stop it, or pass --port N (--port 0 picks a free port)`;
  } else if (code === "EACCES" || code === "EPERM") {
    line = `not allowed to listen on port ${opts.port}; pass --port with a number above 1023 (--port 0 picks a free port)`;
  } else if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND" || code === "EAI_AGAIN") {
    line = `cannot listen on host ${opts.host} (${code}); pass --host with an address of this machine, like 127.0.0.1`;
  } else if (opts.state !== undefined && message.includes(opts.state)) {
    line = `${message}. Fix the file, pass another --state path, or delete it to start empty`;
  } else {
    line = `the emulator could not start: ${message}`;
  }
  return `Error: ${escapeControl(line.replace(/\.+$/, ""))}.`;
}

/**
 * The `reconcile emulator` command: runs the local Managed Agents API emulator (see `startEmulator`) until SIGINT or
 * SIGTERM, then closes it cleanly. Options: `--port <n>` (default 4010; 0 = any free port), `--host`, `--state
 * <file>`, `--latency <ms>`, `--fault-rate <p>`, `--seed <n>`, `--session-step <ms>`, `--workspace <id>` (repeatable), `--log`. Invalid values are
 * usage errors. On start it prints one line to stderr with the URL and how to point the SDK at it; when it cannot
 * start (port in use, corrupt or unreadable state file) it prints one line saying what to do (`startFailure`) and
 * exits 1, without a stack trace.
 */
export function emulatorCommand(): Command {
  return new Command("emulator")
    .description(
      "run a local Managed Agents API (agents, environments, vaults, credentials, sessions with a scripted agent) that the official SDK and reconcile talk to, without credits",
    )
    .option("--port <n>", "TCP port to listen on (0 = any free port)", integerIn(0, 65535, "port"), 4010)
    .option("--host <host>", "interface to bind", "127.0.0.1")
    .option("--state <file>", "persist state to this JSON file (loaded at start, rewritten after every change)")
    .option(
      "--latency <ms>",
      "how long each request takes, in milliseconds (the emulator's own work included)",
      integerIn(0, 600_000, "latency"),
      0,
    )
    .option(
      "--fault-rate <p>",
      "probability (0..1) that a request fails with 429, 500 or a dropped connection",
      probability,
      0,
    )
    .option(
      "--seed <n>",
      "seed for fault injection, for reproducible runs",
      integerIn(-(2 ** 31), 2 ** 32 - 1, "seed"),
      1,
    )
    .option(
      "--session-step <ms>",
      "delay before each event of the scripted session agent, in milliseconds (docs/emulator.md)",
      integerIn(1, 60_000, "session step"),
      20,
    )
    .option(
      "--workspace <id>",
      "a workspace id that anthropic-workspace-id may name (repeatable); when given, any other id is a 403",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option("--log", "print one line per request to stderr", false)
    .action(
      async (
        opts: {
          port: number;
          host: string;
          state?: string;
          latency: number;
          faultRate: number;
          seed: number;
          sessionStep: number;
          workspace?: string[];
          log: boolean;
        },
        command: Command,
      ) => {
        let emulator: RunningEmulator;
        try {
          emulator = await startEmulator({
            port: opts.port,
            host: opts.host,
            stateFile: opts.state,
            latencyMs: opts.latency,
            faultRate: opts.faultRate,
            seed: opts.seed,
            sessionStepMs: opts.sessionStep,
            workspaces: opts.workspace,
            log: opts.log ? (line) => process.stderr.write(`${line}\n`) : undefined,
          });
        } catch (error) {
          // Commander prints the line and exits 1 (or throws a CommanderError under exitOverride).
          return command.error(startFailure(error, opts), { exitCode: 1, code: "reconcile.emulator.start" });
        }
        process.stderr.write(
          `Managed Agents API emulator listening on ${emulator.url} (state: ${opts.state === undefined ? "in memory" : escapeControl(opts.state)}). ` +
            `Point the SDK at it: ANTHROPIC_BASE_URL=${emulator.url} ANTHROPIC_API_KEY=any-non-empty-key\n`,
        );
        const signal = await untilSignal();
        await emulator.close();
        process.stderr.write(`Emulator stopped (${signal}).\n`);
      },
    );
}
