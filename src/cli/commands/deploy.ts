/**
 * `reconcile deploy run NAME [--json]` and `reconcile deploy runs NAME [--limit N] [--json]`, with the shared
 * `--dir`, `--target`, `--local`, `--timeout`: operate the stack's deployments by spec name.
 *
 * - `run` triggers a run now (the API's `POST /v1/deployments/{id}/run`; a paused deployment runs too) and prints
 *   one line with the run id and the session it started. Exit 0 when a session started, 1 when the API recorded the run with an error
 *   (the error type and message are printed), 1 on any other error.
 * - `runs` lists the most recent runs (default 10, at most 100), newest first: run id, when, trigger, the agent
 *   version, and the session or the error. Exit 0, 1 on error.
 *
 * NAME resolves like `reconcile outputs`: through the stack's live state (deployments this stack owns, by ownership
 * metadata; one list call), never through a state file. An unknown name says which deployments the stack has, and
 * whether the spec exists but was not applied yet. With `--json`, stdout holds only JSON: `{deployment: {name, id},
 * run}` or `{deployment, runs}`, the runs as the API returns them (SDK `BetaManagedAgentsDeploymentRun`). Every value
 * from the API is printed with control characters escaped.
 */
import { Command, InvalidArgumentError } from "commander";
import { RequestConnectionError, RequestTimeoutError } from "../../providers/client.js";
import {
  type DeploymentRun,
  deploymentProvider,
  MAX_RUNS_PAGE,
  recentRuns,
  startRun,
} from "../../providers/deployment.js";
import { addressOf } from "../../providers/resource.js";
import { escapeControl, escapeJsonText } from "../../reconcile/escape.js";
import { observe } from "../../reconcile/observe.js";
import type { LoadedProject } from "../../reconcile/workflow.js";
import type { Connection } from "../connect.js";
import type { Output } from "../output.js";
import { type ProjectFlags, projectOptions, withProject } from "../session.js";

/** How long `deploy run --local` waits for the local state file's lock held by another command (30s). */
export const LOCAL_LOCK_WAIT_MS = 30_000;

/** Flags of `deploy run`. */
export interface DeployRunFlags extends ProjectFlags {
  json?: boolean;
}

/** Flags of `deploy runs`. */
export interface DeployRunsFlags extends ProjectFlags {
  json?: boolean;
  /** How many runs to list (1 to `MAX_RUNS_PAGE`), default 10. */
  limit?: number;
}

/** Thrown when NAME is not a deployment the stack has live; the message lists the ones it has. */
export class UnknownDeploymentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnknownDeploymentError";
  }
}

/** The deployment NAME refers to: its live id, found among the deployments this stack owns. */
export interface NamedDeployment {
  name: string;
  id: string;
}

/**
 * The live deployment of the stack named `name` (one list call: deployments only).
 * @throws UnknownDeploymentError naming the stack's deployments, or saying the spec is not applied yet
 */
export async function findDeployment(
  project: LoadedProject,
  connection: Connection,
  name: string,
): Promise<NamedDeployment> {
  const live = await observe(
    connection.client,
    { stack: project.config.stack, secrets: connection.secrets },
    { providers: [deploymentProvider] },
  );
  const found = live.resources.get(addressOf("deployment", name));
  if (found) return { name, id: found.id };
  const where = `stack ${project.config.stack}, target ${project.target.name}`;
  if ((project.specs.deployments ?? []).some((d) => d.name === name)) {
    throw new UnknownDeploymentError(
      `deployment "${name}" is declared but does not exist on ${where} yet: run reconcile apply first`,
    );
  }
  const names = [...live.resources.values()].map((r) => r.name).sort();
  const known = names.length > 0 ? `the stack's deployments: ${names.join(", ")}` : "the stack has no deployments yet";
  throw new UnknownDeploymentError(`no deployment "${name}" on ${where}; ${known}`);
}

/** `2026-11-27T01:00:03.123456Z` → `2026-11-27 01:00:03 UTC`. */
function when(timestamp: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/.exec(timestamp);
  return m ? `${m[1]} ${m[2]} UTC` : timestamp;
}

/** What became of a run: `session sesn_…` or `failed: <type>: <message>`. */
function outcome(run: DeploymentRun): string {
  if (run.session_id) return `session ${run.session_id}`;
  const error = run.error;
  return error ? `failed: ${error.type}: ${error.message}` : "no session";
}

/** The trigger of a run: `manual`, or `schedule (2026-11-27T01:00:00Z)`. */
function trigger(run: DeploymentRun): string {
  const context = run.trigger_context;
  return context.type === "schedule" ? `schedule (${context.scheduled_at})` : context.type;
}

/** The text table of `runs`: one aligned row per run, newest first, escaped for a terminal. */
export function renderRunsText(deployment: NamedDeployment, runs: readonly DeploymentRun[]): string {
  if (runs.length === 0) return `No runs of deployment.${deployment.name} (${deployment.id}) yet.\n`;
  const rows = [
    ["RUN", "CREATED", "TRIGGER", "AGENT", "OUTCOME"],
    ...runs.map((run) => [run.id, when(run.created_at), trigger(run), `version ${run.agent.version}`, outcome(run)]),
  ].map((row) => row.map((cell) => escapeControl(cell)));
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? "").length))) ?? [];
  return rows
    .map((row) => `${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  ")}\n`)
    .join("");
}

/** The hint added to an error of the run request: a lost answer may still have started a run. */
function lostRunHint(error: unknown, name: string): unknown {
  if (!(error instanceof RequestTimeoutError || error instanceof RequestConnectionError)) return error;
  const hint = new Error(
    `${error.message}. The run may have started anyway: check \`reconcile deploy runs ${name}\` before running it again`,
  );
  hint.name = error.name;
  return hint;
}

/** Runs `deploy run` and returns the exit code. */
export function runDeployRun(name: string, flags: DeployRunFlags, output: Output): Promise<number> {
  return withProject(
    flags,
    output,
    async (project, connection) => {
      const deployment = await findDeployment(project, connection, name);
      let run: DeploymentRun;
      try {
        run = await startRun(connection.client, deployment.id);
      } catch (error) {
        throw lostRunHint(error, name);
      }
      if (flags.json) {
        output.out(escapeJsonText(`${JSON.stringify({ deployment, run }, null, 2)}\n`));
      } else {
        const detail = run.session_id
          ? `started session ${run.session_id} (agent ${run.agent.id} version ${run.agent.version})`
          : `did not start a session: ${outcome(run).replace(/^failed: /, "")}`;
        output.out(`${escapeControl(`Run ${run.id} of deployment.${name} (${deployment.id}) ${detail}.`)}\n`);
      }
      return run.session_id ? 0 : 1;
    },
    // With --local the run writes the emulator's state file: wait a little for another command's lock.
    { operation: "deploy run", timeoutMs: LOCAL_LOCK_WAIT_MS },
  );
}

/** Runs `deploy runs` and returns the exit code. */
export function runDeployRuns(name: string, flags: DeployRunsFlags, output: Output): Promise<number> {
  return withProject(flags, output, async (project, connection) => {
    const deployment = await findDeployment(project, connection, name);
    const runs = await recentRuns(connection.client, deployment.id, flags.limit ?? 10);
    output.out(
      flags.json
        ? escapeJsonText(`${JSON.stringify({ deployment, runs }, null, 2)}\n`)
        : renderRunsText(deployment, runs),
    );
    return 0;
  });
}

/** `--limit N`: a whole number from 1 to `MAX_RUNS_PAGE`. @throws InvalidArgumentError */
function parseLimit(value: string): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_RUNS_PAGE) {
    throw new InvalidArgumentError(`expected a whole number from 1 to ${MAX_RUNS_PAGE}`);
  }
  return n;
}

/** The commander definition of `deploy` and its subcommands `run` and `runs`. */
export function deployCommand(output: Output, setExit: (code: number) => void): Command {
  const deploy = new Command("deploy").description(
    "operate the stack's deployments by spec name: run one now, list its runs",
  );
  const configure = (command: Command) =>
    command.exitOverride().configureOutput({ writeOut: output.out, writeErr: output.err });
  deploy.addCommand(
    configure(
      projectOptions(new Command("run"))
        .description(
          "trigger a run of deployment NAME now (paused deployments too) and print the run id; exit 1 if its session did not start",
        )
        .argument("<name>", "the Deployment spec name")
        .option("--json", "print {deployment, run} as JSON only")
        .action(async (name: string, flags: DeployRunFlags) => setExit(await runDeployRun(name, flags, output))),
    ),
  );
  deploy.addCommand(
    configure(
      projectOptions(new Command("runs"))
        .description("list the recent runs of deployment NAME, newest first, with their trigger, time and outcome")
        .argument("<name>", "the Deployment spec name")
        .option("--limit <n>", `how many runs to list (1-${MAX_RUNS_PAGE}, default 10)`, parseLimit)
        .option("--json", "print {deployment, runs} as JSON only")
        .action(async (name: string, flags: DeployRunsFlags) => setExit(await runDeployRuns(name, flags, output))),
    ),
  );
  return deploy;
}
