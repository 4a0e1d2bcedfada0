/**
 * The benchmark itself, in-process: generate a fleet, validate it, apply it to an emulator with injected latency,
 * plan it again (no-op), change 10% of the agents, plan and apply that, and check it converged. Every step is timed
 * with `performance.now()` and its requests counted with the emulator's `stats()`; each figure comes with its floor
 * (see `bounds.ts`). `run.ts` is the command line around it.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { type EmulatorOptions, startEmulator } from "../emulator/index.js";
import { createClient } from "../providers/client.js";
import { envSecrets } from "../providers/secrets.js";
import { applyPlan } from "../reconcile/apply.js";
import type { Plan } from "../reconcile/plan.js";
import { planHasChanges } from "../reconcile/plan.js";
import { renderPlanText } from "../reconcile/render-text.js";
import { loadSpecs, type PreparedPlan, preparePlan } from "../reconcile/workflow.js";
import { type Bound, EMPTY, observeBound, sequence, writesBound } from "./bounds.js";
import { changeAgentPrompts, DEFAULT_FLEET, type FleetOptions, generateFleet, setFleetSecrets } from "./fleet.js";

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
  /** Receives progress lines (no newline). */
  progress?: (line: string) => void;
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
  /** Where the time went, for plan steps: `load`, `observe_and_diff`, `render`. */
  parts?: Record<string, number>;
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
  steps: {
    validate: StepResult;
    initial_apply: StepResult;
    noop_plan: StepResult;
    change_plan: StepResult;
    change_apply: StepResult;
  };
  /** Highest RSS seen (sampled every 20 ms, and the OS's max RSS), in bytes. Includes the in-process emulator. */
  peak_rss_bytes: number;
  targets: Verdict[];
  checks: Verdict[];
  pass: boolean;
}

/** Samples RSS until stopped; `peak()` also folds in the kernel's max RSS for the process. */
function memorySampler(): { stop(): void; peak(): number } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  timer.unref();
  return {
    stop: () => clearInterval(timer),
    peak: () => Math.max(peak, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024),
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

    // validate: load, schema-check and resolve every spec (what `reconcile validate` does), cold.
    progress("validate");
    const t = performance.now();
    let project = await loadSpecs(dir);
    const validate: StepResult = { label: `validate (${num(fleet.specFiles)} spec files)`, ms: performance.now() - t };
    progress(`validate: ${round1(validate.ms)} ms`);

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
    /** `reconcile plan`: load the specs, observe and diff, render. */
    const plan = async () => {
      const parts: Record<string, number> = {};
      let s = performance.now();
      project = await loadSpecs(dir);
      parts.load = round1(performance.now() - s);
      s = performance.now();
      const prepared = await preparePlan({ project, client, secrets });
      parts.observe_and_diff = round1(performance.now() - s);
      s = performance.now();
      renderPlanText(prepared.plan, { color: false });
      parts.render = round1(performance.now() - s);
      return { prepared, parts };
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
    const initial = await counted(async () => {
      const { prepared } = await plan();
      const result = await apply(prepared, "initial apply");
      return { prepared, result };
    });
    const creates = initial.value.prepared.plan.summary.create;
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
    };
    const initialApply: StepResult = {
      label: `initial apply (plan + ${num(fleet.resources)} creates)`,
      ms: initial.ms,
      requests: initial.requests,
      byRoute: initial.byRoute,
      min: withMin(sequence(observeBound(EMPTY), writesBound(fleet.resources, concurrency, 2)), latencyMs),
    };
    progress(`initial apply: ${round1(initial.ms)} ms, ${initial.requests} requests`);

    // No-op plan.
    progress("no-op plan");
    const noop = await counted(plan);
    const noopPlan: StepResult = {
      label: "no-op plan",
      ms: noop.ms,
      requests: noop.requests,
      byRoute: noop.byRoute,
      min: withMin(observeBound(liveShape), latencyMs),
      parts: noop.value.parts,
    };
    checks.push({
      name: "no-op plan has no changes",
      pass: !planHasChanges(noop.value.prepared.plan),
      detail: actionCounts(noop.value.prepared.plan),
    });
    progress(`no-op plan: ${round1(noop.ms)} ms, ${noop.requests} requests`);

    // Change every 10th agent's prompt, plan (expect exactly that many updates), apply.
    const changed = await changeAgentPrompts(fleet, options.changeEvery);
    progress(`changed the system prompt of ${changed.length} agents; planning`);
    const change = await counted(plan);
    const s = change.value.prepared.plan.summary;
    const updatedAddresses = new Set(
      change.value.prepared.plan.actions.filter((a) => a.action === "update").map((a) => a.address),
    );
    checks.push({
      name: `plan after the change has exactly ${changed.length} agent updates`,
      pass:
        s.update === changed.length &&
        s.create + s.replace + s.archive + s.keep === 0 &&
        changed.every((name) => updatedAddresses.has(`agent.${name}`)),
      detail: actionCounts(change.value.prepared.plan),
    });
    const changePlan: StepResult = {
      label: `plan after changing ${num(changed.length)} agents`,
      ms: change.ms,
      requests: change.requests,
      byRoute: change.byRoute,
      min: withMin(observeBound(liveShape), latencyMs),
      parts: change.value.parts,
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
      min: withMin(writesBound(changed.length, concurrency, 1), latencyMs),
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
    targets.push(
      { name: "validate < 1 s", pass: validate.ms < 1000, detail: `${round1(validate.ms)} ms` },
      { name: "no-op plan < 2 s", pass: noop.ms < 2000, detail: `${round1(noop.ms)} ms` },
      {
        name: "no-op plan requests ≤ 1.2 × minimum",
        pass: noop.requests <= 1.2 * noopMin.requests,
        detail: `${noop.requests} requests, minimum ${noopMin.requests} (limit ${Math.floor(1.2 * noopMin.requests)})`,
      },
    );
    return {
      fleet: f,
      latency_ms: latencyMs,
      concurrency,
      emulator: options.emulator ?? "worker",
      spec_files: fleet.specFiles,
      resources: fleet.resources,
      steps: {
        validate,
        initial_apply: initialApply,
        noop_plan: noopPlan,
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
