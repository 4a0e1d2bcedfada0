/**
 * `npm run bench` (`node dist/bench/run.js [--latency MS] [--concurrency N] [--json] [--keep] [--in-process-emulator]`): runs the benchmark
 * of `bench.ts` on the fleet (1,000 agents, 100 environments, 50 vaults × 4 credentials, 50 toolsets) and
 * prints a table on stdout (or, with `--json`, the figures as JSON only); progress goes to stderr. No colour.
 * Exit 0 when every target and check passed, 1 when one missed, 2 on a usage error or a crash.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { SpecErrorsFound } from "../reconcile/workflow.js";
import { formatSpecError } from "../spec/index.js";
import { type BenchResult, DEFAULT_BENCH, runBenchmark, type StepResult } from "./bench.js";

const USAGE = `usage: node dist/bench/run.js [--latency MS] [--concurrency N] [--json] [--keep] [--in-process-emulator]

  --latency MS      delay the emulator adds to every request (default ${DEFAULT_BENCH.latencyMs})
  --concurrency N   apply concurrency (default ${DEFAULT_BENCH.concurrency}, as \`reconcile apply\`)
  --json            print the figures as JSON only (progress still goes to stderr)
  --keep            keep the generated fleet directory (its path is printed on stderr)
  --in-process-emulator
                    run the emulator on the benchmark's own event loop instead of a worker thread
                    (its CPU time then counts in every figure)
`;

const num = (n: number) => n.toLocaleString("en-US");

/** `1234.5` ms → `"1.23 s"`, `412.3` → `"412 ms"`. */
export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
}

/** The human-readable report: the steps table, peak memory, targets and checks. */
export function formatTable(r: BenchResult): string {
  const f = r.fleet;
  const lines: string[] = [];
  lines.push(
    `reconcile benchmark: ${num(f.agents)} agents, ${num(f.environments)} environments, ${num(f.vaults)} vaults × ${f.credentialsPerVault} credentials, ${num(f.toolsets)} toolsets (seed ${f.seed})`,
    `emulator (${r.emulator === "worker" ? "worker thread" : "same event loop"}) latency ${r.latency_ms} ms per request; apply concurrency ${r.concurrency}`,
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
  for (const s of [st.validate, st.initial_apply, st.noop_plan, st.change_plan, st.change_apply]) rows.push(row(s));
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
  for (const s of [st.noop_plan, st.change_plan]) {
    if (s.parts) {
      const parts = Object.entries(s.parts)
        .map(([k, v]) => `${k} ${formatMs(v)}`)
        .join(", ");
      lines.push(`  ${s.label}: ${parts}`);
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

function positiveNumber(flag: string, value: string | undefined, fallback: number, integer: boolean): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || (integer && (!Number.isInteger(n) || n < 1))) {
    throw new Error(`${flag}: expected ${integer ? "a whole number ≥ 1" : "a number ≥ 0"}, got "${value}"`);
  }
  return n;
}

/** Parses `argv`, runs the benchmark, prints, and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const parse = (args: string[]) =>
    parseArgs({
      args,
      options: {
        latency: { type: "string" },
        concurrency: { type: "string" },
        json: { type: "boolean" },
        keep: { type: "boolean" },
        "in-process-emulator": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    });
  let flags: ReturnType<typeof parse>;
  let latencyMs: number;
  let concurrency: number;
  try {
    flags = parse(argv);
    latencyMs = positiveNumber("--latency", flags.values.latency, DEFAULT_BENCH.latencyMs, false);
    concurrency = positiveNumber("--concurrency", flags.values.concurrency, DEFAULT_BENCH.concurrency, true);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  if (flags.values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    const result = await runBenchmark({
      ...DEFAULT_BENCH,
      latencyMs,
      concurrency,
      keep: flags.values.keep === true,
      emulator: flags.values["in-process-emulator"] ? "in-process" : "worker",
      progress: (line) => process.stderr.write(`[bench ${(performance.now() / 1000).toFixed(1)}s] ${line}\n`),
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
