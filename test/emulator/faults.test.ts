import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { describe, expect, it } from "vitest";
import { FaultInjector } from "../../src/emulator/faults.js";
import type { RunningEmulator } from "../../src/emulator/index.js";
import { BETA, sdk, start } from "./helpers.js";

const HEADERS = { "x-api-key": "test", "anthropic-beta": BETA, "content-type": "application/json" };

/** Runs a fixed sequence of requests; returns each outcome (`200`, `429:1`, `500`, `reset`) and how many creates got a 200. */
async function run(emu: RunningEmulator): Promise<{ outcomes: string[]; created: number }> {
  const outcomes: string[] = [];
  let created = 0;
  for (let i = 0; i < 60; i++) {
    const create = i % 2 === 0;
    try {
      const res = await fetch(`${emu.url}/v1/vaults`, {
        method: create ? "POST" : "GET",
        headers: HEADERS,
        body: create ? JSON.stringify({ display_name: `v${i}` }) : undefined,
      });
      const body = (await res.json()) as { error?: { type: string } };
      if (res.status === 429) {
        expect(body.error?.type).toBe("rate_limit_error");
        outcomes.push(`429:${res.headers.get("retry-after")}`);
      } else if (res.status === 500) {
        expect(body.error?.type).toBe("api_error");
        outcomes.push("500");
      } else {
        expect(res.status).toBe(200);
        if (create) created++;
        outcomes.push("200");
      }
    } catch (err) {
      expect((err as Error).message).toContain("fetch failed");
      outcomes.push("reset");
    }
  }
  return { outcomes, created };
}

/** Every vault, listing with retries (faults are still on). */
async function allVaults(emu: RunningEmulator): Promise<number> {
  const client = sdk(emu, { maxRetries: 20 });
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      const ids: string[] = [];
      for await (const v of client.beta.vaults.list({ limit: 100 })) ids.push(v.id);
      return ids.length;
    } catch {
      // an injected reset; try again
    }
  }
  throw new Error("could not list vaults");
}

describe("fault injection", () => {
  it("is reproducible with a seed and produces 429 (retry-after 0|1), 500 and dropped connections", async () => {
    const a = await start({ faultRate: 0.4, seed: 7 });
    const first = await run(a);
    const total = await allVaults(a);
    await a.close();
    const b = await start({ faultRate: 0.4, seed: 7 });
    const second = await run(b);
    await b.close();
    const c = await start({ faultRate: 0.4, seed: 8 });
    const third = await run(c);
    await c.close();

    expect(second.outcomes).toEqual(first.outcomes);
    expect(third.outcomes).not.toEqual(first.outcomes);
    const kinds = new Set(first.outcomes);
    expect(kinds.has("200")).toBe(true);
    expect(kinds.has("500")).toBe(true);
    expect(kinds.has("reset")).toBe(true);
    expect([...kinds].filter((k) => k.startsWith("429:")).every((k) => k === "429:0" || k === "429:1")).toBe(true);
    expect([...kinds].some((k) => k.startsWith("429:"))).toBe(true);
    const failures = first.outcomes.filter((o) => o !== "200").length;
    expect(failures).toBeGreaterThan(10);
    expect(failures).toBeLessThan(40);
    // Some creates were committed although their connection dropped: there are more vaults than 200 responses.
    const resetCreates = first.outcomes.filter((o, i) => o === "reset" && i % 2 === 0).length;
    expect(total).toBeGreaterThan(first.created);
    expect(total).toBeLessThanOrEqual(first.created + resetCreates);
  });

  it("surfaces through the SDK as typed errors", async () => {
    const emu = await start({ faultRate: 1, seed: 3 });
    const client = sdk(emu);
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) {
      try {
        await client.beta.agents.list();
        seen.add("ok");
      } catch (err) {
        seen.add((err as Error).constructor.name);
        expect(err).toBeInstanceOf(Anthropic.APIError);
      }
    }
    await emu.close();
    expect(seen).toEqual(new Set(["RateLimitError", "InternalServerError", "APIConnectionError"]));
  });

  it("the injector draws the same decisions for the same seed", () => {
    const x = new FaultInjector(0.5, 123);
    const y = new FaultInjector(0.5, 123);
    const seq = (f: FaultInjector) =>
      Array.from({ length: 50 }, (_, i) => JSON.stringify(f.next(i % 3 ? "GET" : "POST")));
    expect(seq(x)).toEqual(seq(y));
    const none = new FaultInjector(0, 1);
    expect(Array.from({ length: 20 }, () => none.next("POST"))).toEqual(Array(20).fill(null));
  });

  it("latencyMs is how long every answer takes, errors included; the work is done when the request arrives", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "reconcile-latency-"));
    const stateFile = path.join(dir, "state.json");
    const emu = await start({ latencyMs: 60, stateFile });
    try {
      let t0 = performance.now();
      await sdk(emu).beta.agents.list();
      expect(performance.now() - t0).toBeGreaterThanOrEqual(55);
      // An answer the emulator refuses at once (no key) leaves no sooner.
      t0 = performance.now();
      const res = await fetch(`${emu.url}/v1/agents`, { headers: { "anthropic-beta": "managed-agents-2026-04-01" } });
      expect(res.status).toBe(401);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(55);
      // Only the answer waits: a create is stored (and persisted) before its answer leaves, as by a real API whose
      // response time the latency stands for.
      let answered = false;
      const created = sdk(emu)
        .beta.agents.create({ name: "early", model: "claude-sonnet-4-6" })
        .then((agent) => {
          answered = true;
          return agent;
        });
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(answered).toBe(false);
      expect(await readFile(stateFile, "utf8")).toMatch(/"name": ?"early"/);
      await created;
    } finally {
      await emu.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
