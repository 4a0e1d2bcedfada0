/**
 * `timeSlices` (src/spec/slices.ts): loading lets the event loop turn once a slice is used up, so that callbacks
 * waiting meanwhile (the early observe's page answers) run before loading goes on; within a slice it does not turn.
 */
import { describe, expect, it } from "vitest";
import { timeSlices } from "../../src/spec/slices.js";

/** Busy-waits `ms` milliseconds on this thread, as a synchronous loading step does. */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // holding the thread
  }
}

describe("timeSlices", () => {
  it("lets a waiting callback run once the slice is used up, not before", async () => {
    const pause = timeSlices(200);
    let ran = false;
    setImmediate(() => {
      ran = true;
    });
    await pause(); // the slice has just started: no turn of the event loop
    expect(ran).toBe(false);
    spin(210);
    await pause(); // used up: the loop turns, the waiting callback runs
    expect(ran).toBe(true);
  });

  it("turns the event loop about once per slice over a long synchronous loop", async () => {
    const pause = timeSlices(4);
    let turns = 0;
    const tick = (): void => {
      turns++;
      if (!done) setImmediate(tick);
    };
    let done = false;
    setImmediate(tick);
    const started = performance.now();
    while (performance.now() - started < 60) {
      spin(1);
      await pause();
    }
    done = true;
    // 60 ms of work in 4 ms slices: the loop turned many times, not once at the end.
    expect(turns).toBeGreaterThanOrEqual(5);
  });
});
