import type { AddressInfo } from "node:net";
import { FaultInjector } from "./faults.js";
import { MAX_PAGE_SIZE } from "./pagination.js";
import { buildServer, Stats } from "./server.js";
import { Store } from "./store.js";

/**
 * A local Managed Agents API: the same HTTP surface the official SDK talks to (agents with versions, environments,
 * vaults and credentials, sessions with their events and a scripted agent), with the real API's defaults, ordering, pagination, errors and write-only secrets. Used
 * as the embedded default target, as the test double, and by users to test agent repositories without credits.
 */

/** Options of `startEmulator`. */
export interface EmulatorOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind; default `"127.0.0.1"`. */
  host?: string;
  /** State file: loaded at start if it exists, rewritten atomically after every mutation. Default: memory only. */
  stateFile?: string;
  /** Load `stateFile` but never write it: a mutating request fails with a 500 (for commands that only read). */
  readOnlyState?: boolean;
  /** Default page size of list endpoints (1..100); default 20. Requests may pass `limit` up to 100. */
  pageSizeDefault?: number;
  /**
   * How long each request takes, in milliseconds (for benchmarks): the answer leaves this long after the request
   * arrived, the emulator's own work included, so a client sees the latency it asked for, as from a real API whose
   * response time that is (its work runs at once; only the answer waits). Default 0.
   */
  latencyMs?: number;
  /**
   * Probability (0..1) that a request fails: 429 `rate_limit_error` with `retry-after: 0|1`, 500 `api_error`, or a
   * dropped connection (socket destroyed without a response; for POST/DELETE sometimes after the change was applied,
   * so clients must not blindly repeat a create). Default 0.
   */
  faultRate?: number;
  /** Seed of the PRNG that decides faults, so runs are reproducible; default 1. */
  seed?: number;
  /** Receives one line per request (never bodies, so never secrets). */
  log?: (line: string) => void;
  /**
   * Delay before each event of the scripted session agent, in milliseconds (1..60000); default 20. Events always
   * come after the response to the request that caused them (docs/emulator.md).
   */
  sessionStepMs?: number;
  /** Interval of `ping` messages on open session event streams, in milliseconds (>= 10); default 15000. */
  heartbeatMs?: number;
  /**
   * Workspace ids `anthropic-workspace-id` may name; a request naming another is a 403 `permission_error`. Default:
   * none configured, and any id gets its own empty workspace on first use.
   */
  workspaces?: readonly string[];
}

/** A started emulator. */
export interface RunningEmulator {
  /** Base URL for the SDK's `baseURL`, e.g. `http://127.0.0.1:43121`. */
  url: string;
  /** The port actually bound. */
  port: number;
  /** Request counts: total and per route, e.g. `{"GET /v1/agents": 3}`. */
  stats(): { requests: number; byRoute: Record<string, number> };
  /** Sets the request counts back to zero. */
  resetStats(): void;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new RangeError(`startEmulator: ${message}`);
}

/**
 * Starts an emulator and resolves once it is listening.
 *
 * @throws RangeError for out-of-range options; Error naming the state file when it exists but is corrupt or of an
 * unsupported version; the listen error (e.g. `EADDRINUSE`) when the port is taken.
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const port = options.port ?? 0;
  const host = options.host ?? "127.0.0.1";
  const pageSizeDefault = options.pageSizeDefault ?? 20;
  const latencyMs = options.latencyMs ?? 0;
  const faultRate = options.faultRate ?? 0;
  const seed = options.seed ?? 1;
  check(Number.isInteger(port) && port >= 0 && port <= 65535, `port must be an integer in 0..65535, got ${port}`);
  check(
    Number.isInteger(pageSizeDefault) && pageSizeDefault >= 1 && pageSizeDefault <= MAX_PAGE_SIZE,
    `pageSizeDefault must be an integer in 1..${MAX_PAGE_SIZE}, got ${pageSizeDefault}`,
  );
  check(Number.isFinite(latencyMs) && latencyMs >= 0, `latencyMs must be >= 0, got ${latencyMs}`);
  check(Number.isFinite(faultRate) && faultRate >= 0 && faultRate <= 1, `faultRate must be in 0..1, got ${faultRate}`);
  check(Number.isFinite(seed), `seed must be a number, got ${seed}`);
  const sessionStepMs = options.sessionStepMs ?? 20;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  check(
    Number.isFinite(sessionStepMs) && sessionStepMs >= 1 && sessionStepMs <= 60_000,
    `sessionStepMs must be in 1..60000, got ${sessionStepMs}`,
  );
  check(Number.isFinite(heartbeatMs) && heartbeatMs >= 10, `heartbeatMs must be >= 10, got ${heartbeatMs}`);

  const store = Store.open(options.stateFile, options.readOnlyState === true);
  const stats = new Stats();
  const app = buildServer({
    store,
    stats,
    pageSizeDefault,
    latencyMs,
    faults: faultRate > 0 ? new FaultInjector(faultRate, seed) : null,
    log: options.log,
    sessionStepMs,
    heartbeatMs,
    workspaces: options.workspaces,
  });
  await app.listen({ port, host });
  const bound = (app.server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${bound}`,
    port: bound,
    stats: () => stats.snapshot(),
    resetStats: () => stats.reset(),
    close: () => app.close(),
  };
}
