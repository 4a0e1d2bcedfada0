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
import { createClient } from "../../src/providers/client.js";
import { envSecrets } from "../../src/providers/secrets.js";
import { loadProjectHead } from "../../src/reconcile/workflow.js";
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
