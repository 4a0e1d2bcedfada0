/**
 * The apply lock end to end: the real CLI, several processes, one emulator server with latency so that runs overlap.
 * Two applies started together never duplicate anything; the second reports the holder, or waits with
 * `--lock-timeout` and then has nothing to do; a holder killed with kill -9 blocks until force-unlock or until its
 * lease expires; the lock agent never shows in plan, plan --prune or export.
 */
import { copyFile, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { forceUnlock, isLockAgent, LOCK_KEYS } from "../../src/providers/lock.js";
import { copyFleet, removeDir, runCli } from "./helpers.js";
import { expectNoDuplicates, ownedCounts, startCli } from "./lock-helpers.js";

const TOKEN = "canary-lock-5d1e9b";

const lockIdOf = (stderr: string) => /lock id:\s+(\S+)/.exec(stderr)?.[1] ?? "";

describe("two applies of one stack at once, against an API", () => {
  let emulator: RunningEmulator;
  let client: Anthropic;
  let env: Record<string, string>;
  beforeEach(async () => {
    emulator = await startEmulator({ port: 0, latencyMs: 150 });
    client = new Anthropic({ apiKey: "test", baseURL: emulator.url, maxRetries: 0 });
    env = { ANTHROPIC_BASE_URL: emulator.url, ANTHROPIC_API_KEY: "test", WORKSPACE_MCP_TOKEN: TOKEN };
  });
  afterEach(() => emulator.close());

  it("applies once; the other fails at once naming the holder; nothing is duplicated or shown", async () => {
    const dir = await copyFleet();
    try {
      const runs = [0, 1].map(() => startCli(["apply", "--auto-approve", "--dir", dir], env));
      const results = await Promise.all(runs.map((r) => r.done));
      const winner = results.findIndex((r) => r.code === 0);
      const loser = 1 - winner;
      expect(results.map((r) => r.code).sort()).toEqual([0, 1]);
      expect(results[winner]?.stdout).toContain("Apply complete: 7 resources changed.");
      const stderr = results[loser]?.stderr ?? "";
      expect(stderr).toContain("the lock of stack example-fleet, target default is held; nothing was changed");
      expect(stderr).toContain(`(pid ${runs[winner]?.child.pid})`);
      expect(stderr).toContain("operation: apply");
      expect(stderr).toMatch(/since: +\d{4}-\d\d-\d\dT/);
      expect(stderr).toMatch(/expires: +\d{4}-\d\d-\d\dT/);
      expect(stderr).toContain(`reconcile force-unlock ${lockIdOf(stderr)}`);
      expect(results[loser]?.stdout).not.toContain("✓");
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
      await copyFile(join(dir, "reconcile.yaml"), join(out, "reconcile.yaml"));
      const exported = await runCli(["export", "--json", "--dir", out], env);
      expect(exported.code).toBe(0);
      expect(exported.stdout.match(/"address": "agent\./g)).toHaveLength(3); // the fleet's agents, not the lock
      expect(exported.stdout + exported.stderr).not.toMatch(/reconcile lock|reconcile\/lock/);
      for (const file of await readdir(join(out, "agents"))) {
        expect(await readFile(join(out, "agents", file), "utf8")).not.toMatch(/reconcile lock|reconcile\/lock/);
      }
      await removeDir(out);
      for (const text of results.flatMap((r) => [r.stdout, r.stderr])) expect(text).not.toContain(TOKEN);
    } finally {
      await removeDir(dir);
    }
  }, 120_000);

  it("with --lock-timeout the second waits, then plans no changes and exits 0", async () => {
    const dir = await copyFleet();
    try {
      const runs = [0, 1].map(() => startCli(["apply", "--auto-approve", "--lock-timeout", "2m", "--dir", dir], env));
      const results = await Promise.all(runs.map((r) => r.done));
      expect(results.map((r) => r.code)).toEqual([0, 0]);
      const applied = results.filter((r) => r.stdout.includes("Apply complete: 7 resources changed."));
      const waited = results.filter((r) => r.stdout.includes("No changes. Live state matches the specs."));
      expect(applied).toHaveLength(1);
      expect(waited).toHaveLength(1);
      expect(waited[0]?.stderr).toMatch(/Waiting for the lock of stack example-fleet, target default \(held by .*pid/);
      expectNoDuplicates(await ownedCounts(client));
    } finally {
      await removeDir(dir);
    }
  }, 120_000);
});

describe("a holder killed with kill -9", () => {
  let emulator: RunningEmulator;
  let client: Anthropic;
  let env: Record<string, string>;
  beforeEach(async () => {
    emulator = await startEmulator({ port: 0, latencyMs: 300 });
    client = new Anthropic({ apiKey: "test", baseURL: emulator.url, maxRetries: 0 });
    env = { ANTHROPIC_BASE_URL: emulator.url, ANTHROPIC_API_KEY: "test", WORKSPACE_MCP_TOKEN: TOKEN };
  });
  afterEach(() => emulator.close());

  it("blocks the next apply, naming the holder, until force-unlock ID --force; then apply converges", async () => {
    const dir = await copyFleet();
    try {
      const holder = startCli(["apply", "--auto-approve", "--dir", dir], env);
      await holder.sees("Plan: 7 to create");
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

      const wrong = await runCli(
        ["force-unlock", "00000000-0000-0000-0000-000000000000", "--force", "--dir", dir],
        env,
      );
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
    } finally {
      await removeDir(dir);
    }
  }, 120_000);

  it("an expired lease is taken over without force-unlock", async () => {
    const dir = await copyFleet();
    try {
      const holder = startCli(["apply", "--auto-approve", "--dir", dir], { ...env, RECONCILE_LOCK_TTL: "10s" });
      await holder.sees("Plan: 7 to create");
      holder.child.kill("SIGKILL");
      await holder.done;
      const next = await runCli(["apply", "--auto-approve", "--lock-timeout", "1m", "--dir", dir], env);
      expect(next.stderr).toContain(`Waiting for the lock of stack example-fleet, target default (held by`);
      expect(next.stderr).toContain(`pid ${holder.child.pid}`);
      expect(next.code).toBe(0);
      const after = await runCli(["plan", "--detailed-exitcode", "--dir", dir], env);
      expect(after.code).toBe(0);
      expectNoDuplicates(await ownedCounts(client));
    } finally {
      await removeDir(dir);
    }
  }, 120_000);
});

describe("while apply runs", () => {
  let emulator: RunningEmulator;
  let client: Anthropic;
  let env: Record<string, string>;
  beforeEach(async () => {
    emulator = await startEmulator({ port: 0, latencyMs: 500 });
    client = new Anthropic({ apiKey: "test", baseURL: emulator.url, maxRetries: 0 });
    env = { ANTHROPIC_BASE_URL: emulator.url, ANTHROPIC_API_KEY: "test", WORKSPACE_MCP_TOKEN: TOKEN };
  });
  afterEach(() => emulator.close());

  it("SIGTERM releases the lock: the next apply needs no force-unlock", async () => {
    const dir = await copyFleet();
    try {
      const holder = startCli(["apply", "--auto-approve", "--dir", dir], env);
      await holder.sees("Plan: 7 to create");
      holder.child.kill("SIGTERM");
      const stopped = await holder.done;
      expect(stopped.code).toBe(143);
      expect(stopped.stderr).toContain("Interrupted (SIGTERM): releasing the lock");
      const [lock] = await lockAgents(client);
      expect(lock?.metadata[LOCK_KEYS.id]).toBeUndefined();
      const next = await runCli(["apply", "--auto-approve", "--dir", dir], env);
      expect(next.stderr).not.toContain("Waiting");
      expect(next.code).toBe(0);
    } finally {
      await removeDir(dir);
    }
  }, 120_000);

  it("a lost lock stops new writes and fails the apply, saying so", async () => {
    const dir = await copyFleet();
    try {
      // 20 more agents, one write at a time, 500 ms each: the writes take at least 13 s; the lease renews every 2 s.
      for (let i = 0; i < 20; i++) {
        const spec = `apiVersion: reconcile/v1\nkind: Agent\nname: extra-${i}\nmodel: claude-haiku-4-5\nsystem: Extra ${i}.\n`;
        await writeFile(join(dir, "agents", `extra-${i}.yaml`), spec);
      }
      const holder = startCli(["apply", "--auto-approve", "--concurrency", "1", "--dir", dir], {
        ...env,
        RECONCILE_LOCK_TTL: "6s",
      });
      await holder.sees("Plan: 27 to create");
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
    } finally {
      await removeDir(dir);
    }
  }, 120_000);
});

/** The lock agents in the emulator. */
async function lockAgents(client: Anthropic) {
  const out = [];
  for await (const a of client.beta.agents.list({ limit: 100 })) if (isLockAgent(a.metadata)) out.push(a);
  return out;
}
