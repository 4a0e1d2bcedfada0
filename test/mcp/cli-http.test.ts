/**
 * `reconcile mcp --http` as a user starts it: the real CLI on a random loopback port, the bearer token read from
 * the variable `--token-env` names, the MCP SDK client connecting with it, and a clean stop on SIGTERM. It refuses
 * to start on a non-loopback host without auth, and with a token shorter than 32 characters.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO, runCli } from "../e2e/helpers.js";
import { call, connectHttp, type Fixture, fleetFixture, newClient } from "./helpers.js";

const TOKEN = "0123456789abcdef0123456789abcdef-cli";

let fix: Fixture;

beforeAll(async () => {
  fix = await fleetFixture();
}, 120_000);

afterAll(async () => {
  await fix?.close();
});

/** Spawns `reconcile mcp --http ...` and resolves with the URL it prints on stderr. */
function serve(
  args: string[],
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(
    process.execPath,
    [join(REPO, "bin", "reconcile"), "mcp", "--http", "--port", "0", "--dir", fix.dir, ...args],
    {
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        RECONCILE_CACHE_DIR: process.env.RECONCILE_CACHE_DIR ?? "",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stderr = "";
  return new Promise((resolve, reject) => {
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
      const match = /at (http:\/\/\S+)\/mcp/.exec(stderr);
      if (match?.[1]) resolve({ child, url: match[1], stderr: () => stderr });
    });
    child.on("exit", (code) => reject(new Error(`exited with ${code}: ${stderr}`)));
  });
}

describe("reconcile mcp --http", () => {
  it("serves with the token from the environment and stops on SIGTERM", async () => {
    const server = await serve(["--token-env", "MY_MCP_TOKEN"], { ...fix.env, MY_MCP_TOKEN: TOKEN });
    const exited = new Promise<number | null>((resolve) => server.child.on("exit", resolve));
    try {
      const unauthorized = await fetch(`${server.url}/mcp`, { method: "POST", body: "{}" });
      expect(unauthorized.status).toBe(401);
      const client = newClient();
      await connectHttp(client, server.url, TOKEN);
      const listed = await call(client, "agent_list");
      expect((listed.structured.agents as unknown[]).length).toBe(3);
      await client.close();
    } finally {
      server.child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
    expect(server.stderr()).not.toContain(TOKEN);
    expect(server.stderr()).toContain('"subject":"bearer"');
  }, 60_000);

  it("refuses to start without auth on a non-loopback host, and with a short token", async () => {
    const open = await runCli(["mcp", "--http", "--host", "0.0.0.0", "--port", "0", "--dir", fix.dir], fix.env);
    expect(open.code).toBe(1);
    expect(open.stderr).toContain("without authentication");
    const short = await runCli(["mcp", "--http", "--port", "0", "--dir", fix.dir], {
      ...fix.env,
      RECONCILE_MCP_TOKEN: "short",
    });
    expect(short.code).toBe(1);
    expect(short.stderr).toContain("at least 32");
    expect(short.stderr).not.toContain("short\n");
  }, 60_000);
});
