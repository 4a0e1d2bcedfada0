/**
 * Parses many YAML files, in worker threads when that pays (issue 10 item 6). Parsing is most of what loading the
 * specs costs, and each file is independent, so past `PARALLEL_THRESHOLD_BYTES` of text the files are split into
 * contiguous shares of about equal size: one per worker thread (`parse-worker.ts`), plus one parsed here meanwhile.
 * Each worker pays its own start-up and its own cold YAML parser, hence the threshold (measured with `npm run
 * bench`, see docs/adr/0023-speed.md). Results are the same either way: a worker returns each document's data and
 * positions (`DocumentTree`), and `locate` reads positions the same way for both.
 *
 * Parsing here yields to the event loop every few milliseconds, so an observe started before loading (`plan`,
 * `drift`) keeps fetching its pages meanwhile.
 *
 * `RECONCILE_PARSE_WORKERS` overrides the choice: `0` parses here only; `N` uses N workers whatever the size.
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { type ParsedYamlFile, parseYamlText } from "./parse.js";
import { timeSlices } from "./slices.js";

/** Below this much text (UTF-16 code units), files are parsed in this thread only. Measured: see the module comment. */
export const PARALLEL_THRESHOLD_BYTES = 2_000_000;

/** At most this many worker threads. */
const MAX_WORKERS = 4;

/** The environment variable that overrides the number of workers (see the module comment). */
export const PARSE_WORKERS_ENV = "RECONCILE_PARSE_WORKERS";

const WORKER_URL = new URL("./parse-worker.js", import.meta.url);

/**
 * How many worker threads to parse `bytes` of text with: the override when set; else 0 below the threshold, when
 * this machine has one core, or when the compiled worker is not there (running from TypeScript sources); else one
 * per started threshold, up to the cores less one and `MAX_WORKERS`.
 */
export function workerCount(bytes: number, env: NodeJS.ProcessEnv = process.env): number {
  if (!existsSync(fileURLToPath(WORKER_URL))) return 0;
  const forced = forcedWorkers(env);
  if (forced !== undefined) return forced;
  if (bytes < PARALLEL_THRESHOLD_BYTES) return 0;
  const cores = availableParallelism();
  return Math.max(0, Math.min(cores - 1, MAX_WORKERS, Math.floor(bytes / PARALLEL_THRESHOLD_BYTES)));
}

/** The number of workers `RECONCILE_PARSE_WORKERS` asks for (at most 16), if it is set to a whole number. */
function forcedWorkers(env: NodeJS.ProcessEnv): number | undefined {
  const value = env[PARSE_WORKERS_ENV];
  return value !== undefined && /^\d+$/.test(value) ? Math.min(Number(value), 16) : undefined;
}

/** Parses `texts` here, letting the event loop turn every `SLICE_MS` (`timeSlices`). */
async function parseHere(texts: readonly string[]): Promise<ParsedYamlFile[]> {
  const out: ParsedYamlFile[] = [];
  const pause = timeSlices();
  for (const text of texts) {
    out.push(parseYamlText(text, false));
    await pause();
  }
  return out;
}

/** Parses `texts` in a new worker thread, which is ended afterwards. */
function parseInWorker(texts: readonly string[]): Promise<ParsedYamlFile[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_URL);
    const done = (fn: () => void) => {
      worker.removeAllListeners();
      void worker.terminate();
      fn();
    };
    worker.once("message", (message: { parsed?: ParsedYamlFile[]; error?: string }) =>
      done(() =>
        message.parsed ? resolve(message.parsed) : reject(new Error(`YAML worker: ${message.error ?? "no result"}`)),
      ),
    );
    worker.once("error", (error) => done(() => reject(error)));
    worker.once("exit", (code) => done(() => reject(new Error(`YAML worker exited with code ${code}`))));
    worker.postMessage({ texts });
  });
}

/** `texts` cut into `parts` contiguous shares of about equal total length. */
function shares(texts: readonly string[], parts: number): string[][] {
  const total = texts.reduce((n, t) => n + t.length, 0);
  const out: string[][] = [[]];
  let size = 0;
  for (const text of texts) {
    if (size >= (total * out.length) / parts && out.length < parts) out.push([]);
    (out[out.length - 1] as string[]).push(text);
    size += text.length;
  }
  return out;
}

/**
 * Parses every text (`parseYamlText`) and returns the results in the same order, in worker threads past the
 * threshold (`workerCount`). A worker that fails (it cannot start, or crashes) is not an error of the specs: its
 * share is parsed here instead, unless `RECONCILE_PARSE_WORKERS` asked for workers.
 * @throws Error when a worker that `RECONCILE_PARSE_WORKERS` asked for fails
 */
export async function parseYamlTexts(
  texts: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<ParsedYamlFile[]> {
  const workers = workerCount(
    texts.reduce((n, t) => n + t.length, 0),
    env,
  );
  if (workers === 0 || texts.length < 2) return parseHere(texts);
  const forced = forcedWorkers(env) !== undefined;
  const [mine = [], ...theirs] = shares(texts, workers + 1);
  const pending = theirs.map((share) =>
    parseInWorker(share).catch((error) => (forced ? Promise.reject(error) : parseHere(share))),
  );
  // Handled now, so a worker failing while this thread parses its share is not an unhandled rejection.
  const all = Promise.all(pending);
  all.catch(() => {});
  const here = await parseHere(mine);
  return [...here, ...(await all).flat()];
}
