/**
 * The apply lock end to end: the real CLI, several processes, one emulator server with latency so that runs overlap.
 * Runs that must hold the lock at a given moment talk through a gate (a proxy the test closes), so what a second run
 * sees never depends on how fast a loaded machine is. Two applies started together never duplicate anything; a
 * second apply reports the holder, or waits with `--lock-timeout` and then has nothing to do; a holder killed with
 * kill -9 blocks until force-unlock or until its lease expires; SIGTERM stops new writes and releases; a lost lock
 * stops new writes; the lock agent never shows in plan, plan --prune or export.
 */
import { copyFile, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { acquireLock, forceUnlock, isLockAgent, LOCK_KEYS } from "../../src/providers/lock.js";
import { copyFleet, removeDir, runCli } from "./helpers.js";
import { expectNoDuplicates, type Gate, ownedCounts, startCli, startGate } from "./lock-helpers.js";

const TOKEN = "canary-lock-5d1e9b";
const SCOPE = { stack: "example-fleet", target: "default" };

const lockIdOf = (stderr: string) => /lock id:\s+(\S+)/.exec(stderr)?.[1] ?? "";
const created = (stdout: string) => (stdout.match(/✓/g) ?? []).length;

let emulator: RunningEmulator;
let gate: Gate;
let client: Anthropic;
/** The environment of a run that talks to the emulator directly. */
let env: Record<string, string>;
/** The environment of a run that talks through the gate. */
let gated: Record<string, string>;
let dir: string;
const setup = (latencyMs: number) => {
  beforeEach(async () => {
    emulator = await startEmulator({ port: 0, latencyMs });
    gate = await startGate(emulator.url);
    client = new Anthropic({ apiKey: "test", baseURL: emulator.url, maxRetries: 0 });
    env = { ANTHROPIC_BASE_URL: emulator.url, ANTHROPIC_API_KEY: "test", WORKSPACE_MCP_TOKEN: TOKEN };
    gated = { ...env, ANTHROPIC_BASE_URL: gate.url };
    dir = await copyFleet();
  });
  afterEach(async () => {
    await gate.stop();
    await emulator.close();
    await removeDir(dir);
  });
};

describe("two applies of one stack, against an API", () => {
  setup(150);

  it("started together: exactly one applies, nothing is duplicated, the lock agent never shows", async () => {
    const runs = [0, 1].map(() => startCli(["apply", "--auto-approve", "--dir", dir], env));
    const results = await Promise.all(runs.map((r) => r.done));
    const winner = results.findIndex((r) => r.stdout.includes("Apply complete: 11 resources changed."));
    expect(winner).toBeGreaterThanOrEqual(0);
    expect(results[winner]?.code).toBe(0);
    const other = results[1 - winner];
    if (other?.code === 0) {
      expect(other.stdout).toContain("No changes. Live state matches the specs."); // it came after the winner
    } else {
      expect(other?.code).toBe(1);
      expect(other?.stderr).toContain(`(pid ${runs[winner]?.child.pid})`);
      expect(other?.stdout).not.toContain("✓");
    }
    expectNoDuplicates(await ownedCounts(client));

    // The lock agent is not a resource: plan, plan --prune and export never show it.
    for (const args of [["plan"], ["plan", "--prune"]]) {
      const plan = await runCli([...args, "--detailed-exitcode", "--dir", dir], env);
      expect(plan.stdout).toContain("No changes. Live state matches the specs.");
      expect(plan.code).toBe(0);
      expect(plan.stdout + plan.stderr).not.toMatch(/lock/i);
    }
    // export into a fresh repository of the same stack (the fleet's own specs already declare these names)
    const out = await mkdtemp(join(tmpdir(), "reconcile-lock-export-"));
    try {
      await copyFile(join(dir, "reconcile.yaml"), join(out, "reconcile.yaml"));
      const exported = await runCli(["export", "--json", "--dir", out], env);
      expect(exported.code).toBe(0);
      expect(exported.stdout.match(/"address": "agent\./g)).toHaveLength(3); // the fleet's agents, not the lock
      expect(exported.stdout + exported.stderr).not.toMatch(/reconcile lock|reconcile\/lock/);
      for (const file of await readdir(join(out, "agents"))) {
        expect(await readFile(join(out, "agents", file), "utf8")).not.toMatch(/reconcile lock|reconcile\/lock/);
      }
      const [lock] = await lockAgents(client);
      const byId = await runCli(["export", "--id", lock?.id ?? "", "--json", "--force", "--dir", out], env);
      expect(byId.stderr).toContain(`agent ${lock?.id} is reconcile's apply lock, not a resource; it is not exported`);
      expect(byId.stdout).not.toContain('"address"');
    } finally {
      await removeDir(out);
    }
    for (const text of results.flatMap((r) => [r.stdout, r.stderr])) expect(text).not.toContain(TOKEN);
  }, 120_000);

  it("a second apply while the first holds the lock fails at once, naming the holder", async () => {
    const first = startCli(["apply", "--auto-approve", "--dir", dir], gated);
    await first.sees("Plan: 11 to create");
    gate.close(); // the first holds the lock and its writes wait
    const second = await runCli(["apply", "--auto-approve", "--dir", dir], env);
    gate.open();
    expect(second.code).toBe(1);
    const stderr = second.stderr;
    expect(stderr).toContain("the lock of stack example-fleet, target default is held; nothing was changed");
    expect(stderr).toContain(`(pid ${first.child.pid})`);
    expect(stderr).toContain("operation: apply");
    expect(stderr).toMatch(/since: +\d{4}-\d\d-\d\dT/);
    expect(stderr).toMatch(/expires: +\d{4}-\d\d-\d\dT/);
    expect(stderr).toContain(`reconcile force-unlock ${lockIdOf(stderr)}`);
    expect(second.stdout).toBe(""); // nothing observed, planned or written
    const result = await first.done;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Apply complete: 11 resources changed.");
    expectNoDuplicates(await ownedCounts(client));
  }, 120_000);

  it("with --lock-timeout both wait for the holder; then one applies and the other plans no changes", async () => {
    const holder = await acquireLock(client, { ...SCOPE, operation: "test" });
    const runs = [0, 1].map(() => startCli(["apply", "--auto-approve", "--lock-timeout", "2m", "--dir", dir], env));
    await Promise.all(runs.map((r) => r.sees("Waiting for the lock of stack example-fleet, target default (held by")));
    await holder.release();
    const results = await Promise.all(runs.map((r) => r.done));
    expect(results.map((r) => r.code)).toEqual([0, 0]);
    expect(results.filter((r) => r.stdout.includes("Apply complete: 11 resources changed."))).toHaveLength(1);
    expect(results.filter((r) => r.stdout.includes("No changes. Live state matches the specs."))).toHaveLength(1);
    expectNoDuplicates(await ownedCounts(client));
  }, 120_000);
});

describe("a holder that dies or is stopped", () => {
  setup(300);

  it("kill -9 blocks the next apply, naming the holder, until force-unlock ID --force; then apply converges", async () => {
    const holder = startCli(["apply", "--auto-approve", "--dir", dir], gated);
    await holder.sees("Plan: 11 to create");
    gate.close(); // its writes never arrive
    holder.child.kill("SIGKILL");
    await holder.done;

    const blocked = await runCli(["apply", "--auto-approve", "--dir", dir], env);
    expect(blocked.code).toBe(1);
    expect(blocked.stderr).toContain(`(pid ${holder.child.pid})`);
    const id = lockIdOf(blocked.stderr);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);

    // plan does not lock, and does not show the lock agent; applying a saved plan takes the lock too
    const planFile = join(dir, "p.json");
    const plan = await runCli(["plan", "--prune", "--out", planFile, "--dir", dir], env);
    expect(plan.code).toBe(0);
    expect(plan.stdout).not.toMatch(/lock/i);
    const blockedSaved = await runCli(["apply", planFile, "--dir", dir], env);
    expect(blockedSaved.code).toBe(1);
    expect(blockedSaved.stderr).toContain(`lock id:   ${id}`);
    expect(blockedSaved.stdout).toBe("");

    const wrong = await runCli(["force-unlock", "00000000-0000-0000-0000-000000000000", "--force", "--dir", dir], env);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`held under id ${id}`);
    const unasked = await runCli(["force-unlock", id, "--dir", dir], env);
    expect(unasked.code).toBe(1);
    expect(unasked.stderr).toContain("stdin is not a terminal: pass --force");
    const unlocked = await runCli(["force-unlock", id, "--force", "--dir", dir], env);
    expect(unlocked.stderr).toContain(`pid ${holder.child.pid}`);
    expect(unlocked.stdout).toContain(`Released lock ${id}`);
    expect(unlocked.code).toBe(0);

    const again = await runCli(["apply", planFile, "--dir", dir], env);
    expect(again.code).toBe(0);
    const after = await runCli(["plan", "--detailed-exitcode", "--dir", dir], env);
    expect(after.code).toBe(0);
    expectNoDuplicates(await ownedCounts(client));
  }, 120_000);

  it("an expired lease is taken over without force-unlock", async () => {
    const holder = startCli(["apply", "--auto-approve", "--dir", dir], { ...gated, RECONCILE_LOCK_TTL: "10s" });
    await holder.sees("Plan: 11 to create");
    gate.close();
    holder.child.kill("SIGKILL");
    await holder.done;
    const next = await runCli(["apply", "--auto-approve", "--lock-timeout", "1m", "--dir", dir], env);
    expect(next.stderr).toContain(`Waiting for the lock of stack example-fleet, target default (held by`);
    expect(next.stderr).toContain(`pid ${holder.child.pid}`);
    expect(next.code).toBe(0);
    const after = await runCli(["plan", "--detailed-exitcode", "--dir", dir], env);
    expect(after.code).toBe(0);
    expectNoDuplicates(await ownedCounts(client));
  }, 120_000);

  it("SIGTERM starts no new write, lets writes in flight land, then releases the lock", async () => {
    const holder = startCli(["apply", "--auto-approve", "--dir", dir], gated);
    await holder.sees("Plan: 11 to create");
    gate.close();
    holder.child.kill("SIGTERM");
    await holder.sees("Interrupted (SIGTERM): no new write starts");
    gate.open();
    const stopped = await holder.done;
    expect(stopped.code).toBe(143);
    expect(stopped.stdout).toContain("not started: interrupted by SIGTERM");
    expect(created(stopped.stdout)).toBeLessThan(7);
    expect((await ownedCounts(client)).size).toBe(created(stopped.stdout)); // what was in flight landed, nothing more
    const [lock] = await lockAgents(client);
    expect(lock?.metadata[LOCK_KEYS.id]).toBeUndefined();
    const next = await runCli(["apply", "--auto-approve", "--dir", dir], env);
    expect(next.stderr).not.toContain("Waiting");
    expect(next.code).toBe(0);
    expectNoDuplicates(await ownedCounts(client));
  }, 120_000);
});

describe("while apply runs", () => {
  setup(500);

  it("a lost lock stops new writes and fails the apply, saying so", async () => {
    // 20 more agents, one write at a time, 500 ms each: the writes take at least 13 s; the lease renews every 2 s.
    for (let i = 0; i < 20; i++) {
      const spec = `apiVersion: reconcile/v1\nkind: Agent\nname: extra-${i}\nmodel: claude-haiku-4-5\nsystem: Extra ${i}.\n`;
      await writeFile(join(dir, "agents", `extra-${i}.yaml`), spec);
    }
    const holder = startCli(["apply", "--auto-approve", "--concurrency", "1", "--dir", dir], {
      ...env,
      RECONCILE_LOCK_TTL: "6s",
    });
    await holder.sees("Plan: 31 to create");
    const [lock] = await lockAgents(client);
    await forceUnlock(client, { stack: "example-fleet", target: "default" }, lock?.metadata[LOCK_KEYS.id] ?? "");
    const result = await holder.done;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("the lock of stack example-fleet, target default was lost (it was unlocked)");
    expect(result.stdout).toContain("no further write was started");
    expect(result.stdout).not.toContain("Apply complete");
    const done = (result.stdout.match(/✓/g) ?? []).length;
    expect(done).toBeLessThan(27);
    expect((await ownedCounts(client)).size).toBe(done); // nothing was written after the loss was seen
  }, 120_000);
});

/** The lock agents in the emulator. */
async function lockAgents(client: Anthropic) {
  const out = [];
  for await (const a of client.beta.agents.list({ limit: 100 })) if (isLockAgent(a.metadata)) out.push(a);
  return out;
}
