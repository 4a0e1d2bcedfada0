/**
 * The apply lock: a lease per (stack, target) held in the Managed Agents API itself, so that two applies of one stack
 * never run at once, from any machine, with no server of ours (DESIGN.md, "One writer at a time"; ADR 8).
 *
 * The lease is one agent of the stack (the "lock agent") whose metadata says `managed-by: reconcile`,
 * `reconcile/stack: <stack>`, `reconcile/lock: <target>` and, while held, the holder: `reconcile/lock-id`,
 * `reconcile/lock-who`, `reconcile/lock-operation`, `reconcile/lock-since`, `reconcile/lock-expires`. It never
 * carries `reconcile/name`, so observe, plan and prune do not see it as a resource of the stack (`ownerOf`), and
 * export skips it (`isLockAgent`).
 *
 * Compare-and-swap: every write to the lock agent is an update carrying the `version` it was read at (API-NOTES,
 * "Agents": a mismatch is a 409 and nothing changes). Acquire writes the holder fields only when the lock is free or
 * its lease expired; a 409 means another process wrote first: re-read and decide again. A write whose answer was lost
 * is settled by re-reading: the lock is ours exactly when it shows our lock id.
 *
 * Times (`since`, `expires`) are the server's clock, estimated from the HTTP `date` header of the API's answers, so
 * that two machines with skewed clocks still agree on when a lease expires (to about a second).
 */
import { randomUUID } from "node:crypto";
import { hostname, userInfo } from "node:os";
import Anthropic from "@anthropic-ai/sdk";
import type { BetaManagedAgentsAgent } from "@anthropic-ai/sdk/resources/beta/agents/agents.js";
import { MANAGED_BY, OWNERSHIP_KEYS } from "./ownership.js";
import { checkShape, UnexpectedResponseError } from "./response.js";

type Agent = BetaManagedAgentsAgent;

/** The metadata keys of the lock agent (besides `managed-by` and `reconcile/stack`). */
export const LOCK_KEYS = {
  /** The target the lock is for; its presence marks the lock agent. */
  lock: "reconcile/lock",
  id: "reconcile/lock-id",
  who: "reconcile/lock-who",
  operation: "reconcile/lock-operation",
  since: "reconcile/lock-since",
  expires: "reconcile/lock-expires",
} as const;

/**
 * The lease's default time to live: 2 minutes. A holder renews every third of it (40 s), so two renewals in a row
 * may fail (a transient API fault) before the lease can lapse, and a holder that died (kill -9, a cancelled CI job)
 * blocks the next apply for at most 2 minutes without anyone running `force-unlock`.
 */
export const DEFAULT_LOCK_TTL_MS = 2 * 60_000;

/**
 * The environment variable that overrides the lease TTL (a duration such as `3s`). For tests only: a short TTL makes
 * a stalled process lose its lock.
 */
export const LOCK_TTL_ENV = "RECONCILE_LOCK_TTL";

/** The model the lock agent is created with (it never runs a session; the API requires a model). */
const LOCK_AGENT_MODEL = "claude-haiku-4-5";

/** Which lock: one per stack and target. */
export interface LockScope {
  stack: string;
  target: string;
}

/** Who holds a lock, as its metadata records it. Times are RFC 3339, server clock. */
export interface LockHolder {
  /** The lock id: what `reconcile force-unlock ID` names. */
  id: string;
  /** `user@host (pid N)`. */
  who: string;
  /** The command that took it, e.g. `apply`. */
  operation: string;
  since: string;
  expires: string;
}

/** Thrown when the lock is held by someone else (and did not come free within the wait). */
export class LockHeldError extends Error {
  constructor(
    readonly scope: LockScope,
    readonly holder: LockHolder,
    waitedMs: number,
  ) {
    const waited = waitedMs > 0 ? ` (waited ${formatDuration(waitedMs)})` : "";
    super(
      `the lock of stack ${scope.stack}, target ${scope.target} is held${waited}; nothing was changed.\n` +
        `  lock id:   ${holder.id}\n` +
        `  holder:    ${holder.who}\n` +
        `  operation: ${holder.operation}\n` +
        `  since:     ${holder.since}\n` +
        `  expires:   ${holder.expires} (the holder renews it while it runs)\n` +
        `Wait for it with --lock-timeout (e.g. --lock-timeout 5m). If the holder died, it expires by itself, or run \`reconcile force-unlock ${holder.id}\`.`,
    );
    this.name = "LockHeldError";
  }
}

/** Raised (as an abort reason) when a held lock was lost: taken over, force-unlocked, or not renewable in time. */
export class LockLostError extends Error {
  constructor(scope: LockScope, reason: string) {
    super(
      `the lock of stack ${scope.stack}, target ${scope.target} was lost (${reason}); no further write was started. Check what else changed the stack, then run plan again`,
    );
    this.name = "LockLostError";
  }
}

/** Thrown by `forceUnlock` when there is nothing to unlock or the id does not match; nothing was changed. */
export class UnlockError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UnlockError";
  }
}

/**
 * Parses a duration: `0`, or one or more `<integer><unit>` with unit `ms`, `s`, `m` or `h` (`30s`, `5m`, `1h30m`),
 * as Terraform's `-lock-timeout` takes them.
 * @returns milliseconds
 * @throws RangeError for anything else (a bare number other than 0 is refused: its unit would be a guess)
 */
export function parseDuration(text: string): number {
  const value = text.trim();
  if (value === "0") return 0;
  if (!/^(\d+(ms|s|m|h))+$/.test(value)) {
    throw new RangeError(`"${text}" is not a duration; write 0, or e.g. 30s, 5m, 1h`);
  }
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
  let total = 0;
  for (const [, n, u] of value.matchAll(/(\d+)(ms|s|m|h)/g)) total += Number(n) * unit[u as keyof typeof unit];
  if (!Number.isSafeInteger(total)) throw new RangeError(`"${text}" is too long a duration`);
  return total;
}

/** `ms` as a short duration for messages: `45s`, `2m`, `1m30s`, `250ms`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
}

/**
 * The lease TTL: `RECONCILE_LOCK_TTL` when set (tests only), else `DEFAULT_LOCK_TTL_MS`.
 * @throws RangeError when the variable is not a duration of at least 1s
 */
export function lockTtlMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[LOCK_TTL_ENV];
  if (raw === undefined || raw === "") return DEFAULT_LOCK_TTL_MS;
  let ms: number;
  try {
    ms = parseDuration(raw);
  } catch (error) {
    throw new RangeError(`${LOCK_TTL_ENV}: ${(error as Error).message}`);
  }
  if (ms < 1000) throw new RangeError(`${LOCK_TTL_ENV} must be at least 1s, got "${raw}"`);
  return ms;
}

/** True for the metadata of a lock agent (of any stack): export and any listing of "real" agents skip it. */
export function isLockAgent(metadata: Record<string, string> | null | undefined): boolean {
  return metadata?.[OWNERSHIP_KEYS.managedBy] === MANAGED_BY && typeof metadata[LOCK_KEYS.lock] === "string";
}

/**
 * `text` with terminal control characters (C0, DEL, C1) and Unicode bidi overrides written as `\u001b`-style
 * escapes: holder fields come from live metadata anyone with console access can edit, and end up on a terminal.
 */
export function printable(text: string): string {
  return text.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
    /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** The holder recorded on a lock agent, or null when the lock is free. */
export function holderOf(agent: Pick<Agent, "metadata">): LockHolder | null {
  const m = agent.metadata ?? {};
  const id = m[LOCK_KEYS.id];
  if (!id) return null;
  return {
    id: printable(id),
    who: printable(m[LOCK_KEYS.who] ?? "unknown"),
    operation: printable(m[LOCK_KEYS.operation] ?? "unknown"),
    since: printable(m[LOCK_KEYS.since] ?? "unknown"),
    expires: printable(m[LOCK_KEYS.expires] ?? "unknown"),
  };
}

/** True when `holder`'s lease ended at or before `nowMs` (an unreadable `expires` counts as ended). */
export function isExpired(holder: LockHolder, nowMs: number): boolean {
  const expires = Date.parse(holder.expires);
  return !Number.isFinite(expires) || expires <= nowMs;
}

/** `user@host (pid N)` for this process, within the metadata value limit: who a lock names as its holder. */
export function whoAmI(): string {
  let user = "unknown";
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers): keep "unknown"
  }
  return `${user}@${hostname()} (pid ${process.pid})`.slice(0, 200);
}

/**
 * The server's clock, estimated from the `date` header of its answers (1-second resolution: the estimate takes the
 * middle of that second). Without a usable header, the local clock.
 */
class ServerClock {
  private offsetMs = 0;

  observe(response: Response): void {
    const date = Date.parse(response.headers.get("date") ?? "");
    if (Number.isFinite(date)) this.offsetMs = date + 500 - Date.now();
  }

  now(): number {
    return Date.now() + this.offsetMs;
  }

  iso(offsetMs = 0): string {
    return new Date(this.now() + offsetMs).toISOString();
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function status(error: unknown): number | undefined {
  return error instanceof Anthropic.APIError ? error.status : undefined;
}

/** An error after which a write may or may not have landed, or may succeed when repeated. */
function isUncertain(error: unknown): boolean {
  const s = status(error);
  return error instanceof Anthropic.APIConnectionError || s === 408 || s === 429 || (s !== undefined && s >= 500);
}

function lockAgentName(scope: LockScope): string {
  return `reconcile lock: ${scope.stack}/${scope.target}`.slice(0, 256);
}

function scopeMetadata(scope: LockScope): Record<string, string> {
  for (const [what, value] of [
    ["stack", scope.stack],
    ["target", scope.target],
  ] as const) {
    if (value.length > 512) throw new RangeError(`the ${what} name is longer than 512 characters, the API's limit`);
  }
  return {
    [OWNERSHIP_KEYS.managedBy]: MANAGED_BY,
    [OWNERSHIP_KEYS.stack]: scope.stack,
    [LOCK_KEYS.lock]: scope.target,
  };
}

function isLockOf(agent: Agent, scope: LockScope): boolean {
  const m = agent.metadata ?? {};
  return (
    isLockAgent(m) &&
    m[OWNERSHIP_KEYS.stack] === scope.stack &&
    m[LOCK_KEYS.lock] === scope.target &&
    !m[OWNERSHIP_KEYS.name] &&
    !agent.archived_at
  );
}

/** Oldest first (created_at, then id): the oldest lock agent is the lock. */
function oldestFirst(a: Agent, b: Agent): number {
  return a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id);
}

/**
 * `value` checked as an agent the way every provider read is (an `agent_` id, a `version`, metadata, timestamps;
 * `response.ts`), so a server that is not the API cannot steer the lock with an answer of another shape.
 * @throws UnexpectedResponseError naming `request`
 */
function agentOf(value: unknown, request: string): Agent {
  return checkShape(value, { kind: "object", type: "agent" }, request) as unknown as Agent;
}

/** Lock pages followed at most: a server whose cursor never ends cannot keep the lock search going. */
const MAX_LOCK_PAGES = 500;

/** Every unarchived lock agent of `scope`, oldest first (one list of all agents, every page). */
async function listLockAgents(client: Anthropic, scope: LockScope, clock: ServerClock): Promise<Agent[]> {
  const { data: first, response } = await client.beta.agents.list({ limit: 100 }).withResponse();
  clock.observe(response);
  const found: Agent[] = [];
  const seen = new Set<string>();
  for (let page = first, n = 1; ; page = await page.getNextPage(), n++) {
    const request = `GET /v1/agents${n > 1 ? ` (page ${n})` : ""}`;
    if (!Array.isArray(page.data)) throw new UnexpectedResponseError(request, "not a list page (no data array)");
    found.push(...page.data.map((agent) => agentOf(agent, request)).filter((agent) => isLockOf(agent, scope)));
    if (!page.hasNextPage()) break;
    const cursor = String(page.next_page);
    if (seen.has(cursor) || n >= MAX_LOCK_PAGES) {
      throw new UnexpectedResponseError(request, "the list's page cursors repeat or never end");
    }
    seen.add(cursor);
  }
  return found.sort(oldestFirst);
}

/**
 * The lock agent of `scope`: the oldest unarchived one. Creates it when there is none; when a race created several,
 * archives the extras (best effort: a failed archive is retried by the next run).
 */
async function findOrCreate(client: Anthropic, scope: LockScope, clock: ServerClock): Promise<Agent> {
  let agents = await listLockAgents(client, scope, clock);
  if (agents.length === 0) {
    const created = agentOf(
      await client.beta.agents.create({
        name: lockAgentName(scope),
        model: LOCK_AGENT_MODEL,
        description:
          `Apply lock of reconcile stack ${scope.stack}, target ${scope.target}. Written by reconcile; do not edit, use or archive it. See \`reconcile force-unlock\`.`.slice(
            0,
            2048,
          ),
        metadata: scopeMetadata(scope),
      }),
      "POST /v1/agents",
    );
    // Another process may have created one at the same time: list again and agree on the oldest.
    agents = await listLockAgents(client, scope, clock);
    if (!agents.some((a) => a.id === created.id)) agents = [...agents, created].sort(oldestFirst);
  }
  const [lock, ...extras] = agents as [Agent, ...Agent[]];
  await Promise.allSettled(extras.map((extra) => client.beta.agents.archive(extra.id)));
  return lock;
}

/** Re-reads the lock agent; null when it is gone or archived (find another). */
async function reread(client: Anthropic, id: string, clock: ServerClock): Promise<Agent | null> {
  try {
    const { data, response } = await client.beta.agents.retrieve(id).withResponse();
    clock.observe(response);
    const agent = agentOf(data, `GET /v1/agents/${id}`);
    return agent.archived_at ? null : agent;
  } catch (error) {
    if (status(error) === 404) return null;
    throw error;
  }
}

/**
 * A compare-and-swap write of the lock agent's metadata at `agent.version`. No SDK retries: a 409 is an answer
 * (someone else wrote), and an uncertain failure is settled by the caller re-reading.
 */
async function casWrite(
  client: Anthropic,
  agent: Agent,
  metadata: Record<string, string | null>,
  clock: ServerClock,
): Promise<Agent> {
  const { data, response } = await client.beta.agents
    .update(agent.id, { version: agent.version, metadata }, { maxRetries: 0 })
    .withResponse();
  clock.observe(response);
  const request = `POST /v1/agents/${agent.id}`;
  const written = agentOf(data, request);
  // The API answers an update with the agent as written: an answer without what was written is not the API's.
  const held = written.metadata ?? {};
  if (written.id !== agent.id || Object.entries(metadata).some(([key, value]) => (held[key] ?? null) !== value)) {
    throw new UnexpectedResponseError(request, "the answer to the lock write does not hold what was written");
  }
  return written;
}

const CLEARED: Record<string, null> = {
  [LOCK_KEYS.id]: null,
  [LOCK_KEYS.who]: null,
  [LOCK_KEYS.operation]: null,
  [LOCK_KEYS.since]: null,
  [LOCK_KEYS.expires]: null,
};

/** Options of `acquireLock`. */
export interface AcquireOptions extends LockScope {
  /** What takes the lock, recorded for others to see (e.g. `apply`). */
  operation: string;
  /** How long to wait for a held lock, in ms; 0 (default) fails at once. */
  timeoutMs?: number;
  /** Lease TTL in ms; default `lockTtlMs()`. Renewed every third of it. */
  ttlMs?: number;
  /** Called while waiting, about every 10 s and whenever the holder changes. */
  onWait?: (holder: LockHolder, waitedMs: number) => void;
  /** Called once when a renewal finds the lock lost (the lock's `signal` aborts at the same time). */
  onLost?: (error: LockLostError) => void;
}

/** How many uncertain failures (5xx, 429, dropped connections) in a row acquire tolerates before giving up. */
const MAX_UNCERTAIN = 4;

/**
 * Takes the lock of (stack, target): finds or creates the lock agent, then writes this process as holder with the
 * `version` precondition, only when the lock is free or its lease expired. Waits up to `timeoutMs` for a held lock,
 * polling. The returned lock renews itself until `release()`.
 * @throws LockHeldError when the lock is still held by another process after `timeoutMs`
 * @throws the SDK's `APIError` when the API keeps failing
 */
export async function acquireLock(client: Anthropic, options: AcquireOptions): Promise<HeldLock> {
  const scope = { stack: options.stack, target: options.target };
  const ttlMs = options.ttlMs ?? lockTtlMs();
  const timeoutMs = options.timeoutMs ?? 0;
  const pollMs = Math.min(5000, Math.max(250, Math.floor(ttlMs / 24)));
  const clock = new ServerClock();
  const me = { id: randomUUID(), who: whoAmI(), operation: options.operation.slice(0, 100) };
  const started = Date.now();
  let agent = await findOrCreate(client, scope, clock);
  let uncertain = 0;
  let conflicts = 0;
  let reported: { id: string; at: number } | undefined;
  for (;;) {
    const holder = holderOf(agent);
    if (holder?.id === me.id) {
      return new HeldLock(client, scope, agent, {
        ...me,
        ttlMs,
        clock,
        ...(options.onLost ? { onLost: options.onLost } : {}),
      });
    }
    if (!holder || isExpired(holder, clock.now())) {
      try {
        agent = await casWrite(
          client,
          agent,
          {
            [LOCK_KEYS.id]: me.id,
            [LOCK_KEYS.who]: me.who,
            [LOCK_KEYS.operation]: me.operation,
            [LOCK_KEYS.since]: clock.iso(),
            [LOCK_KEYS.expires]: clock.iso(ttlMs),
          },
          clock,
        );
        continue;
      } catch (error) {
        const s = status(error);
        if (s === 409) {
          if (++conflicts > 50) throw error;
        } else if (isUncertain(error)) {
          if (++uncertain > MAX_UNCERTAIN) throw error;
          await sleep(Math.min(pollMs, 250 * 2 ** uncertain));
        } else if (s !== 400 && s !== 404) {
          throw error;
        }
        // Someone else wrote, the answer was lost, or the agent was archived: read again and decide again.
        agent = (await reread(client, agent.id, clock)) ?? (await findOrCreate(client, scope, clock));
        continue;
      }
    }
    const waited = Date.now() - started;
    if (waited >= timeoutMs) throw new LockHeldError(scope, holder, timeoutMs > 0 ? waited : 0);
    if (!reported || reported.id !== holder.id || Date.now() - reported.at >= 10_000) {
      options.onWait?.(holder, waited);
      reported = { id: holder.id, at: Date.now() };
    }
    await sleep(Math.min(pollMs, timeoutMs - waited));
    agent = (await reread(client, agent.id, clock)) ?? (await findOrCreate(client, scope, clock));
  }
}

/** What `HeldLock` needs besides the agent. */
interface HeldLockOptions {
  id: string;
  who: string;
  operation: string;
  ttlMs: number;
  clock: ServerClock;
  onLost?: (error: LockLostError) => void;
}

/**
 * A lock this process holds. Renews its lease every third of the TTL; when a renewal finds the lock taken, cleared,
 * archived, or could not confirm it for a whole TTL, `signal` aborts with a `LockLostError` (callers stop starting
 * writes) and `onLost` is called.
 */
export class HeldLock {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private confirmedAt = Date.now();
  private renewing: Promise<void> | null = null;
  private released = false;

  constructor(
    private readonly client: Anthropic,
    readonly scope: LockScope,
    private agent: Agent,
    private readonly options: HeldLockOptions,
  ) {
    this.timer = setInterval(
      () => {
        void this.renew();
      },
      Math.max(100, Math.floor(options.ttlMs / 3)),
    );
    this.timer.unref();
  }

  /** The lock id (`reconcile force-unlock ID`). */
  get id(): string {
    return this.options.id;
  }

  /** The holder as recorded on the lock agent. */
  get holder(): LockHolder {
    return holderOf(this.agent) as LockHolder;
  }

  /** Aborts (reason: `LockLostError`) when the lock is lost. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** True while the lock is held and was confirmed within the TTL. */
  get held(): boolean {
    return !this.released && !this.signal.aborted && Date.now() - this.confirmedAt < this.options.ttlMs;
  }

  private lose(reason: string): void {
    clearInterval(this.timer);
    if (this.signal.aborted) return;
    const error = new LockLostError(this.scope, reason);
    this.controller.abort(error);
    this.options.onLost?.(error);
  }

  /**
   * Extends the lease by one TTL from now (server clock). Called by the timer; callable directly. Never throws: a
   * renewal that finds the lock lost aborts `signal`; a transient failure is tried again at the next tick.
   */
  renew(): Promise<void> {
    if (this.released || this.signal.aborted) return Promise.resolve();
    this.renewing ??= this.renewOnce().finally(() => {
      this.renewing = null;
    });
    return this.renewing;
  }

  private async renewOnce(): Promise<void> {
    const { clock, ttlMs } = this.options;
    try {
      this.agent = await casWrite(this.client, this.agent, { [LOCK_KEYS.expires]: clock.iso(ttlMs) }, clock);
      this.confirmedAt = Date.now();
      return;
    } catch {
      // settled by reading the lock again below
    }
    try {
      const current = await reread(this.client, this.agent.id, clock);
      const holder = current ? holderOf(current) : null;
      if (!current) return this.lose("the lock agent was archived");
      if (holder?.id !== this.options.id) {
        return this.lose(holder ? `now held by ${holder.who} as ${holder.id}` : "it was unlocked");
      }
      this.agent = current;
      if (!isExpired(holder, clock.now())) this.confirmedAt = Date.now();
    } catch {
      // the API is unreachable: judged by time below
    }
    if (Date.now() - this.confirmedAt >= ttlMs) this.lose(`not renewed for ${formatDuration(ttlMs)}`);
  }

  /**
   * Releases the lock (clears the holder fields, with the `version` precondition). Best effort and idempotent.
   * @returns null when released (or already lost), else why it could not be released (the lease then expires)
   */
  async release(): Promise<string | null> {
    if (this.released) return null;
    this.released = true;
    clearInterval(this.timer);
    await this.renewing?.catch(() => undefined);
    if (this.signal.aborted) return null;
    const { clock } = this.options;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await casWrite(this.client, this.agent, CLEARED, clock);
        return null;
      } catch (error) {
        try {
          const current = await reread(this.client, this.agent.id, clock);
          if (!current || holderOf(current)?.id !== this.options.id) return null; // released, or not ours any more
          this.agent = current;
        } catch {
          // try again
        }
        if (attempt === 2) return error instanceof Error ? error.message : String(error);
      }
    }
    return null;
  }
}

/** What `inspectLock` found: the lock agent's id and its holder (null when free). */
export interface LockState {
  agentId: string;
  holder: LockHolder | null;
  /** True when the holder's lease has ended (server clock). */
  expired: boolean;
}

/** Reads the lock of `scope` without taking it; null when no lock agent exists yet. */
export async function inspectLock(client: Anthropic, scope: LockScope): Promise<LockState | null> {
  const clock = new ServerClock();
  const [lock] = await listLockAgents(client, scope, clock);
  if (!lock) return null;
  const holder = holderOf(lock);
  return { agentId: lock.id, holder, expired: holder ? isExpired(holder, clock.now()) : false };
}

/**
 * Releases the lock of `scope` if, and only if, its current lock id is `id` (Terraform's `force-unlock LOCK_ID`),
 * with the `version` precondition, so a lock that changed hands meanwhile is not cleared.
 * @returns the holder that was removed
 * @throws UnlockError when there is no lock, it is free, or it is held under another id; nothing changed
 */
export async function forceUnlock(client: Anthropic, scope: LockScope, id: string): Promise<LockHolder> {
  const clock = new ServerClock();
  let [lock]: Array<Agent | null | undefined> = await listLockAgents(client, scope, clock);
  const where = `stack ${scope.stack}, target ${scope.target}`;
  // A 409 means the lock agent changed since it was read: a renewal by the same holder (same id) is retried.
  for (let attempt = 0; ; attempt++) {
    if (!lock) throw new UnlockError(`there is no lock for ${where} (no apply has run there yet); nothing to unlock`);
    const holder = holderOf(lock);
    if (!holder) throw new UnlockError(`the lock of ${where} is not held; nothing to unlock`);
    if (holder.id !== id) {
      throw new UnlockError(
        `the lock of ${where} is held under id ${holder.id} (by ${holder.who}, ${holder.operation} since ${holder.since}), not ${id}; nothing was changed`,
      );
    }
    try {
      await casWrite(client, lock, CLEARED, clock);
      return holder;
    } catch (error) {
      if (status(error) !== 409 || attempt >= 10) throw error;
      lock = await reread(client, lock.id, clock);
    }
  }
}
