/**
 * Time slices for long synchronous loops on the main thread: `plan` and `drift` observe the API while the specs
 * load (ADR 23), and each list page's answer needs the event loop to turn before the next page is asked for, so a
 * loader that holds the thread for a few hundred milliseconds stalls the observe for as long (issue 10 item 6).
 */

/**
 * How long a loop runs before letting the event loop turn, in milliseconds. Short, because a list page's answer
 * reaches the observe over several turns (headers, body chunks) and each waits for the slice in progress: with 8 ms
 * slices, an agent page took 45 to 60 ms instead of 35 while the specs loaded. 2 ms made no-op plans of 10,000 agents
 * about 7% faster (4.44 s against 4.78 s, medians of 8 alternated runs), and loading alone no slower (ADR 23).
 */
export const SLICE_MS = 2;

/**
 * A `pause` for one loop: resolves at once while the current slice lasts (`sliceMs`), and after one turn of the
 * event loop (`setImmediate`, so pending I/O callbacks run first) once it is used up, which starts the next slice.
 * Call `await pause()` between items of the loop.
 */
export function timeSlices(sliceMs: number = SLICE_MS): () => Promise<void> {
  let start = performance.now();
  return async () => {
    if (performance.now() - start < sliceMs) return;
    await new Promise((resolve) => setImmediate(resolve));
    start = performance.now();
  };
}
