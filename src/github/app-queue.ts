/**
 * How the App orders its work, in memory (one server process; the apply lock in the API guards across replicas:
 * ADR 0008, ADR 0016):
 * - `LatestPerKey`: plans of one pull request. At most one runs; a newer head aborts the running one (its signal)
 *   and waits for it to end, then runs; a head that was waiting is dropped when a newer one arrives. So the last
 *   plan to finish, and to post, is always the newest head's (GitHub Actions' `concurrency` with
 *   `cancel-in-progress`). The same head submitted again while queued or running is a duplicate.
 * - `SerialPerKey`: applies and drift checks of one repository, one after another in arrival order, never
 *   overlapping (a queue, not parallel). The same job id queued or running again is a duplicate.
 */

/** A unit of work; `id` identifies it for de-duplication (a commit SHA). */
export interface Job {
  id: string;
  run(signal: AbortSignal): Promise<void>;
}

/** What `submit` did with a job. */
export type Submitted = "started" | "queued" | "duplicate";

interface Running {
  id: string;
  controller: AbortController;
}

interface Waiting {
  job: Job;
  resolve: () => void;
}

/** Runs the newest job per key; see the module doc. */
export class LatestPerKey {
  private readonly running = new Map<string, Running>();
  private readonly waiting = new Map<string, Waiting>();
  private readonly all = new Set<Promise<void>>();

  /**
   * Submits `job` under `key`.
   * @returns how it was taken, and a promise that settles when the job has run, was dropped, or was a duplicate
   *   (never rejects: `job.run` handles its own errors)
   */
  submit(key: string, job: Job): { submitted: Submitted; done: Promise<void> } {
    const current = this.running.get(key);
    const pending = this.waiting.get(key);
    // A duplicate of the newest job only: a head that returns after being superseded (a force-push back) runs again.
    if (pending ? pending.job.id === job.id : current?.id === job.id) {
      return { submitted: "duplicate", done: Promise.resolve() };
    }
    if (!current) return { submitted: "started", done: this.track(this.start(key, job)) };
    pending?.resolve(); // dropped: a newer head arrived before it started
    current.controller.abort(new Error(`superseded by ${job.id}`));
    const done = new Promise<void>((resolve) => this.waiting.set(key, { job, resolve }));
    return { submitted: "queued", done: this.track(done) };
  }

  /** Aborts every running job and drops every waiting one (shutdown). */
  abortAll(reason: Error): void {
    for (const { resolve } of this.waiting.values()) resolve();
    this.waiting.clear();
    for (const { controller } of this.running.values()) controller.abort(reason);
  }

  /** Resolves when nothing runs or waits. */
  async idle(): Promise<void> {
    while (this.all.size > 0) await Promise.allSettled([...this.all]);
  }

  private track(promise: Promise<void>): Promise<void> {
    const tracked = promise.finally(() => this.all.delete(tracked));
    this.all.add(tracked);
    return tracked;
  }

  private async start(key: string, job: Job): Promise<void> {
    const controller = new AbortController();
    this.running.set(key, { id: job.id, controller });
    try {
      await job.run(controller.signal).catch(() => {});
    } finally {
      this.running.delete(key);
      const next = this.waiting.get(key);
      if (next) {
        this.waiting.delete(key);
        void this.track(this.start(key, next.job).finally(next.resolve));
      }
    }
  }
}

/** Runs jobs per key one after another; see the module doc. */
export class SerialPerKey {
  private readonly tails = new Map<string, Promise<void>>();
  private readonly ids = new Map<string, Set<string>>();
  private readonly controller = new AbortController();

  /**
   * Queues `job` under `key` behind every job already there.
   * @returns how it was taken, and a promise that settles when it has run (never rejects)
   */
  submit(key: string, job: Job): { submitted: Submitted; done: Promise<void> } {
    const ids = this.ids.get(key) ?? new Set<string>();
    if (ids.has(job.id)) return { submitted: "duplicate", done: Promise.resolve() };
    ids.add(job.id);
    this.ids.set(key, ids);
    const previous = this.tails.get(key);
    const done = (previous ?? Promise.resolve())
      .then(() => job.run(this.controller.signal))
      .catch(() => {})
      .finally(() => {
        ids.delete(job.id);
        if (ids.size === 0) this.ids.delete(key);
        if (this.tails.get(key) === done) this.tails.delete(key);
      });
    this.tails.set(key, done);
    return { submitted: previous ? "queued" : "started", done };
  }

  /** Aborts the signal every running and later job sees (shutdown). */
  abortAll(reason: Error): void {
    this.controller.abort(reason);
  }

  /** Resolves when every queue is empty. */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.allSettled([...this.tails.values()]);
  }
}
