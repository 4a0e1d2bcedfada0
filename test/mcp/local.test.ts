/**
 * `reconcile mcp --local`: the MCP server against the embedded emulator, as the docs suggest for trying a client
 * without credits. Sessions are written to the local state file, so the server holds that file's lock while it runs
 * (ADR 8): a session starts and answers, and a concurrent `apply --local` is refused naming the holder instead of
 * overwriting the server's writes.
 */
import { join } from "node:path";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFleet, REPO, removeDir, runCli } from "../e2e/helpers.js";
import { call, newClient } from "./helpers.js";

let dir: string;
beforeAll(async () => {
  dir = await copyFleet();
  const applied = await runCli(["apply", "--local", "--auto-approve", "--dir", dir]);
  expect(applied.code).toBe(0);
}, 120_000);
afterAll(() => removeDir(dir));

describe("reconcile mcp --local", () => {
  it("starts a session that the scripted agent answers, and keeps apply --local out while it runs", async () => {
    const client = newClient();
    let stderr = "";
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [join(REPO, "bin", "reconcile"), "mcp", "--local", "--dir", dir],
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" },
      stderr: "pipe",
    });
    transport.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    await client.connect(transport);
    try {
      const started = await call(client, "session_start", {
        agent: "export-support",
        environment: "export-sandbox",
        message: "Hello",
      });
      expect(started.isError, started.text).toBe(false);
      const sessionId = started.structured.session_id as string;
      const waited = await call(client, "wait_for_idle", { session_id: sessionId, timeout_seconds: 60 });
      expect(waited.isError, waited.text).toBe(false);
      expect(waited.structured.reply).toBeTruthy();

      const apply = await runCli(["apply", "--local", "--auto-approve", "--dir", dir]);
      expect(apply.code).toBe(1);
      expect(apply.stderr).toMatch(/lock/i);
      expect(apply.stderr).toContain("mcp");
    } finally {
      await client.close();
    }
    expect(stderr).not.toMatch(/\bat .*\.js:\d+/);
  }, 120_000);
});
