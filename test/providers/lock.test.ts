/**
 * The apply lock's lease through the real SDK against the emulator: acquire, contention, waiting, expiry, a lost
 * answer, a race that created two lock agents, renewal, loss, release and force-unlock; and that applyPlan starts no
 * write once the lock is lost.
 */
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import {
  acquireLock,
  forceUnlock,
  type HeldLock,
  holderOf,
  inspectLock,
  isLockAgent,
  LOCK_KEYS,
  LockHeldError,
  LockLostError,
  lockTtlMs,
  parseDuration,
  UnlockError,
} from "../../src/providers/lock.js";
import { envSecrets } from "../../src/providers/secrets.js";
import { applyPlan } from "../../src/reconcile/apply.js";
import { observe } from "../../src/reconcile/observe.js";
import type { Plan } from "../../src/reconcile/plan.js";

let emulator: RunningEmulator;
let client: Anthropic;
let n = 0;
/** A fresh scope per test, so tests do not see each other's locks. */
const scope = () => ({ stack: `stack-${++n}`, target: "prod" });
const held: HeldLock[] = [];
const hold = async (lock: Promise<HeldLock>) => {
  const l = await lock;
  held.push(l);
  return l;
};

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  client = new Anthropic({ apiKey: "test", baseURL: emulator.url, maxRetries: 0 });
});
afterEach(async () => {
  await Promise.all(held.splice(0).map((l) => l.release()));
});
afterAll(() => emulator.close());

async function lockAgents(s: { stack: string; target: string }) {
  const out = [];
  for await (const a of client.beta.agents.list({ limit: 100 }))
    if (a.metadata[LOCK_KEYS.lock] === s.target && a.metadata["reconcile/stack"] === s.stack) out.push(a);
  return out;
}

describe("parseDuration and the TTL override", () => {
  it("takes 0 and whole numbers with a unit, like Terraform's -lock-timeout", () => {
    expect(parseDuration("0")).toBe(0);
    expect(parseDuration("30s")).toBe(30_000);
    expect(parseDuration("5m")).toBe(300_000);
    expect(parseDuration("1h")).toBe(3_600_000);
    expect(parseDuration("1m30s")).toBe(90_000);
    expect(parseDuration("250ms")).toBe(250);
  });
  it("refuses a bare number, a negative, a space, an unknown unit and garbage", () => {
    for (const bad of ["30", "-1s", "5 m", "", "1d", "abc", "1.5s", "s", "1e3s", "99999999999999999999h"])
      expect(() => parseDuration(bad), bad).toThrow(RangeError);
  });
  it("reads RECONCILE_LOCK_TTL, defaults to 2 minutes, refuses less than a second", () => {
    expect(lockTtlMs({})).toBe(120_000);
    expect(lockTtlMs({ RECONCILE_LOCK_TTL: "3s" })).toBe(3000);
    expect(() => lockTtlMs({ RECONCILE_LOCK_TTL: "500ms" })).toThrow(/at least 1s/);
    expect(() => lockTtlMs({ RECONCILE_LOCK_TTL: "soon" })).toThrow(/^RECONCILE_LOCK_TTL: "soon" is not a duration/);
  });
});

describe("acquire and release", () => {
  it("creates one lock agent that observe does not see, records the holder, and clears it on release", async () => {
    const s = scope();
    const lock = await hold(acquireLock(client, { ...s, operation: "apply" }));
    const [agent, ...more] = await lockAgents(s);
    expect(more).toEqual([]);
    expect(agent && isLockAgent(agent.metadata)).toBe(true);
    expect(agent?.metadata["reconcile/name"]).toBeUndefined();
    expect(Object.keys(agent?.metadata ?? {}).length).toBeLessThanOrEqual(16);
    const holder = holderOf(agent as { metadata: Record<string, string> });
    expect(holder).toMatchObject({ id: lock.id, operation: "apply" });
    expect(holder?.who).toContain(`(pid ${process.pid})`);
    expect(Date.parse(holder?.expires ?? "") - Date.parse(holder?.since ?? "")).toBe(120_000);

    const live = await observe(client, { stack: s.stack, secrets: envSecrets() });
    expect(live.resources.size).toBe(0);
    expect(live.duplicates).toEqual([]);

    expect(await lock.release()).toBeNull();
    expect((await inspectLock(client, s))?.holder).toBeNull();
    const again = await hold(acquireLock(client, { ...s, operation: "apply" }));
    expect(again.id).not.toBe(lock.id);
    expect(await lockAgents(s)).toHaveLength(1); // reused, not a second agent
  });

  it("cannot be adopted (import, adopt: entries)", async () => {
    const s = scope();
    await hold(acquireLock(client, { ...s, operation: "apply" }));
    const [agent] = await lockAgents(s);
    const live = await observe(
      client,
      { stack: s.stack, secrets: envSecrets() },
      { adopt: [{ address: "agent.taken", id: agent?.id ?? "" }] },
    );
    expect(live.adoptions.size).toBe(0);
    expect(live.adoptionErrors.get("agent.taken")).toContain("is reconcile's apply lock, not a resource");
  });

  it("lets exactly one of several simultaneous acquires win; the others name the winner", async () => {
    const s = scope();
    const results = await Promise.allSettled(
      Array.from({ length: 4 }, () => acquireLock(client, { ...s, operation: "apply" })),
    );
    const won = results
      .filter((r) => r.status === "fulfilled")
      .map((r) => (r as PromiseFulfilledResult<HeldLock>).value);
    held.push(...won);
    expect(won).toHaveLength(1);
    for (const r of results.filter((x) => x.status === "rejected")) {
      const error = (r as PromiseRejectedResult).reason;
      expect(error).toBeInstanceOf(LockHeldError);
      expect((error as LockHeldError).holder.id).toBe(won[0]?.id);
      expect((error as Error).message).toContain(`reconcile force-unlock ${won[0]?.id}`);
    }
    expect(await lockAgents(s)).toHaveLength(1); // extras from the creation race are archived
  });

  it("agrees on the oldest lock agent when a race created two, and archives the other", async () => {
    const s = scope();
    const metadata = { "managed-by": "reconcile", "reconcile/stack": s.stack, [LOCK_KEYS.lock]: s.target };
    const older = await client.beta.agents.create({ name: "l1", model: "claude-haiku-4-5", metadata });
    const newer = await client.beta.agents.create({ name: "l2", model: "claude-haiku-4-5", metadata });
    await hold(acquireLock(client, { ...s, operation: "apply" }));
    expect(holderOf(await client.beta.agents.retrieve(older.id))).not.toBeNull();
    expect((await client.beta.agents.retrieve(newer.id)).archived_at).not.toBeNull();
  });

  it("fails at once naming the holder, the operation, since, expires and the next step", async () => {
    const s = scope();
    const first = await hold(acquireLock(client, { ...s, operation: "apply" }));
    const error = await acquireLock(client, { ...s, operation: "apply" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockHeldError);
    const message = (error as Error).message;
    for (const part of [first.id, `pid ${process.pid}`, "operation: apply", first.holder.since, first.holder.expires]) {
      expect(message).toContain(part);
    }
    expect(message).toContain("--lock-timeout");
    expect(message).not.toContain("waited");
  });

  it("waits while held and takes the lock once it is released", async () => {
    const s = scope();
    const first = await acquireLock(client, { ...s, operation: "apply" });
    const waits: string[] = [];
    const second = await hold(
      acquireLock(client, {
        ...s,
        operation: "apply",
        timeoutMs: 60_000,
        ttlMs: 6000, // polls every 250 ms
        onWait: (holder) => {
          waits.push(holder.id);
          void first.release(); // the holder finishes while we wait
        },
      }),
    );
    expect(waits[0]).toBe(first.id);
    expect(holderOf(await client.beta.agents.retrieve((await lockAgents(s))[0]?.id ?? ""))?.id).toBe(second.id);
  });

  it("takes over an expired lease without force-unlock, but not a live one", async () => {
    const s = scope();
    const lock = await acquireLock(client, { ...s, operation: "apply" });
    await lock.release();
    const [agent] = await lockAgents(s);
    const id = agent?.id ?? "";
    const dead = (expires: string) =>
      client.beta.agents.update(id, {
        metadata: {
          [LOCK_KEYS.id]: "dead-holder",
          [LOCK_KEYS.who]: "ci@runner (pid 1)",
          [LOCK_KEYS.operation]: "apply",
          [LOCK_KEYS.since]: "2026-01-01T00:00:00.000Z",
          [LOCK_KEYS.expires]: expires,
        },
      });
    await dead(new Date(Date.now() + 3_600_000).toISOString());
    await expect(acquireLock(client, { ...s, operation: "apply" })).rejects.toThrow(/dead-holder/);
    await dead(new Date(Date.now() - 1000).toISOString());
    const taken = await hold(acquireLock(client, { ...s, operation: "apply" }));
    expect(holderOf(await client.beta.agents.retrieve(id))?.id).toBe(taken.id);
    await dead("not a date"); // hand-edited garbage counts as expired
    await hold(acquireLock(client, { ...s, operation: "apply" }));
  });

  it("holds the lock when its acquire answer was lost (the write landed, the connection dropped)", async () => {
    const s = scope();
    await (await acquireLock(client, { ...s, operation: "apply" })).release();
    let dropped = 0;
    const lossy = new Anthropic({
      apiKey: "test",
      baseURL: emulator.url,
      maxRetries: 0,
      fetch: async (url, init) => {
        const response = await fetch(url, init);
        const href = url instanceof Request ? url.url : String(url);
        if (init?.method === "POST" && /\/v1\/agents\/agent_\w+(\?|$)/.test(href) && dropped++ === 0) {
          throw new TypeError("fetch failed (the answer was lost)");
        }
        return response;
      },
    });
    const lock = await hold(acquireLock(lossy, { ...s, operation: "apply" }));
    expect(dropped).toBeGreaterThanOrEqual(1);
    expect((await inspectLock(client, s))?.holder?.id).toBe(lock.id);
  });
});

describe("renewal, loss and force-unlock", () => {
  it("renews the lease (expires moves forward)", async () => {
    const s = scope();
    const lock = await hold(acquireLock(client, { ...s, operation: "apply", ttlMs: 60_000 }));
    const before = Date.parse(lock.holder.expires);
    await new Promise((r) => setTimeout(r, 1100)); // the server clock has 1 s resolution
    await lock.renew();
    expect(Date.parse((await inspectLock(client, s))?.holder?.expires ?? "")).toBeGreaterThan(before);
    expect(lock.held).toBe(true);
  });

  it("force-unlock clears only the named id; the old holder's renewal then aborts and its release is a no-op", async () => {
    const s = scope();
    const lost: LockLostError[] = [];
    const first = await acquireLock(client, { ...s, operation: "apply", onLost: (e) => lost.push(e) });
    await expect(forceUnlock(client, s, "not-the-id")).rejects.toBeInstanceOf(UnlockError);
    expect((await inspectLock(client, s))?.holder?.id).toBe(first.id);

    const removed = await forceUnlock(client, s, first.id);
    expect(removed.id).toBe(first.id);
    const second = await hold(acquireLock(client, { ...s, operation: "apply" }));
    await first.renew();
    expect(first.signal.aborted).toBe(true);
    expect(first.signal.reason).toBeInstanceOf(LockLostError);
    expect(String(first.signal.reason.message)).toContain(`now held by`);
    expect(lost).toHaveLength(1);
    expect(first.held).toBe(false);
    expect(await first.release()).toBeNull();
    expect((await inspectLock(client, s))?.holder?.id).toBe(second.id); // the new holder keeps it
  });

  it("loses the lock when the lock agent is archived under it", async () => {
    const s = scope();
    const lock = await acquireLock(client, { ...s, operation: "apply" });
    const [agent] = await lockAgents(s);
    await client.beta.agents.archive(agent?.id ?? "");
    await lock.renew();
    expect(lock.signal.aborted).toBe(true);
    expect(String(lock.signal.reason.message)).toContain("the lock agent was archived");
    const next = await hold(acquireLock(client, { ...s, operation: "apply" })); // a new lock agent
    expect(next.held).toBe(true);
  });

  it("prints hand-edited holder fields without terminal control characters", async () => {
    const s = scope();
    await (await acquireLock(client, { ...s, operation: "apply" })).release();
    const [agent] = await lockAgents(s);
    await client.beta.agents.update(agent?.id ?? "", {
      metadata: {
        [LOCK_KEYS.id]: "x\u001b[2Jy",
        [LOCK_KEYS.who]: "evil\u001b[1A\u001b[2K\u202e\u0007",
        [LOCK_KEYS.expires]: "2999-01-01T00:00:00.000Z",
      },
    });
    const error = (await acquireLock(client, { ...s, operation: "apply" }).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(LockHeldError);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
    expect(error.message).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    expect(error.message).toContain("evil\\u001b[1A\\u001b[2K\\u202e\\u0007");
  });

  it("force-unlock says why when there is no lock or it is free", async () => {
    const s = scope();
    await expect(forceUnlock(client, s, "x")).rejects.toThrow(/no lock for stack/);
    await (await acquireLock(client, { ...s, operation: "apply" })).release();
    await expect(forceUnlock(client, s, "x")).rejects.toThrow(/is not held/);
  });

  it("applyPlan starts no write once the signal aborted (the lock was lost)", async () => {
    const stack = `stack-${++n}`;
    const plan = {
      actions: [{ address: "environment.e", type: "environment", name: "e", action: "create", depends_on: [] }],
    } as unknown as Plan;
    const desired = [{ type: "environment", name: "e", address: "environment.e", dependsOn: [] }] as never;
    const live = { resources: new Map(), duplicates: [], adoptions: new Map(), adoptionErrors: new Map() };
    const controller = new AbortController();
    controller.abort(new LockLostError({ stack, target: "prod" }, "test"));
    emulator.resetStats();
    const result = await applyPlan(
      client,
      plan,
      desired,
      live,
      { stack, secrets: envSecrets() },
      {
        signal: controller.signal,
      },
    );
    expect(result.done).toBe(0);
    expect(result.outcomes[0]?.error).toContain("was lost");
    expect(emulator.stats().requests).toBe(0);
  });
});
