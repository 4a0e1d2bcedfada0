/**
 * One cold measurement for the benchmark, in a fresh process (`node dist/bench/probe.js MODE DIR`), so every figure
 * includes the YAML parser's and the validators' first, unoptimised runs, as a user's `reconcile validate` does:
 *
 * - `parse`: the baseline, a bare `yaml` parse of the same spec files: read each file, `parseAllDocuments` with the
 *   library's defaults, `toJS()` each document. Nothing else.
 * - `validate`: what `reconcile validate` runs (`validateAllTargets`: reconcile.yaml, load, parse, substitute,
 *   validate and resolve for every target); worker threads as `RECONCILE_PARSE_WORKERS` says (unset: automatic).
 *
 * The clock starts after the modules are imported (both modes pay their imports outside it) and stops when the work
 * is done. Prints one JSON line: `{ "mode", "ms", "files", "errors" }`. Exit 2 on a usage error.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import { validateAllTargets } from "../spec/index.js";
import { findSpecFiles } from "../spec/load.js";

/** What one probe reports. */
export interface ProbeResult {
  mode: "parse" | "validate";
  /** Wall-clock time of the work, in milliseconds. */
  ms: number;
  /**
   * CPU time of the process during the work (user + system, every thread), in milliseconds: steadier than `ms` on a
   * loaded machine, but it counts worker threads' time too.
   */
  cpu_ms: number;
  /** Spec files read. */
  files: number;
  /** Errors found (0 on a valid fleet; the bare parse counts YAML errors). */
  errors: number;
}

/** The bare `yaml` parse of every spec file under `dir` (see the module comment). */
async function bareParse(dir: string): Promise<Omit<ProbeResult, "mode" | "ms" | "cpu_ms">> {
  const files = await findSpecFiles(dir);
  let errors = 0;
  for (const file of files) {
    const text = await readFile(path.join(dir, file), "utf8");
    for (const doc of parseAllDocuments(text)) {
      errors += doc.errors.length;
      doc.toJS();
    }
  }
  return { files: files.length, errors };
}

/** Runs one probe and returns its result. */
export async function probe(mode: string, dir: string): Promise<ProbeResult> {
  const start = performance.now();
  const cpu = process.cpuUsage();
  const clock = () => {
    const used = process.cpuUsage(cpu);
    return { ms: performance.now() - start, cpu_ms: (used.user + used.system) / 1000 };
  };
  if (mode === "parse") {
    const counts = await bareParse(dir);
    return { mode, ...clock(), ...counts };
  }
  if (mode === "validate") {
    const result = await validateAllTargets(dir);
    return { mode, ...clock(), files: result.files.length, errors: result.errors.length };
  }
  throw new Error(`unknown probe mode "${mode}" (parse or validate)`);
}

const [mode, dir] = process.argv.slice(2);
if (mode && dir) {
  probe(mode, dir).then(
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 2;
    },
  );
}
