/**
 * The lock of the embedded emulator's state file (`--local`): a command that may write `.reconcile/local-state.json`
 * holds it for its whole run, and the emulator loads the state only once it is held, so two `apply --local` runs
 * never work from the same old state and overwrite each other's writes (ADR 8).
 *
 * The lock is `proper-lockfile`'s: an atomically created `<state file>.lock` directory whose mtime the holder
 * refreshes; a lock whose holder died (kill -9) goes stale and is taken over after `LOCAL_LOCK_STALE_MS`. Who holds
 * it is written next to it in `<state file>.holder` (JSON: who, operation, since), for the message others get.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import properLockfile from "proper-lockfile";
import { formatDuration, LOCK_TTL_ENV, lockTtlMs, printable, whoAmI } from "../providers/lock.js";

/**
 * A lock whose holder stopped refreshing it for this long (20 s) is stale: its holder died and it is taken over. With
 * `RECONCILE_LOCK_TTL` set (tests only), that duration instead (at least 2 s, proper-lockfile's minimum).
 */
export const LOCAL_LOCK_STALE_MS = 20_000;

/** Who holds the state file lock, as recorded in `<state file>.holder`. */
export interface LocalHolder {
  who: string;
  operation: string;
  since: string;
}

/** Thrown when another process holds the state file lock (and did not release it within the wait). */
export class LocalLockHeldError extends Error {
  constructor(file: string, holder: LocalHolder | null, waitedMs: number, staleMs: number) {
    const waited = waitedMs > 0 ? ` (waited ${formatDuration(waitedMs)})` : "";
    const by = holder ? ` by ${holder.who} (${holder.operation} since ${holder.since})` : "";
    super(
      `the local state file ${file} is locked${by}${waited}; nothing was changed.\n` +
        `Wait for it with --lock-timeout (e.g. --lock-timeout 5m). If that process died, its lock is taken over ${formatDuration(staleMs)} after it stopped.`,
    );
    this.name = "LocalLockHeldError";
  }
}

/** Options of `lockStateFile`. */
export interface LocalLockOptions {
  /** Recorded for others to see (e.g. `apply`). */
  operation: string;
  /** How long to wait for a held lock, in ms; 0 fails at once. */
  timeoutMs: number;
  /** Called while waiting, about every 10 s. */
  onWait?: (holder: LocalHolder | null, waitedMs: number) => void;
  /** Called if the lock is lost while held (its refresh failed for the stale time). */
  onCompromised?: (error: Error) => void;
  /** How the file is named in messages (default: its path). */
  label?: string;
}

function staleMs(): number {
  return process.env[LOCK_TTL_ENV] ? Math.max(2000, lockTtlMs()) : LOCAL_LOCK_STALE_MS;
}

async function readHolder(file: string): Promise<LocalHolder | null> {
  try {
    const raw = JSON.parse(await readFile(`${file}.holder`, "utf8")) as Partial<LocalHolder>;
    if (typeof raw.who !== "string" || typeof raw.operation !== "string" || typeof raw.since !== "string") return null;
    const field = (value: string, max: number) => printable(value.slice(0, max));
    return { who: field(raw.who, 200), operation: field(raw.operation, 100), since: field(raw.since, 40) };
  } catch {
    return null;
  }
}

/**
 * Takes the lock of `file` (which need not exist yet; its directory must), waiting up to `options.timeoutMs`.
 * @returns a function that releases it (idempotent)
 * @throws LocalLockHeldError when another process holds it after the wait; the file system's error otherwise
 */
export async function lockStateFile(file: string, options: LocalLockOptions): Promise<() => Promise<void>> {
  const stale = staleMs();
  const started = Date.now();
  let reportedAt = Number.NEGATIVE_INFINITY;
  for (;;) {
    try {
      const release = await properLockfile.lock(file, {
        realpath: false,
        stale,
        retries: 0,
        onCompromised: (error) => options.onCompromised?.(error),
      });
      const holder: LocalHolder = { who: whoAmI(), operation: options.operation, since: new Date().toISOString() };
      const record = `${JSON.stringify(holder)}\n`;
      await writeFile(`${file}.holder`, record, { mode: 0o600 });
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        // Remove the record only if it is still ours (after a compromise, another holder may have written its own).
        if ((await readFile(`${file}.holder`, "utf8").catch(() => "")) === record)
          await rm(`${file}.holder`, { force: true });
        await release().catch(() => undefined); // already released when compromised
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ELOCKED") throw error;
    }
    const waited = Date.now() - started;
    if (waited >= options.timeoutMs) {
      throw new LocalLockHeldError(options.label ?? file, await readHolder(file), waited, stale);
    }
    if (Date.now() - reportedAt >= 10_000) {
      options.onWait?.(await readHolder(file), waited);
      reportedAt = Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(250, options.timeoutMs - waited)));
  }
}
