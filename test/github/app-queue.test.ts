/**
 * The App's ordering, deterministically (jobs held by gates; a job that would start in parallel starts within a
 * macrotask turn, which the tests let pass before looking): per-key serial queues never overlap, newest-only per
 * pull request drops superseded waiting jobs and aborts the running one, duplicates are dropped.
 */
import { describe, expect, it } from "vitest";
import { type Job, LatestPerKey, SerialPerKey } from "../../src/github/app-queue.js";
import { gate } from "./app-helpers.js";

/** Lets every pending microtask and timer-free continuation run. */
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

function recorder() {
  const events: string[] = [];
  const aborted: string[] = [];
  const gates = new Map<string, ReturnType<typeof gate>>();
  const job = (id: string): Job => {
    const g = gates.get(id) ?? gate();
    gates.set(id, g);
    return {
      id,
      run: async (signal) => {
        events.push(`start ${id}`);
        await g.promise;
        if (signal.aborted) aborted.push(id);
        events.push(`end ${id}`);
      },
    };
  };
  return { events, aborted, job, open: (id: string) => gates.get(id)?.open() };
}

describe("SerialPerKey", () => {
  it("runs jobs of one key one after another and other keys alongside; drops a duplicate id", async () => {
    const queue = new SerialPerKey();
    const r = recorder();
    expect(queue.submit("a/r", r.job("1")).submitted).toBe("started");
    expect(queue.submit("a/r", r.job("2")).submitted).toBe("queued");
    expect(queue.submit("a/r", r.job("2")).submitted).toBe("duplicate");
    queue.submit("b/r", r.job("x"));
    await settle();
    expect(r.events).toEqual(["start 1", "start x"]);
    r.open("2");
    await settle();
    expect(r.events).toEqual(["start 1", "start x"]);
    r.open("1");
    r.open("x");
    await queue.idle();
    expect(r.events).toEqual(["start 1", "start x", "end 1", "end x", "start 2", "end 2"]);
  });

  it("keeps going after a job throws", async () => {
    const queue = new SerialPerKey();
    const ran: string[] = [];
    queue.submit("k", { id: "1", run: async () => Promise.reject(new Error("boom")) });
    queue.submit("k", { id: "2", run: async () => void ran.push("2") });
    await queue.idle();
    expect(ran).toEqual(["2"]);
  });
});

describe("LatestPerKey", () => {
  it("aborts the running job, drops a superseded waiting one, and runs the newest after the running one ends", async () => {
    const queue = new LatestPerKey();
    const r = recorder();
    expect(queue.submit("pr#1", r.job("a")).submitted).toBe("started");
    await settle();
    const b = queue.submit("pr#1", r.job("b"));
    expect(b.submitted).toBe("queued");
    expect(queue.submit("pr#1", r.job("c")).submitted).toBe("queued");
    expect(queue.submit("pr#1", r.job("c")).submitted).toBe("duplicate");
    await b.done; // dropped: settles without running
    await settle();
    expect(r.events).toEqual(["start a"]);
    r.open("a");
    r.open("c");
    await queue.idle();
    expect(r.events).toEqual(["start a", "end a", "start c", "end c"]);
    expect(r.aborted).toEqual(["a"]);
  });

  it("runs a head again when it returns after being superseded (a force-push back)", async () => {
    const queue = new LatestPerKey();
    const r = recorder();
    queue.submit("pr#1", r.job("a"));
    await settle();
    expect(queue.submit("pr#1", r.job("b")).submitted).toBe("queued");
    expect(queue.submit("pr#1", r.job("a")).submitted).toBe("queued");
    r.open("a");
    await queue.idle();
    expect(r.events).toEqual(["start a", "end a", "start a", "end a"]);
  });

  it("abortAll aborts running jobs and drops waiting ones", async () => {
    const queue = new LatestPerKey();
    const r = recorder();
    queue.submit("pr#1", r.job("a"));
    queue.submit("pr#1", r.job("b"));
    await settle();
    queue.abortAll(new Error("shutdown"));
    r.open("a");
    await queue.idle();
    expect(r.events).toEqual(["start a", "end a"]);
    expect(r.aborted).toEqual(["a"]);
  });
});
