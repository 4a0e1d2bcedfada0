/**
 * Hostile or broken servers, end to end: the CLI against small `node:http` servers on loopback that answer a create
 * with an HTML page, answer with the wrong kind of id, never answer, or paginate forever; and a plain-http base URL
 * to a host that is not loopback, refused before any request. Each run must end with a clear error naming the
 * request, within its timeout, with no "✓" and no secret in the output.
 */

import { writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { copyFleet, removeDir, runCli } from "./helpers.js";

// Each test runs the CLI once or twice; give a loaded 2-core machine room.
vi.setConfig({ testTimeout: 90_000 });

const CANARY = "canary-token-7c1e9b0d";

interface Hostile {
  url: string;
  /** `METHOD /path` of every request received (query strings dropped). */
  requests: string[];
  close: () => Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, path: string, body: string) => void;

const servers: Hostile[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

/** A server on a random loopback port; `handle` answers (or not). Stopped after each test. */
async function serve(handle: Handler): Promise<Hostile> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on("end", () => {
      const path = new URL(req.url ?? "/", "http://localhost").pathname;
      requests.push(`${req.method} ${path}`);
      handle(req, res, path, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const hostile: Hostile = {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.push(hostile);
  return hostile;
}

const json = (res: ServerResponse, status: number, value: unknown) => {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(value));
};

/**
 * A real emulator for the apply lock: apply takes its lease (an agent with `reconcile/lock` metadata, ADR 8) before
 * anything else, so the servers below pass the lock's requests on to it and attack only the requests a test names.
 */
let lockApi: RunningEmulator;
const lockAgents = new Set<string>();
beforeAll(async () => {
  lockApi = await startEmulator({ port: 0 });
});
afterAll(() => lockApi.close());

/** True for a request of the apply lock: listing agents, creating the lock agent, or reading/writing it. */
function isLockRequest(req: IncomingMessage, path: string, body: string): boolean {
  if (path === "/v1/agents") return req.method === "GET" || body.includes('"reconcile/lock"');
  return lockAgents.has(path.split("/")[3] ?? "");
}

/** Passes a request to the lock's emulator and its answer back (remembering lock agents it creates). */
async function forwardToLockApi(req: IncomingMessage, res: ServerResponse, path: string, body: string) {
  const headers: Record<string, string> = {};
  for (const name of ["authorization", "x-api-key", "anthropic-beta", "anthropic-version", "content-type"]) {
    const value = req.headers[name];
    if (typeof value === "string") headers[name] = value;
  }
  const answer = await fetch(`${lockApi.url}${req.url ?? path}`, {
    method: req.method ?? "GET",
    headers,
    ...(req.method === "GET" ? {} : { body }),
  });
  const text = await answer.text();
  if (path === "/v1/agents" && req.method === "POST" && answer.ok)
    lockAgents.add((JSON.parse(text) as { id: string }).id);
  res.writeHead(answer.status, {
    "content-type": answer.headers.get("content-type") ?? "application/json",
    date: answer.headers.get("date") ?? new Date().toUTCString(),
  });
  res.end(text);
}

/**
 * An empty list page for every GET (a workspace with nothing in it); `post` answers every POST. The apply lock's
 * requests go to a real emulator.
 */
const emptyWorkspace =
  (post: Handler): Handler =>
  (req, res, path, body) => {
    if (isLockRequest(req, path, body)) return void forwardToLockApi(req, res, path, body);
    if (req.method === "GET") return json(res, 200, { data: [], next_page: null });
    post(req, res, path, body);
  };

let fleet = "";
afterAll(async () => {
  if (fleet) await removeDir(fleet);
});
async function fleetDir(): Promise<string> {
  fleet ||= await copyFleet();
  return fleet;
}

const cliEnv = (url: string) => ({
  ANTHROPIC_API_KEY: "k",
  ANTHROPIC_BASE_URL: url,
  WORKSPACE_MCP_TOKEN: CANARY,
  RECONCILE_TEST_RETRY_DELAY_MS: "5",
});

const output = (r: { stdout: string; stderr: string }) => r.stdout + r.stderr;

describe("a server that answers writes with something that is not the API", () => {
  it("fails a create answered 200 text/html (a captive portal) and says so, with no ✓", async () => {
    const server = await serve(
      emptyWorkspace((_req, res, _path, body) => {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
        // Echoes the request, as some portals and error pages do, with a control sequence for the terminal.
        res.end(`<html><head><title>Sign in to Hotel Wi-Fi\u001b[2J</title></head><body>${body}</body></html>`);
      }),
    );
    const result = await runCli(["apply", "--auto-approve", "--timeout", "5s", "--dir", await fleetDir()], {
      ...cliEnv(server.url),
    });
    expect(result.code).toBe(1);
    expect(output(result)).not.toContain("✓");
    expect(result.stdout).toMatch(
      /POST \/v1\/environments: unexpected answer: 200 text\/html instead of JSON: "<html>/,
    );
    expect(result.stdout).toContain("Sign in to Hotel Wi-Fi");
    expect(output(result)).not.toContain("\u001b[2J");
    expect(output(result)).not.toContain(CANARY);
    expect(result.stdout).toContain("Apply finished with errors: 0 done");
  });

  it("never shows the body of an unexpected answer to a request that carried a secret", async () => {
    const server = await serve(
      emptyWorkspace((_req, res, path, body) => {
        if (path === "/v1/vaults") {
          return json(res, 200, { id: "vlt_011CHostileVault0000001", type: "vault", metadata: {} });
        }
        res.writeHead(200, { "content-type": "text/html" });
        res.end(`<html><body>you sent ${body}</body></html>`);
      }),
    );
    const result = await runCli(["apply", "--auto-approve", "--timeout", "5s", "--dir", await fleetDir()], {
      ...cliEnv(server.url),
    });
    expect(result.code).toBe(1);
    expect(server.requests).toContain("POST /v1/vaults/vlt_011CHostileVault0000001/credentials");
    expect(result.stdout).toMatch(
      /credential\.email-meeting-manager\/workspace-mcp: create failed: POST \/v1\/vaults\/vlt_011CHostileVault0000001\/credentials: unexpected answer: 200 text\/html instead of JSON\./,
    );
    expect(output(result)).not.toContain(CANARY);
  });

  it("fails a create answered with JSON whose id is not of the kind created", async () => {
    const server = await serve(
      emptyWorkspace((_req, res, path) => {
        const id = path === "/v1/vaults" ? "agent_011CWrongKind000000001" : "vlt_011CWrongKind0000000001";
        json(res, 200, { id, version: 1, metadata: {} });
      }),
    );
    const result = await runCli(["apply", "--auto-approve", "--timeout", "5s", "--dir", await fleetDir()], {
      ...cliEnv(server.url),
    });
    expect(result.code).toBe(1);
    expect(output(result)).not.toContain("✓");
    expect(result.stdout).toContain(
      'environment.export-sandbox: create failed: POST /v1/environments: unexpected answer: not an environment: at /id: must match pattern "^env_',
    );
    expect(result.stdout).toContain("vault.email-meeting-manager: create failed: POST /v1/vaults: unexpected answer");
  });

  it("fails the plan when a list answers with HTML instead of treating the workspace as empty", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<html><body>It works!</body></html>");
    });
    const result = await runCli(["plan", "--dir", await fleetDir()], cliEnv(server.url));
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(
      /Error: GET \/v1\/\w+(\?[\w=&]+)?: unexpected answer: 200 text\/html instead of JSON: "<html>/,
    );
    expect(server.requests.every((r) => r.startsWith("GET "))).toBe(true);
  });
});

describe("a server that is not the API answers the apply lock", () => {
  it("fails at once, naming the request, when the lock agent's create or write comes back as something else", async () => {
    // No forwarding here: the lock itself meets the hostile answers (before the fix, apply looped on them forever).
    const server = await serve((req, res) => {
      if (req.method === "GET") return json(res, 200, { data: [], next_page: null });
      json(res, 200, { id: "vlt_011CWrongKind0000000001", version: 1, metadata: {} });
    });
    const started = Date.now();
    const result = await runCli(["apply", "--auto-approve", "--timeout", "5s", "--dir", await fleetDir()], {
      ...cliEnv(server.url),
    });
    expect(result.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(45_000);
    expect(output(result)).not.toContain("✓");
    expect(result.stderr).toMatch(/POST \/v1\/agents: unexpected answer: not an agent/);
    expect(server.requests.filter((r) => r.startsWith("POST")).length).toBeLessThanOrEqual(2);
    expect(server.requests.some((r) => r.includes("/v1/environments") && r.startsWith("POST"))).toBe(false);
  });
});

describe("a server that never answers", () => {
  const silent: Handler = () => {
    // accept the request, answer nothing, keep the connection open
  };

  it("ends plan with an error naming the slow request and the timeout", async () => {
    const server = await serve(silent);
    const started = Date.now();
    const result = await runCli(["plan", "--timeout", "1s", "--dir", await fleetDir()], cliEnv(server.url));
    expect(result.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(45_000);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/Error: GET \/v1\/\w+(\?[\w=&]+)? got no answer within 1s/);
    expect(result.stderr).toMatch(
      /Note: GET \/v1\/\w+(\?[\w=&]+)? got no answer within 1s; retrying \(attempt 2 of 5\)/,
    );
    // Each read was tried 5 times (1 + 4 retries), and no more.
    expect(server.requests.filter((r) => r === "GET /v1/agents").length).toBeLessThanOrEqual(5);
  }, 60_000);

  it("ends apply with an error naming the slow write, with no ✓ and no duplicate", async () => {
    const created = new Set<string>();
    const server = await serve(
      emptyWorkspace((req, res, path, body) => {
        if (path === "/v1/environments") created.add(String(JSON.parse(body).name));
        silent(req, res, path, body);
      }),
    );
    const result = await runCli(
      ["apply", "--auto-approve", "--timeout", "1s", "--dir", await fleetDir()],
      cliEnv(server.url),
    );
    expect(result.code).toBe(1);
    expect(output(result)).not.toContain("✓");
    expect(result.stdout).toMatch(/environment\.\S+: create failed: POST \/v1\/environments got no answer within 1s/);
    // Before each retry of a create, apply looked for it first (a timed-out create may have landed). The fleet's
    // environments are created at once, so their requests interleave: after the first POST, there are never more
    // POSTs than environments plus the lookups made so far, and every environment was retried.
    expect(created.size).toBeGreaterThanOrEqual(2);
    const requests = server.requests.filter((r) => r.includes("/v1/environments"));
    let posts = 0;
    let lookups = 0;
    for (const request of requests.slice(requests.indexOf("POST /v1/environments"))) {
      if (request.startsWith("POST")) posts++;
      else lookups++;
      expect(posts, requests.join("\n")).toBeLessThanOrEqual(created.size + lookups);
    }
    expect(posts).toBeGreaterThan(created.size);
    expect(lookups).toBeGreaterThanOrEqual(posts - created.size);
  }, 60_000);

  it("refuses a --timeout without a unit", async () => {
    const result = await runCli(["plan", "--timeout", "60", "--dir", await fleetDir()], cliEnv("http://127.0.0.1:9"));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("expected a duration with a unit");
  });
});

describe("a server whose pagination never ends", () => {
  it("stops at a cursor that comes back, with a clear error", async () => {
    const server = await serve((_req, res) => json(res, 200, { data: [], next_page: "page_same" }));
    const result = await runCli(["plan", "--timeout", "5s", "--dir", await fleetDir()], cliEnv(server.url));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      // Whichever kind's list fails first (they run at once); skills are listed with `?source=custom`.
      /Error: GET \/v1\/\w+(\?[\w=&]+)?: page 2 pointed back to a page cursor already followed; stopped listing/,
    );
    expect(server.requests.filter((r) => r === "GET /v1/agents").length).toBeLessThanOrEqual(2);
  }, 60_000);

  it("stops at the page cap when every cursor is new (memory stays bounded)", async () => {
    let n = 0;
    const server = await serve((_req, res, path) => {
      n++;
      if (path !== "/v1/agents") return json(res, 200, { data: [], next_page: null });
      const agent = {
        id: `agent_011CLoop${String(n).padStart(12, "0")}`,
        type: "agent",
        version: 1,
        name: `someone-else-${n}`,
        model: { id: "claude-haiku-4-5", speed: "standard" },
        metadata: {},
        created_at: "2026-01-01T00:00:00Z",
        archived_at: null,
      };
      json(res, 200, { data: [agent], next_page: `page_${n}` });
    });
    const result = await runCli(["plan", "--timeout", "5s", "--dir", await fleetDir()], cliEnv(server.url));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Error: GET /v1/agents: more than 500 pages of 100");
    expect(server.requests.filter((r) => r === "GET /v1/agents")).toHaveLength(500);
  }, 120_000);
});

describe("base URL", () => {
  it("refuses plain http to a host that is not loopback before any request, unless --insecure-base-url", async () => {
    const server = await serve(emptyWorkspace((_req, res) => json(res, 500, {})));
    const port = new URL(server.url).port;
    // 0.0.0.0 ("this host"): Linux connects it to this loopback server, but it is not one of the loopback forms
    // (127.0.0.0/8, ::1, localhost) the https rule exempts, so it stands for any other host.
    const mapped = `http://0.0.0.0:${port}`;
    const dir = await fleetDir();
    const refused = await runCli(["plan", "--dir", dir], cliEnv(mapped));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `ANTHROPIC_BASE_URL (http://0.0.0.0:${port}) is plain http to a host that is not loopback`,
    );
    expect(refused.stderr).toContain("--insecure-base-url");
    expect(server.requests).toEqual([]);

    const allowed = await runCli(["plan", "--insecure-base-url", "--dir", dir], cliEnv(mapped));
    expect(allowed.code).toBe(0);
    expect(server.requests.length).toBeGreaterThan(0);
  });

  it("refuses a target's plain-http base_url and names the target", async () => {
    const dir = await copyFleet();
    try {
      await writeFile(
        join(dir, "reconcile.yaml"),
        "stack: example-fleet\nsecret_env: [WORKSPACE_MCP_TOKEN]\ntargets:\n  prod:\n    base_url: http://api.example.com\n",
      );
      const result = await runCli(["plan", "--dir", dir], { ANTHROPIC_API_KEY: "k", WORKSPACE_MCP_TOKEN: CANARY });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("target prod's base_url (http://api.example.com) is plain http");
    } finally {
      await removeDir(dir);
    }
  });
});
