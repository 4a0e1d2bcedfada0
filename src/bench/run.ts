/**
 * `npm run bench` (`node dist/bench/run.js [--latency MS] [--concurrency N] [--probes N] [--plan-runs N]
 * [--plan-warmup N] [--factor F] [--scale N] [--json] [--keep] [--in-process-emulator] [--profile DIR]`): runs the
 * benchmark of `bench.ts` on the issue's fleet (1,000 agents, 100 environments, 50 vaults × 4 credentials, 50
 * toolsets; times `--factor`) and prints a table on stdout (or, with `--json`, the figures as JSON only); progress
 * goes to stderr. No colour.
 *
 * `--scale N` (issue 10 item 6) runs the benchmark twice, each in a fresh process so peak memory is its own: on the
 * fleet (1×) and on N times the fleet (`--scale 10`: 10,000 agents), and reports how validate, the no-op plan and
 * peak memory grow (ratios to the 1× run) and whether each grows no faster than linearly (`growth`).
 *
 * Exit 0 when every target and check passed (and, with `--scale`, growth is at most linear), 1 when one missed, 2 on
 * a usage error or a crash.
 */
import { execFile } from "node:child_process";
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { SpecErrorsFound } from "../reconcile/workflow.js";
import { formatSpecError } from "../spec/index.js";
import { type BenchResult, DEFAULT_BENCH, runBenchmark, type StepResult } from "./bench.js";
import { DEFAULT_FLEET, type FleetOptions } from "./fleet.js";

const USAGE = `usage: node dist/bench/run.js [--latency MS] [--concurrency N] [--probes N] [--plan-runs N] [--plan-warmup N] [--factor F] [--scale N] [--json] [--keep] [--in-process-emulator] [--profile DIR]

  --latency MS      delay the emulator adds to every request (default ${DEFAULT_BENCH.latencyMs})
  --concurrency N   apply concurrency (default ${DEFAULT_BENCH.concurrency}, as \`reconcile apply\`)
  --probes N        cold runs of the bare parse and of validate, median taken (default 3)
  --plan-runs N     runs of each no-op plan step, median taken (default 5)
  --plan-warmup N   runs of the no-op plan before those, not counted (default 2)
  --factor F        multiply the fleet's sizes by F (default 1: 1,000 agents); each size stays at least 1
  --scale N         also run N times the fleet, each run in its own process, and report how validate, the no-op
                    plan and peak memory grow (ratios to the 1× run), and whether that is at most linear
  --json            print the figures as JSON only (progress still goes to stderr)
  --keep            keep the generated fleet directory (its path is printed on stderr)
  --in-process-emulator
                    run the emulator on the benchmark's own event loop instead of a worker thread
                    (its CPU time then counts in every figure)
  --profile DIR     write a CPU profile of the no-op plan (main thread) to DIR/noop-plan.cpuprofile
`;

const num = (n: number) => n.toLocaleString("en-US");

/** `1234.5` ms → `"1.23 s"`, `412.3` → `"412 ms"`. */
export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
}

/** The default fleet with every size multiplied by `factor` (rounded, at least 1; credentials per vault unchanged). */
export function scaledFleet(factor: number, base: FleetOptions = DEFAULT_FLEET): FleetOptions {
  const times = (n: number) => Math.max(1, Math.round(n * factor));
  return {
    ...base,
    agents: times(base.agents),
    environments: times(base.environments),
    vaults: times(base.vaults),
    toolsets: times(base.toolsets),
    ...(base.memoryStores ? { memoryStores: times(base.memoryStores) } : {}),
    ...(base.skills ? { skills: times(base.skills) } : {}),
    ...(base.tunnels ? { tunnels: times(base.tunnels) } : {}),
    ...(base.deployments ? { deployments: times(base.deployments) } : {}),
  };
}

/** The human-readable report: the steps table, peak memory, targets and checks. */
export function formatTable(r: BenchResult): string {
  const f = r.fleet;
  const lines: string[] = [];
  lines.push(
    `reconcile benchmark: ${num(f.agents)} agents, ${num(f.environments)} environments, ${num(f.vaults)} vaults × ${f.credentialsPerVault} credentials, ${num(f.toolsets)} toolsets, ${num(f.memoryStores ?? 0)} memory stores, ${num(f.skills ?? 0)} skills, ${num(f.tunnels ?? 0)} tunnels, ${num(f.deployments ?? 0)} deployments (seed ${f.seed})`,
    `emulator (${r.emulator === "worker" ? "worker thread" : "same event loop"}) latency ${r.latency_ms} ms per request; apply concurrency ${r.concurrency}`,
    `parse and validate: median of cold runs, ${r.probe === "process" ? "each in a fresh process" : "in this process (no compiled probe)"}`,
    `no-op plans: median of ${r.plan_runs} runs${r.plan_warmup > 0 ? ` (the cached one after ${r.plan_warmup} warm-up run${r.plan_warmup === 1 ? "" : "s"}, not counted)` : ""}`,
    `"minimum" = fewest possible requests; "bound" = latency-bound time (critical path of sequential requests × latency)`,
    "",
  );
  const header = ["step", "time", "bound", "requests", "minimum", "x min"];
  const rows: string[][] = [header];
  const row = (s: StepResult) => [
    s.label,
    formatMs(s.ms),
    s.min ? formatMs(s.min.ms) : "-",
    s.requests === undefined ? "-" : num(s.requests),
    s.min ? num(s.min.requests) : "-",
    s.min && s.requests !== undefined && s.min.requests > 0 ? `${(s.requests / s.min.requests).toFixed(2)}` : "-",
  ];
  const st = r.steps;
  for (const s of [
    st.bare_parse,
    st.validate,
    st.validate_one_thread,
    st.initial_apply,
    st.noop_plan,
    st.noop_plan_no_cache,
    st.change_plan,
    st.change_apply,
  ]) {
    rows.push(row(s));
  }
  rows.push([
    "peak memory (RSS, incl. emulator)",
    `${Math.round(r.peak_rss_bytes / (1024 * 1024))} MB`,
    "-",
    "-",
    "-",
    "-",
  ]);
  const widths = header.map((_, i) => Math.max(...rows.map((cells) => (cells[i] ?? "").length)));
  for (const [n, cells] of rows.entries()) {
    lines.push(cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  "));
    if (n === 0) lines.push(widths.map((w) => "-".repeat(w)).join("  "));
  }
  for (const s of [st.bare_parse, st.validate, st.validate_one_thread, st.noop_plan, st.noop_plan_no_cache]) {
    if (s.runs) lines.push(`  ${s.label}: runs ${s.runs.map(formatMs).join(", ")}`);
  }
  for (const s of [st.noop_plan, st.noop_plan_no_cache, st.change_plan]) {
    if (s.parts) {
      const parts = Object.entries(s.parts)
        .map(([k, v]) => `${k} ${formatMs(v)}`)
        .join(", ");
      const busy = s.busy_ms === undefined ? "" : `; main thread busy ${formatMs(s.busy_ms)}`;
      lines.push(`  ${s.label}: ${parts}${busy}`);
    }
  }
  lines.push("", "targets:");
  for (const t of r.targets) lines.push(`  ${t.pass ? "PASS" : "FAIL"}  ${t.name}: ${t.detail}`);
  lines.push("checks:");
  for (const c of r.checks) lines.push(`  ${c.pass ? "PASS" : "FAIL"}  ${c.name}: ${c.detail}`);
  const failed = [...r.targets, ...r.checks].filter((v) => !v.pass).length;
  lines.push("", r.pass ? "result: PASS" : `result: FAIL (${failed} missed)`);
  return `${lines.join("\n")}\n`;
}

/** How one figure grew from the 1× run to the N× run. */
export interface Growth {
  base: number;
  scaled: number;
  /** `scaled / base`. */
  ratio: number;
  /** `log(ratio) / log(N)`: 1 is linear, below 1 sublinear. */
  exponent: number;
  /** `ratio ≤ N × GROWTH_NOISE`: no faster than linear, with room for the noise of one run. */
  linear: boolean;
}

/** Room for noise when judging growth: a ratio up to N × this still counts as linear. */
export const GROWTH_NOISE = 1.1;

/** What `--scale` reports: both runs and the growth of each figure. */
export interface ScaleReport {
  factor: number;
  runs: [BenchResult, BenchResult];
  growth: { validate_ms: Growth; noop_plan_ms: Growth; peak_rss_bytes: Growth };
  pass: boolean;
}

/** The growth of each figure from `base` to `scaled`, `factor` times the fleet. */
export function scaleReport(base: BenchResult, scaled: BenchResult, factor: number): ScaleReport {
  const growth = (a: number, b: number): Growth => {
    const ratio = b / a;
    return {
      base: a,
      scaled: b,
      ratio,
      exponent: Math.log(ratio) / Math.log(factor),
      linear: ratio <= factor * GROWTH_NOISE,
    };
  };
  const g = {
    validate_ms: growth(base.steps.validate.ms, scaled.steps.validate.ms),
    noop_plan_ms: growth(base.steps.noop_plan.ms, scaled.steps.noop_plan.ms),
    peak_rss_bytes: growth(base.peak_rss_bytes, scaled.peak_rss_bytes),
  };
  return {
    factor,
    runs: [base, scaled],
    growth: g,
    pass: base.pass && scaled.pass && Object.values(g).every((x) => x.linear),
  };
}

/** The growth section of the `--scale` report. */
export function formatGrowth(report: ScaleReport): string {
  const [base, scaled] = report.runs;
  const lines = [
    `growth from ${num(base.fleet.agents)} to ${num(scaled.fleet.agents)} agents (${report.factor}×); linear = ratio ≤ ${report.factor} × ${GROWTH_NOISE}:`,
  ];
  const show = (name: string, g: Growth, unit: (n: number) => string) =>
    lines.push(
      `  ${g.linear ? "PASS" : "FAIL"}  ${name}: ${unit(g.base)} → ${unit(g.scaled)}, ${g.ratio.toFixed(2)}× (exponent ${g.exponent.toFixed(2)}; ${g.linear ? "no faster than linear" : "faster than linear"})`,
    );
  show("validate", report.growth.validate_ms, formatMs);
  show("no-op plan", report.growth.noop_plan_ms, formatMs);
  show("peak memory", report.growth.peak_rss_bytes, (b) => `${Math.round(b / (1024 * 1024))} MB`);
  lines.push("", report.pass ? "scale result: PASS" : "scale result: FAIL");
  return `${lines.join("\n")}\n`;
}

function positiveNumber(flag: string, value: string | undefined, fallback: number, integer: boolean): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || (integer && (!Number.isInteger(n) || n < 1))) {
    throw new Error(`${flag}: expected ${integer ? "a whole number ≥ 1" : "a number ≥ 0"}, got "${value}"`);
  }
  return n;
}

/** A whole number ≥ 0 given for `flag`, or `fallback` when absent. @throws Error naming the flag otherwise */
function wholeNumber(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || value.trim() === "") {
    throw new Error(`${flag}: expected a whole number ≥ 0, got "${value}"`);
  }
  return n;
}

const exec = promisify(execFile);

/** Runs this script again with `args` and `--json`, in a fresh process, and returns its result. */
async function runChild(args: string[], progress: (line: string) => void): Promise<BenchResult> {
  // The same Node.js flags as this process.
  const child = exec(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...args, "--json"], {
    maxBuffer: 64 << 20,
  });
  child.child.stderr?.on("data", (d: Buffer) => progress(d.toString().trimEnd()));
  try {
    return JSON.parse((await child).stdout) as BenchResult;
  } catch (error) {
    const out = (error as { stdout?: string }).stdout;
    if (out) return JSON.parse(out) as BenchResult; // exit 1: a missed target still reports its figures
    throw error;
  }
}

/** Parses `argv`, runs the benchmark, prints, and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const parse = (args: string[]) =>
    parseArgs({
      args,
      options: {
        latency: { type: "string" },
        concurrency: { type: "string" },
        probes: { type: "string" },
        "plan-runs": { type: "string" },
        "plan-warmup": { type: "string" },
        factor: { type: "string" },
        scale: { type: "string" },
        json: { type: "boolean" },
        keep: { type: "boolean" },
        "in-process-emulator": { type: "boolean" },
        profile: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    });
  let flags: ReturnType<typeof parse>;
  let latencyMs: number;
  let concurrency: number;
  let probes: number;
  let planRuns: number;
  let planWarmup: number;
  let factor: number;
  let scale: number | undefined;
  try {
    flags = parse(argv);
    latencyMs = positiveNumber("--latency", flags.values.latency, DEFAULT_BENCH.latencyMs, false);
    concurrency = positiveNumber("--concurrency", flags.values.concurrency, DEFAULT_BENCH.concurrency, true);
    probes = positiveNumber("--probes", flags.values.probes, 3, true);
    planRuns = positiveNumber("--plan-runs", flags.values["plan-runs"], 5, true);
    planWarmup = wholeNumber("--plan-warmup", flags.values["plan-warmup"], 2);
    factor = positiveNumber("--factor", flags.values.factor, 1, false);
    if (factor === 0) throw new Error('--factor: expected a number > 0, got "0"');
    scale = flags.values.scale === undefined ? undefined : positiveNumber("--scale", flags.values.scale, 1, true);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  if (flags.values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const progress = (line: string) =>
    process.stderr.write(`[bench ${(performance.now() / 1000).toFixed(1)}s] ${line}\n`);
  try {
    if (scale !== undefined) {
      const passed = [
        "--latency",
        String(latencyMs),
        "--concurrency",
        String(concurrency),
        "--probes",
        String(probes),
        "--plan-runs",
        String(planRuns),
        "--plan-warmup",
        String(planWarmup),
        ...(flags.values["in-process-emulator"] ? ["--in-process-emulator"] : []),
      ];
      progress(`scale step: the fleet ×${factor}, then ×${factor * scale}, each in its own process`);
      const base = await runChild([...passed, "--factor", String(factor)], progress);
      const scaled = await runChild([...passed, "--factor", String(factor * scale)], progress);
      const report = scaleReport(base, scaled, scale);
      process.stdout.write(
        flags.values.json
          ? `${JSON.stringify(report, null, 2)}\n`
          : `${formatTable(base)}\n${formatTable(scaled)}\n${formatGrowth(report)}`,
      );
      return report.pass ? 0 : 1;
    }
    const result = await runBenchmark({
      ...DEFAULT_BENCH,
      fleet: scaledFleet(factor),
      latencyMs,
      concurrency,
      probes,
      planRuns,
      planWarmup,
      keep: flags.values.keep === true,
      emulator: flags.values["in-process-emulator"] ? "in-process" : "worker",
      ...(flags.values.profile ? { profileDir: flags.values.profile } : {}),
      progress,
    });
    process.stdout.write(flags.values.json ? `${JSON.stringify(result, null, 2)}\n` : formatTable(result));
    return result.pass ? 0 : 1;
  } catch (error) {
    if (error instanceof SpecErrorsFound) {
      for (const e of error.errors.slice(0, 20)) process.stderr.write(`${formatSpecError(e)}\n`);
      process.stderr.write(`the generated fleet does not validate: ${error.message}\n`);
    } else {
      process.stderr.write(
        `benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    }
    return 2;
  }
}

const invoked = process.argv[1] ? realpathSync(process.argv[1]) : "";
if (invoked === realpathSync(fileURLToPath(import.meta.url))) {
  process.exitCode = await main(process.argv.slice(2));
}
