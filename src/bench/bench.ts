/**
 * The benchmark itself: generate a fleet; time a bare `yaml` parse of its files and `reconcile validate`'s work,
 * each cold in a fresh process (`probe.ts`); apply it to an emulator with injected latency, plan it again (no-op),
 * change 10% of the agents, plan and apply that, and check it converged. Every step is timed with
 * `performance.now()` and its requests counted with the emulator's `stats()`; each figure comes with its floor (see
 * `bounds.ts`), and the issue's targets are ratios measured in the same run (issue 10 item 6). `run.ts` is the
 * command line around it.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Worker } from "node:worker_threads";
import { observeEarly } from "../cli/observe-early.js";
import { type EmulatorOptions, startEmulator } from "../emulator/index.js";
import { createClient } from "../providers/client.js";
import { envSecrets } from "../providers/secrets.js";
import { applyPlan } from "../reconcile/apply.js";
import type { Plan } from "../reconcile/plan.js";
import { planHasChanges } from "../reconcile/plan.js";
import { renderPlanText } from "../reconcile/render-text.js";
import {
  type LoadedProject,
  loadProjectHead,
  loadSpecsFor,
  type PreparedPlan,
  preparePlan,
} from "../reconcile/workflow.js";
import { PARSE_CACHE_ENV } from "../spec/parse-cache.js";
import { PARSE_WORKERS_ENV } from "../spec/parse-pool.js";
import { type Bound, EMPTY, observeBound, sequence, writesBound } from "./bounds.js";
import { changeAgentPrompts, DEFAULT_FLEET, type FleetOptions, generateFleet, setFleetSecrets } from "./fleet.js";
import type { ProbeResult } from "./probe.js";

/** Options of `runBenchmark`. */
export interface BenchOptions {
  fleet: FleetOptions;
  /** Delay the emulator adds to every request, in milliseconds. */
  latencyMs: number;
  /** Apply's `concurrency` (the CLI's default is 4). */
  concurrency: number;
  /** Change the prompt of every `changeEvery`-th agent (10 → 10% of them). */
  changeEvery: number;
  /** Where to write the fleet; default a fresh temporary directory, removed afterwards. */
  dir?: string;
  /** Keep the fleet directory afterwards. */
  keep?: boolean;
  /**
   * Where the emulator runs: `worker` (default; a worker thread of this process, so its CPU does not inflate the
   * client's timings, as with a real remote API) or `in-process` (same event loop; needed when running from
   * TypeScript sources, as the tests do).
   */
  emulator?: "worker" | "in-process";
  /** Cold runs of each probe (bare parse, validate), alternated; the median counts. Default 3. */
  probes?: number;
  /**
   * Runs of each no-op plan step (with and without the parse cache), one after another; the median run counts and
   * every run is listed (`StepResult.runs`). One run on a shared machine can be off by a third. Default 5.
   */
  planRuns?: number;
  /**
   * Runs of the no-op plan before the measured ones, not counted: the first runs after the initial apply are the
   * first to take the no-op path (equal states, the parse cache read back), which V8 has not compiled yet, and they
   * collect the garbage the apply left (two mark-compacts of about 100 MB on the benchmark fleet). Default 2. (A
   * full collection before each run instead, with `--expose-gc`, made every run slower: V8 then shrinks the young
   * generation, and the run pays for growing it back with more scavenges.)
   */
  planWarmup?: number;
  /** Receives progress lines (no newline). */
  progress?: (line: string) => void;
  /**
   * Write a V8 CPU profile of the no-op plan step (the main thread only; the worker emulator is not in it) to
   * `<profileDir>/noop-plan.cpuprofile`, readable by Chrome DevTools or `speedscope`.
   */
  profileDir?: string;
}

/** The emulator as the benchmark drives it, wherever it runs. */
export interface BenchEmulator {
  url: string;
  stats(): Promise<{ requests: number; byRoute: Record<string, number> }>;
  resetStats(): Promise<void>;
  close(): Promise<void>;
}

/** Starts the emulator on the benchmark's event loop. */
export async function inProcessEmulator(options: EmulatorOptions): Promise<BenchEmulator> {
  const emulator = await startEmulator(options);
  return {
    url: emulator.url,
    stats: async () => emulator.stats(),
    resetStats: async () => emulator.resetStats(),
    close: () => emulator.close(),
  };
}

/** Starts the emulator in a worker thread (`emulator-worker.js`, next to this module once compiled). */
export async function workerEmulator(options: EmulatorOptions): Promise<BenchEmulator> {
  const worker = new Worker(new URL("./emulator-worker.js", import.meta.url), { workerData: options });
  const pending = new Map<number, (result: unknown) => void>();
  let next = 0;
  const url = await new Promise<string>((resolve, reject) => {
    worker.once("error", reject);
    worker.on("message", (message: { ready?: string; error?: string; id?: number; result?: unknown }) => {
      if (message.ready) resolve(message.ready);
      else if (message.error) reject(new Error(`emulator worker: ${message.error}`));
      else if (message.id !== undefined) {
        pending.get(message.id)?.(message.result);
        pending.delete(message.id);
      }
    });
  });
  const call = <T>(op: "stats" | "reset" | "close") =>
    new Promise<T>((resolve) => {
      const id = next++;
      pending.set(id, (result) => resolve(result as T));
      worker.postMessage({ id, op });
    });
  return {
    url,
    stats: () => call("stats"),
    resetStats: () => call("reset"),
    close: async () => {
      await call("close");
      await worker.terminate();
    },
  };
}

/** The benchmark's defaults: the fleet, 20 ms per request, apply concurrency 4, 10% of agents changed. */
export const DEFAULT_BENCH: BenchOptions = {
  fleet: DEFAULT_FLEET,
  latencyMs: 20,
  concurrency: 4,
  changeEvery: 10,
  emulator: "worker",
};

/** One measured step. */
export interface StepResult {
  label: string;
  ms: number;
  /** Requests the emulator served during the step (absent for steps that make none). */
  requests?: number;
  /** Requests by route, e.g. `{"GET /v1/agents": 10}`. */
  byRoute?: Record<string, number>;
  /** The floor: fewest requests, and the latency-bound time in ms. */
  min?: { requests: number; ms: number };
  /**
   * Where the time went, for plan steps: `load` (reconcile.yaml and the specs, while the observe runs), `observe_and_diff`
   * (what is left of the observe once the specs are loaded, and the diff), `render`.
   */
  parts?: Record<string, number>;
  /**
   * For plan steps: how long the main thread was busy (event-loop utilization's `active` time), in milliseconds: the
   * plan's own CPU, without the time spent waiting for answers. Steadier than `ms` on a loaded machine, though a
   * preempted thread still counts as busy.
   */
  busy_ms?: number;
  /** For probe steps and repeated plan steps: each run, in milliseconds (the step's `ms` is their median). */
  runs?: number[];
  /** For probe steps: the median CPU time of the runs (every thread), in milliseconds. */
  cpu_ms?: number;
}

/** A pass/fail line: a target from the issue, or a correctness check of the run. */
export interface Verdict {
  name: string;
  pass: boolean;
  detail: string;
}

/** Everything the benchmark measured. */
export interface BenchResult {
  fleet: FleetOptions;
  latency_ms: number;
  concurrency: number;
  emulator: "worker" | "in-process";
  spec_files: number;
  resources: number;
  /** How the validate figures were taken: `process` (a fresh process per run, cold) or `in-process` (from sources). */
  probe: "process" | "in-process";
  /** Measured runs of each no-op plan step (the median counts), and the warm-up runs before them (not counted). */
  plan_runs: number;
  plan_warmup: number;
  steps: {
    /** The baseline: a bare `yaml` parse of the same files (see probe.ts). */
    bare_parse: StepResult;
    /** `reconcile validate`'s work, worker threads as automatic. */
    validate: StepResult;
    /** The same, parsing in one thread (`RECONCILE_PARSE_WORKERS=0`). */
    validate_one_thread: StepResult;
    initial_apply: StepResult;
    /** The no-op plan as a developer re-runs it: the parse cache holds every file (written by the plan before). */
    noop_plan: StepResult;
    /** The same without the parse cache, as on a fresh clone (CI): every file parsed. */
    noop_plan_no_cache: StepResult;
    change_plan: StepResult;
    change_apply: StepResult;
  };
  /** Highest RSS seen (sampled every 20 ms, and the OS's max RSS), in bytes. Includes the in-process emulator. */
  peak_rss_bytes: number;
  targets: Verdict[];
  checks: Verdict[];
  pass: boolean;
}

/**
 * Samples RSS every 20 ms until stopped (`memoryUsage.rss()`: the RSS alone, without the walk of the heap's spaces
 * that `memoryUsage()` makes on the timed steps' thread); `peak()` also folds in the kernel's max RSS for the process.
 */
function memorySampler(): { stop(): void; peak(): number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  timer.unref();
  return {
    stop: () => clearInterval(timer),
    peak: () => Math.max(peak, process.memoryUsage.rss(), process.resourceUsage().maxRSS * 1024),
  };
}

const num = (n: number) => n.toLocaleString("en-US");
const round1 = (n: number) => Math.round(n * 10) / 10;
const withMin = (bound: Bound, latencyMs: number) => ({ requests: bound.requests, ms: bound.rounds * latencyMs });

/** Counts of a plan's actions other than `unchanged`. */
function actionCounts(plan: Plan): string {
  const s = plan.summary;
  return `${s.create} create, ${s.update} update, ${s.replace} replace, ${s.archive} archive, ${s.keep} keep`;
}

/** The target for validate: at most this many times a bare `yaml` parse of the same files. */
export const VALIDATE_RATIO_TARGET = 1.5;

/**
 * The target for a no-op plan: at most the latency bound plus this, in milliseconds, on the fleet
 * (1,000 agents: `DEFAULT_FLEET`).
 */
export const NOOP_PLAN_SLACK_MS = 300;

/**
 * The slack of the no-op plan target for a fleet of `agents` agents, in milliseconds: `NOOP_PLAN_SLACK_MS` per
 * 1,000 agents (the fleet), and never less than `NOOP_PLAN_SLACK_MS`. The slack is the plan's own CPU time
 * beyond waiting on requests, which grows with the fleet: a fixed 300 ms at 10,000 agents would ask each agent to cost
 * a tenth of what it may cost at 1,000, against the rule for the scale step (grow no faster than linearly).
 * So `--scale 10` holds the 10× run to the bound + 3 s. See docs/adr/0023-speed.md.
 */
export function noopPlanSlackMs(agents: number): number {
  return NOOP_PLAN_SLACK_MS * Math.max(1, agents / DEFAULT_FLEET.agents);
}

/**
 * `300` → `"300 ms"`; a slack scaled for a larger fleet says how:
 * `"3000 ms (300 ms per 1,000 agents, 10,000 here)"`.
 */
function formatSlack(slack: number, agents: number): string {
  if (slack === NOOP_PLAN_SLACK_MS) return `${NOOP_PLAN_SLACK_MS} ms`;
  return `${Math.round(slack)} ms (${NOOP_PLAN_SLACK_MS} ms per ${DEFAULT_FLEET.agents.toLocaleString("en-US")} agents, ${agents.toLocaleString("en-US")} here)`;
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const PROBE = fileURLToPath(new URL("./probe.js", import.meta.url));
const run = promisify(execFile);

/**
 * Cold runs of the bare parse, validate, and validate in one thread, `times` each, alternated so that a change in the
 * machine's load affects all three alike. Each run is a fresh process (`probe.js`); from TypeScript sources (tests),
 * where there is no compiled probe, they run in this process instead (warm after the first: `where` says which).
 */
async function runProbes(
  dir: string,
  times: number,
  progress: (line: string) => void,
): Promise<{
  where: "process" | "in-process";
  parse: number[];
  validate: number[];
  validateOneThread: number[];
  /** CPU time of the same runs (`ProbeResult.cpu_ms`). */
  cpu: { parse: number[]; validate: number[]; validateOneThread: number[] };
}> {
  const where = existsSync(PROBE) ? "process" : "in-process";
  const once = async (mode: "parse" | "validate", workers?: string): Promise<ProbeResult> => {
    const env = { ...process.env };
    if (workers === undefined) delete env[PARSE_WORKERS_ENV];
    else env[PARSE_WORKERS_ENV] = workers;
    // Validate parses every file, as on a fresh clone: the parse cache would make it skip the work compared.
    env[PARSE_CACHE_ENV] = "off";
    if (where === "in-process") {
      const { probe } = await import("./probe.js");
      return probe(mode, dir);
    }
    const { stdout } = await run(process.execPath, [PROBE, mode, dir], { env, maxBuffer: 1 << 20 });
    const result = JSON.parse(stdout) as ProbeResult;
    if (result.errors > 0) throw new Error(`the ${mode} probe found ${result.errors} errors in the generated fleet`);
    return result;
  };
  const out = {
    where,
    parse: [] as number[],
    validate: [] as number[],
    validateOneThread: [] as number[],
    cpu: { parse: [] as number[], validate: [] as number[], validateOneThread: [] as number[] },
  } as const;
  for (let i = 0; i < times; i++) {
    progress(`cold runs ${i + 1}/${times}: bare parse, validate, validate in one thread`);
    for (const [key, mode, workers] of [
      ["parse", "parse", undefined],
      ["validate", "validate", undefined],
      ["validateOneThread", "validate", "0"],
    ] as const) {
      const result = await once(mode, workers);
      out[key].push(result.ms);
      out.cpu[key].push(result.cpu_ms);
    }
  }
  return out;
}

/**
 * Runs `fn` under the V8 CPU profiler of this thread (`node:inspector`) and writes the profile to
 * `<dir>/<name>.cpuprofile` (the directory is created), the format of `node --cpu-prof`.
 */
async function profiled<T>(dir: string, name: string, fn: () => Promise<T>): Promise<T> {
  const session = new Session();
  session.connect();
  try {
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 200 });
    await session.post("Profiler.start");
    const value = await fn();
    const { profile } = await session.post("Profiler.stop");
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    return value;
  } finally {
    session.disconnect();
  }
}

/**
 * Runs the whole benchmark and returns its figures and verdicts. Sets `BENCH_SECRET_n` in `process.env`. Never
 * throws for a missed target (see `pass`); throws when the fleet does not load or the emulator cannot start.
 */
export async function runBenchmark(options: BenchOptions): Promise<BenchResult> {
  const progress = options.progress ?? (() => {});
  const memory = memorySampler();
  const dir = options.dir ?? (await mkdtemp(path.join(tmpdir(), "reconcile-bench-")));
  const { latencyMs, concurrency } = options;
  const f = options.fleet;
  let emulator: BenchEmulator | undefined;
  try {
    progress(
      `generating ${f.agents} agents, ${f.environments} environments, ${f.vaults} vaults × ${f.credentialsPerVault} credentials, ${f.toolsets} toolsets in ${dir}`,
    );
    const fleet = await generateFleet(dir, f);
    setFleetSecrets(fleet);
    const secrets = envSecrets();

    // validate against a bare yaml parse of the same files: cold runs, alternated, medians compared.
    const probes = await runProbes(dir, options.probes ?? 3, progress);
    const probeStep = (label: string, runs: number[], cpu: number[]): StepResult => ({
      label,
      ms: median(runs),
      runs,
      cpu_ms: median(cpu),
    });
    const bareParse = probeStep(`bare yaml parse (${num(fleet.specFiles)} spec files)`, probes.parse, probes.cpu.parse);
    const validate = probeStep(`validate (${num(fleet.specFiles)} spec files)`, probes.validate, probes.cpu.validate);
    const validateOneThread = probeStep(
      "validate, parsing in one thread",
      probes.validateOneThread,
      probes.cpu.validateOneThread,
    );
    progress(
      `bare parse ${round1(bareParse.ms)} ms, validate ${round1(validate.ms)} ms (one thread ${round1(validateOneThread.ms)} ms)`,
    );

    const emulatorOptions: EmulatorOptions = { port: 0, latencyMs };
    emulator =
      options.emulator === "in-process"
        ? await inProcessEmulator(emulatorOptions)
        : await workerEmulator(emulatorOptions);
    const client = createClient({ apiKey: "bench", baseURL: emulator.url, maxRetries: 0 });
    const em = emulator;
    const counted = async <T>(fn: () => Promise<T>) => {
      await em.resetStats();
      const start = performance.now();
      const value = await fn();
      const ms = performance.now() - start;
      const stats = await em.stats();
      return { value, ms, requests: stats.requests, byRoute: stats.byRoute };
    };
    const connection = { client, secrets, describe: em.url, close: async () => {} };
    /**
     * `reconcile plan`, as the CLI runs it: read reconcile.yaml, start observing (`observeEarly`), load the specs
     * meanwhile, then diff with the live state once it has arrived, and render.
     */
    const plan = async (parseCache = true) => {
      const parts: Record<string, number> = {};
      const loop = performance.eventLoopUtilization();
      let s = performance.now();
      const head = await loadProjectHead(dir);
      const early = observeEarly(head, async () => connection);
      let project: LoadedProject;
      try {
        project = await loadSpecsFor(head, { parseCache });
      } catch (error) {
        await early.abandon();
        throw error;
      }
      parts.load = round1(performance.now() - s);
      s = performance.now();
      const prepared = await preparePlan({ project, client, secrets, observed: early.observed });
      parts.observe_and_diff = round1(performance.now() - s);
      s = performance.now();
      renderPlanText(prepared.plan, { color: false });
      parts.render = round1(performance.now() - s);
      return { prepared, parts, busy: round1(performance.eventLoopUtilization(loop).active) };
    };
    const apply = async (prepared: PreparedPlan, what: string) => {
      const total = prepared.plan.actions.filter((a) => a.action !== "keep").length;
      const step = Math.max(1, Math.ceil(total / 10));
      let done = 0;
      return applyPlan(client, prepared.plan, prepared.desired, prepared.live, prepared.ctx, {
        concurrency,
        onOutcome: () => {
          done++;
          if (done % step === 0 || done === total) progress(`${what}: ${done}/${total}`);
        },
      });
    };

    const targets: Verdict[] = [];
    const checks: Verdict[] = [];

    // Initial apply: plan against an empty workspace, then create everything.
    progress(`initial apply of ${fleet.resources} resources (${latencyMs} ms per request, concurrency ${concurrency})`);
    // Keeps the apply's outcome and the planned count only (not the plan, desired and live state: see `planRun`).
    const initial = await counted(async () => {
      const { prepared } = await plan();
      const result = await apply(prepared, "initial apply");
      return { creates: prepared.plan.summary.create, result };
    });
    const creates = initial.value.creates;
    checks.push({
      name: "initial apply creates every resource",
      pass: creates === fleet.resources && initial.value.result.failed + initial.value.result.skipped === 0,
      detail: `${creates}/${fleet.resources} planned, ${initial.value.result.done} done, ${initial.value.result.failed} failed, ${initial.value.result.skipped} skipped`,
    });
    const liveShape = {
      agents: f.agents,
      environments: f.environments,
      vaults: f.vaults,
      credentialsPerVault: f.credentialsPerVault,
      skills: f.skills ?? 0,
      tunnels: f.tunnels ?? 0,
      memoryStores: f.memoryStores ?? 0,
      deployments: fleet.deployments.length,
    };
    // The longest chain of creates: a vault then its credential (2); a tunnel or skill, then the agent that refers to
    // it, then the deployment pinning that agent (3).
    const depth = fleet.deployments.length > 0 && (liveShape.skills > 0 || liveShape.tunnels > 0) ? 3 : 2;
    const initialApply: StepResult = {
      label: `initial apply (plan + ${num(fleet.resources)} creates)`,
      ms: initial.ms,
      requests: initial.requests,
      byRoute: initial.byRoute,
      min: withMin(sequence(observeBound(EMPTY), writesBound(fleet.resources, concurrency, depth)), latencyMs),
    };
    progress(`initial apply: ${round1(initial.ms)} ms, ${initial.requests} requests`);

    /** `step` run `planRuns` times, one after another: the median run (by time), and every run's time. */
    const planRuns = Math.max(1, options.planRuns ?? 5);
    const repeated = async <T>(what: string, step: (run: number) => Promise<{ ms: number } & T>) => {
      const results: Array<{ ms: number } & T> = [];
      for (let run = 0; run < planRuns; run++) {
        results.push(await step(run));
        progress(`${what}: run ${run + 1}/${planRuns}, ${round1(results[run]?.ms ?? 0)} ms`);
      }
      const byTime = [...results].sort((a, b) => a.ms - b.ms);
      const median = byTime[Math.floor((byTime.length - 1) / 2)] as { ms: number } & T;
      return { median, all: results, runs: results.map((r) => r.ms) };
    };

    // No-op plan. The profile, when asked for, is of one more run after the warm-up runs and before the measured ones
    // (profiling slows it).
    progress("no-op plan");
    /**
     * A plan run as the repeated steps keep it: the figures and the action counts, not the plan, desired and live
     * state themselves (five of those kept alive would grow the heap each later run collects).
     */
    const planRun = async (parseCache: boolean) => {
      const { value, ...figures } = await counted(() => plan(parseCache));
      const summary = value.prepared.plan;
      return {
        ...figures,
        parts: value.parts,
        busy: value.busy,
        changes: planHasChanges(summary),
        actions: actionCounts(summary),
      };
    };
    const warmup = Math.max(0, options.planWarmup ?? 2);
    for (let run = 0; run < warmup; run++) {
      const { ms } = await planRun(true);
      progress(`no-op plan: warm-up run ${run + 1}/${warmup}, ${round1(ms)} ms (not counted)`);
    }
    if (options.profileDir) await profiled(options.profileDir, "noop-plan", () => plan());
    /**
     * A no-op plan step: `planRuns` runs (`repeated`) as the median run's figures with every run's time, and the check
     * named `check` that no run had a change (naming the first that had one).
     */
    const noopStep = async (label: string, parseCache: boolean, check: string) => {
      const { median, all, runs } = await repeated(label, () => planRun(parseCache));
      const step: StepResult = {
        label,
        ms: median.ms,
        requests: median.requests,
        byRoute: median.byRoute,
        min: withMin(observeBound(liveShape), latencyMs),
        parts: median.parts,
        busy_ms: median.busy,
        ...(planRuns > 1 ? { runs } : {}),
      };
      const changedRun = all.find((r) => r.changes) ?? median;
      checks.push({ name: check, pass: !changedRun.changes, detail: changedRun.actions });
      return step;
    };
    const noopPlan = await noopStep(
      "no-op plan",
      true,
      `no-op plan has no changes${planRuns > 1 ? " (every run)" : ""}`,
    );
    progress(`no-op plan: median ${round1(noopPlan.ms)} ms, ${noopPlan.requests} requests`);
    progress("no-op plan without the parse cache");
    const noopPlanNoCache = await noopStep(
      "no-op plan, no parse cache (fresh clone)",
      false,
      "no-op plan without the parse cache has no changes either",
    );
    progress(`no-op plan without the parse cache: ${round1(noopPlanNoCache.ms)} ms`);

    // Change every 10th agent's prompt, plan (expect exactly that many updates), apply.
    const changed = await changeAgentPrompts(fleet, options.changeEvery);
    // Deployments pinned to a changed agent are repointed to its new version in the same apply (issue 11).
    const changedSet = new Set(changed);
    const repointed = fleet.deployments.filter((d) => changedSet.has(d.agent)).map((d) => d.name);
    progress(`changed the system prompt of ${changed.length} agents; planning`);
    const change = await counted(() => plan());
    const s = change.value.prepared.plan.summary;
    const updatedAddresses = new Set(
      change.value.prepared.plan.actions.filter((a) => a.action === "update").map((a) => a.address),
    );
    checks.push({
      name: `plan after the change has exactly ${changed.length} agent updates and ${repointed.length} deployment repoints`,
      pass:
        s.update === changed.length + repointed.length &&
        s.create + s.replace + s.archive + s.keep === 0 &&
        changed.every((name) => updatedAddresses.has(`agent.${name}`)) &&
        repointed.every((name) => updatedAddresses.has(`deployment.${name}`)),
      detail: actionCounts(change.value.prepared.plan),
    });
    const changePlan: StepResult = {
      label: `plan after changing ${num(changed.length)} agents`,
      ms: change.ms,
      requests: change.requests,
      byRoute: change.byRoute,
      min: withMin(observeBound(liveShape), latencyMs),
      parts: change.value.parts,
      busy_ms: change.value.busy,
    };
    progress(`change plan: ${round1(change.ms)} ms, ${change.requests} requests`);
    const changeApplied = await counted(() => apply(change.value.prepared, "apply"));
    checks.push({
      name: "apply of the change succeeds",
      pass: changeApplied.value.failed + changeApplied.value.skipped === 0 && changeApplied.value.done === s.update,
      detail: `${changeApplied.value.done} done, ${changeApplied.value.failed} failed, ${changeApplied.value.skipped} skipped`,
    });
    const changeApply: StepResult = {
      label: `apply ${num(s.update)} updates`,
      ms: changeApplied.ms,
      requests: changeApplied.requests,
      byRoute: changeApplied.byRoute,
      min: withMin(
        writesBound(changed.length + repointed.length, concurrency, repointed.length > 0 ? 2 : 1),
        latencyMs,
      ),
    };
    progress(`change apply: ${round1(changeApplied.ms)} ms, ${changeApplied.requests} requests`);

    progress("re-plan to check convergence");
    const after = await plan();
    checks.push({
      name: "live state converged (plan after apply is empty)",
      pass: !planHasChanges(after.prepared.plan),
      detail: actionCounts(after.prepared.plan),
    });

    memory.stop();
    const noopMin = noopPlan.min as { requests: number; ms: number };
    const noopRequests = noopPlan.requests ?? 0;
    const slack = noopPlanSlackMs(f.agents);
    const noopLimit = noopMin.ms + slack;
    const ratio = validate.ms / bareParse.ms;
    targets.push(
      {
        name: `validate ≤ ${VALIDATE_RATIO_TARGET} × bare yaml parse`,
        pass: ratio <= VALIDATE_RATIO_TARGET,
        detail: `${round1(validate.ms)} ms vs ${round1(bareParse.ms)} ms: ${ratio.toFixed(2)}× (one thread ${(validateOneThread.ms / bareParse.ms).toFixed(2)}×; CPU time ${((validate.cpu_ms ?? 0) / (bareParse.cpu_ms ?? 1)).toFixed(2)}×)`,
      },
      {
        name: `no-op plan ≤ latency bound + ${formatSlack(slack, f.agents)}`,
        pass: noopPlan.ms <= noopLimit,
        detail: `${round1(noopPlan.ms)} ms, limit ${round1(noopLimit)} ms (bound ${round1(noopMin.ms)} ms)`,
      },
      {
        name: "no-op plan requests ≤ 1.2 × minimum",
        pass: noopRequests <= 1.2 * noopMin.requests,
        detail: `${noopRequests} requests, minimum ${noopMin.requests} (limit ${Math.floor(1.2 * noopMin.requests)})`,
      },
    );
    return {
      fleet: f,
      latency_ms: latencyMs,
      concurrency,
      emulator: options.emulator ?? "worker",
      probe: probes.where,
      plan_runs: planRuns,
      plan_warmup: warmup,
      spec_files: fleet.specFiles,
      resources: fleet.resources,
      steps: {
        bare_parse: bareParse,
        validate,
        validate_one_thread: validateOneThread,
        initial_apply: initialApply,
        noop_plan: noopPlan,
        noop_plan_no_cache: noopPlanNoCache,
        change_plan: changePlan,
        change_apply: changeApply,
      },
      peak_rss_bytes: memory.peak(),
      targets,
      checks,
      pass: [...targets, ...checks].every((v) => v.pass),
    };
  } finally {
    memory.stop();
    await emulator?.close();
    if (!options.keep && !options.dir) await rm(dir, { recursive: true, force: true });
  }
}
