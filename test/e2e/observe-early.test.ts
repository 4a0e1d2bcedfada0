/**
 * Observing while the specs load (issue 10 item 6): `plan` and `drift` start the observe once reconcile.yaml is
 * read. A spec error must still be what the command reports (exit 1, nothing else said, nothing written), and the
 * pending observe must be abandoned at once: against an API that never answers, the command must not wait for the
 * request timeout. Also checked in-process: `abandon()` fails the observe with `ObserveAbandoned`, closes the socket
 * in flight and leaves the client's middleware as it was.
 */

import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ObserveAbandoned, observeEarly } from "../../src/cli/observe-early.js";
import { startEmulator } from "../../src/emulator/index.js";
import { createClient } from "../../src/providers/client.js";
import { envSecrets } from "../../src/providers/secrets.js";
import { applyPlan } from "../../src/reconcile/apply.js";
import { loadProjectHead, loadSpecs, preparePlan } from "../../src/reconcile/workflow.js";
import { runCli } from "./helpers.js";

/** An API that accepts every request and never answers; counts requests and closed sockets. */
let server: Server;
let url: string;
const seen = { requests: 0, closed: 0 };
const sockets = new Set<Socket>();
let dir: string;

const write = async (file: string, ...lines: string[]) => {
  await mkdir(join(dir, file, ".."), { recursive: true });
  await writeFile(join(dir, file), `${lines.join("\n")}\n`);
};

beforeAll(async () => {
  server = createServer(() => {
    seen.requests++;
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => {
      seen.closed++;
      sockets.delete(socket);
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = await mkdtemp(join(tmpdir(), "reconcile-observe-early-"));
  await write("reconcile.yaml", "stack: early");
  await write(
    "agents/helper.yaml",
    "apiVersion: reconcile/v1",
    "kind: Agent",
    "name: helper",
    "model: claude-haiku-4-5",
  );
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((done) => server.close(done));
  await rm(dir, { recursive: true, force: true });
});

describe("observing while the specs load", () => {
  it("abandon() stops an observe whose request is in flight at once: ObserveAbandoned, socket closed, middleware restored", async () => {
    const head = await loadProjectHead(dir);
    const client = createClient({ apiKey: "test-key", baseURL: url, timeoutMs: 60_000 });
    const connection = { client, describe: url, secrets: envSecrets(), close: async () => {} };
    const before = { requests: seen.requests, closed: seen.closed };
    const started = observeEarly(head, async () => connection);
    await vi.waitFor(() => expect(seen.requests).toBeGreaterThan(before.requests), { timeout: 20_000 });
    expect(client.middleware).toHaveLength(1);
    const start = Date.now();
    expect(await started.abandon()).toBe(connection);
    await expect(started.observed).rejects.toBeInstanceOf(ObserveAbandoned);
    // Not the 60 s request timeout, nor retries: the abort is immediate (generous bound for a loaded machine).
    expect(Date.now() - start).toBeLessThan(15_000);
    await vi.waitFor(() => expect(seen.closed).toBeGreaterThan(before.closed), { timeout: 20_000 });
    expect(client.middleware).toHaveLength(0);
  });

  it("observes a stack with more requests in flight than an AbortSignal's default listener limit, with no warning", async () => {
    // 12 owned vaults: their credential lists (8 at a time) and the other kinds' lists are more than 10 requests in
    // flight at once, each with a listener on the observe's stop signal while it runs.
    const emulator = await startEmulator({ port: 0 });
    const fleet = await mkdtemp(join(tmpdir(), "reconcile-observe-early-many-"));
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    try {
      await writeFile(join(fleet, "reconcile.yaml"), "stack: many\nsecret_env: [TOKEN]\n");
      await mkdir(join(fleet, "vaults"));
      for (let i = 0; i < 12; i++) {
        await writeFile(
          join(fleet, "vaults", `v${i}.yaml`),
          `apiVersion: reconcile/v1\nkind: Vault\nname: v${i}\ncredentials:\n  - name: c\n    auth: {type: static_bearer, mcp_server_url: "https://mcp${i}.example.com/mcp", token: "\${env:TOKEN}"}\n`,
        );
      }
      const client = createClient({ apiKey: "test-key", baseURL: emulator.url });
      const secrets = envSecrets({ TOKEN: "t" });
      const project = await loadSpecs(fleet);
      const prepared = await preparePlan({ project, client, secrets });
      const applied = await applyPlan(client, prepared.plan, prepared.desired, prepared.live, prepared.ctx);
      expect(applied.failed).toBe(0);
      const head = await loadProjectHead(fleet);
      const connection = { client, describe: emulator.url, secrets, close: async () => {} };
      const live = await observeEarly(head, async () => connection).observed;
      expect([...live.resources.keys()].filter((a) => a.startsWith("credential."))).toHaveLength(12);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.map((w) => w.name)).not.toContain("MaxListenersExceededWarning");
      expect(client.middleware).toHaveLength(0);
    } finally {
      process.off("warning", onWarning);
      await emulator.close();
      await rm(fleet, { recursive: true, force: true });
    }
  }, 60_000);

  it("a spec error stops plan and drift with exit 1 and only the spec error, without waiting for an API that never answers", async () => {
    await write("agents/broken.yaml", "apiVersion: reconcile/v1", "kind: Agent", "name: broken", "model: 42");
    try {
      for (const command of ["plan", "drift"]) {
        const result = await runCli([command, "--dir", dir, "--timeout", "60s"], {
          ANTHROPIC_API_KEY: "test-key",
          ANTHROPIC_BASE_URL: url,
          RECONCILE_OBSERVE_EARLY_MIN_FILES: "0",
        });
        expect(result.code, result.stderr).toBe(1);
        expect(result.stderr).toContain("agents/broken.yaml:4:8");
        expect(result.stderr).not.toMatch(/timed out|no answer|retrying|abandon/i);
        expect(result.stdout).toBe("");
      }
    } finally {
      await rm(join(dir, "agents/broken.yaml"));
    }
  }, 60_000);

  it("spec errors are reported before a missing API key, as before observing early", async () => {
    await write("agents/broken.yaml", "apiVersion: reconcile/v1", "kind: Agent", "name: broken", "model: 42");
    try {
      const result = await runCli(["plan", "--dir", dir], { RECONCILE_OBSERVE_EARLY_MIN_FILES: "0" });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("agents/broken.yaml:4:8");
      expect(result.stderr).not.toContain("ANTHROPIC_API_KEY");
    } finally {
      await rm(join(dir, "agents/broken.yaml"));
    }
  }, 60_000);
});
