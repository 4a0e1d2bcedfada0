import { Command, InvalidArgumentError } from "commander";
import { startEmulator } from "./index.js";

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
 * The `reconcile emulator` command: runs the local Managed Agents API emulator (see `startEmulator`) until SIGINT or
 * SIGTERM, then closes it cleanly. Options: `--port <n>` (default 4010; 0 = any free port), `--host`, `--state
 * <file>`, `--latency <ms>`, `--fault-rate <p>`, `--seed <n>`, `--session-step <ms>`, `--log`. Invalid values are usage errors. On start it
 * prints one line to stderr with the URL and how to point the SDK at it.
 */
export function emulatorCommand(): Command {
  return new Command("emulator")
    .description(
      "run a local Managed Agents API (agents, environments, vaults, credentials, sessions with a scripted agent) that the official SDK and reconcile talk to, without credits",
    )
    .option("--port <n>", "TCP port to listen on (0 = any free port)", integerIn(0, 65535, "port"), 4010)
    .option("--host <host>", "interface to bind", "127.0.0.1")
    .option("--state <file>", "persist state to this JSON file (loaded at start, rewritten after every change)")
    .option("--latency <ms>", "delay added to every request, in milliseconds", integerIn(0, 600_000, "latency"), 0)
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
    .option("--log", "print one line per request to stderr", false)
    .action(
      async (opts: {
        port: number;
        host: string;
        state?: string;
        latency: number;
        faultRate: number;
        seed: number;
        sessionStep: number;
        log: boolean;
      }) => {
        const emulator = await startEmulator({
          port: opts.port,
          host: opts.host,
          stateFile: opts.state,
          latencyMs: opts.latency,
          faultRate: opts.faultRate,
          seed: opts.seed,
          sessionStepMs: opts.sessionStep,
          log: opts.log ? (line) => process.stderr.write(`${line}\n`) : undefined,
        });
        process.stderr.write(
          `Managed Agents API emulator listening on ${emulator.url} (state: ${opts.state ?? "in memory"}). ` +
            `Point the SDK at it: ANTHROPIC_BASE_URL=${emulator.url} ANTHROPIC_API_KEY=any-non-empty-key\n`,
        );
        const signal = await untilSignal();
        await emulator.close();
        process.stderr.write(`Emulator stopped (${signal}).\n`);
      },
    );
}
