/**
 * The `--local` state file lock end to end: two `apply --local` of one repository at once lose nothing and duplicate
 * nothing; a held lock names its holder, or is waited for with `--lock-timeout`; a dead holder's lock is taken over;
 * read-only commands neither wait nor write the state file.
 */
import { mkdir, readFile, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lockStateFile } from "../../src/cli/local-lock.js";
import { startEmulator } from "../../src/emulator/index.js";
import { SKILLS_BETAS } from "../../src/providers/skill.js";
import { copyFleet, removeDir, runCli } from "./helpers.js";
import { expectNoDuplicates, ownedCounts, startCli } from "./lock-helpers.js";

const TOKEN = "canary-lock-local-7c3a";
const env = { WORKSPACE_MCP_TOKEN: TOKEN };

let dir: string;
let stateFile: string;
beforeEach(async () => {
  dir = await copyFleet();
  stateFile = join(dir, ".reconcile", "local-state.json");
});
afterEach(() => removeDir(dir));

/** The ids a run printed as created (`✓ address: created (id)`). */
const createdIds = (stdout: string) => [...stdout.matchAll(/: created \((\w+)\)/g)].map((m) => m[1] as string);

/** Reads the state file through the SDK (an emulator that only reads it), and every id it holds. */
async function liveState(): Promise<{ counts: Map<string, number>; ids: Set<string> }> {
  const emulator = await startEmulator({ port: 0, stateFile, readOnlyState: true });
  try {
    const client = new Anthropic({ apiKey: "test", baseURL: emulator.url, maxRetries: 0 });
    const ids = new Set<string>();
    for await (const a of client.beta.agents.list({ limit: 100 })) ids.add(a.id);
    for await (const e of client.beta.environments.list({ limit: 100 })) ids.add(e.id);
    for await (const v of client.beta.vaults.list({ limit: 100 })) {
      ids.add(v.id);
      for await (const c of client.beta.vaults.credentials.list(v.id, { limit: 100 })) ids.add(c.id);
    }
    for await (const s of client.beta.skills.list({ limit: 100, source: "custom", betas: SKILLS_BETAS })) ids.add(s.id);
    for await (const m of client.beta.memoryStores.list({ limit: 100 })) ids.add(m.id);
    for await (const t of client.beta.tunnels.list({ limit: 100 })) ids.add(t.id);
    for await (const d of client.beta.deployments.list({ limit: 100 })) ids.add(d.id);
    return { counts: await ownedCounts(client), ids };
  } finally {
    await emulator.close();
  }
}

describe("apply --local twice at once", () => {
  it("loses nothing and duplicates nothing: one applies, the other reports the lock", async () => {
    const runs = [0, 1].map(() => startCli(["apply", "--local", "--auto-approve", "--dir", dir], env));
    const results = await Promise.all(runs.map((r) => r.done));
    const { counts, ids } = await liveState();
    const created = results.flatMap((r) => createdIds(r.stdout));
    expect(created).toHaveLength(11);
    for (const id of created) expect(ids.has(id), `${id} was reported created but is not in the state`).toBe(true);
    expectNoDuplicates(counts);
    for (const r of results.filter((x) => x.code !== 0)) {
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("the local state file .reconcile/local-state.json is locked by");
      expect(r.stderr).toContain("(apply since");
    }
    expect(results.filter((r) => r.stdout.includes("Apply complete: 11 resources changed."))).toHaveLength(1);
  }, 120_000);

  it("with --lock-timeout both succeed in turn: the second plans no changes", async () => {
    const args = ["apply", "--local", "--auto-approve", "--lock-timeout", "2m", "--dir", dir];
    const results = await Promise.all([0, 1].map(() => startCli(args, env).done));
    expect(results.map((r) => r.code)).toEqual([0, 0]);
    expect(results.filter((r) => r.stdout.includes("Apply complete: 11 resources changed."))).toHaveLength(1);
    expect(results.filter((r) => r.stdout.includes("No changes. Live state matches the specs."))).toHaveLength(1);
    const { counts, ids } = await liveState();
    for (const id of results.flatMap((r) => createdIds(r.stdout))) expect(ids.has(id)).toBe(true);
    expectNoDuplicates(counts);
    const plan = await runCli(["plan", "--local", "--detailed-exitcode", "--dir", dir], env);
    expect(plan.code).toBe(0);
  }, 120_000);
});

describe("a held state file lock", () => {
  it("fails apply --local at once naming the holder; --lock-timeout waits for its release", async () => {
    await mkdir(join(dir, ".reconcile"), { recursive: true });
    const release = await lockStateFile(stateFile, { operation: "apply", timeoutMs: 0 });
    try {
      const blocked = await runCli(["apply", "--local", "--auto-approve", "--dir", dir], env);
      expect(blocked.code).toBe(1);
      expect(blocked.stderr).toContain(`is locked by`);
      expect(blocked.stderr).toContain(`(pid ${process.pid})`);
      expect(blocked.stderr).toContain("--lock-timeout");
      expect(blocked.stdout).toBe(""); // nothing was loaded, planned or written

      // plan --local does not wait for the lock, and never writes the state file
      const plan = await runCli(["plan", "--local", "--dir", dir], env);
      expect(plan.code).toBe(0);
      expect(plan.stdout).toContain("Plan: 11 to create");

      const waiting = startCli(["apply", "--local", "--auto-approve", "--lock-timeout", "1m", "--dir", dir], env);
      await waiting.sees("Waiting for the lock of .reconcile/local-state.json (held by");
      await release();
      const result = await waiting.done;
      expect(result.code).toBe(0);
      expect(result.stdout).toContain("Apply complete: 11 resources changed.");
    } finally {
      await release();
    }
  }, 120_000);

  it("is taken over when its holder died (the lock went stale)", async () => {
    await mkdir(`${stateFile}.lock`, { recursive: true });
    await writeFile(`${stateFile}.holder`, JSON.stringify({ who: "ghost (pid 1)", operation: "apply", since: "x" }));
    const old = new Date(Date.now() - 120_000);
    await utimes(`${stateFile}.lock`, old, old);
    const result = await runCli(["apply", "--local", "--auto-approve", "--dir", dir], env);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
  }, 120_000);
});

describe("read-only commands", () => {
  it("never write the state file, even when a request tries to", async () => {
    const applied = await runCli(["apply", "--local", "--auto-approve", "--dir", dir], env);
    expect(applied.code).toBe(0);
    const before = await readFile(stateFile, "utf8");
    const mtime = (await stat(stateFile)).mtimeMs;
    for (const args of [["plan"], ["plan", "--prune"], ["plan", "--json"]]) {
      const r = await runCli([...args, "--local", "--dir", dir], env);
      expect(r.code, r.stderr).toBe(0);
    }
    expect(await readFile(stateFile, "utf8")).toBe(before);
    expect((await stat(stateFile)).mtimeMs).toBe(mtime);

    const emulator = await startEmulator({ port: 0, stateFile, readOnlyState: true });
    try {
      const client = new Anthropic({ apiKey: "test", baseURL: emulator.url, maxRetries: 0 });
      await expect(client.beta.agents.create({ name: "x", model: "claude-haiku-4-5" })).rejects.toMatchObject({
        status: 500,
      });
    } finally {
      await emulator.close();
    }
    expect(await readFile(stateFile, "utf8")).toBe(before);
  }, 120_000);
});
