/**
 * The request layer against hostile servers, in process: the base URL rule, a timeout that covers a body that
 * stalls after the headers, a body that never ends, error pages that are not the API's (HTML, control characters,
 * echoed requests), shape checks of objects and pages, and the one retry rule for reads and writes.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import Anthropic, { type APIError } from "@anthropic-ai/sdk";
import { afterEach, describe, expect, it } from "vitest";
import { agentProvider } from "../../src/providers/agent.js";
import {
  checkBaseUrl,
  createClient,
  InsecureBaseUrlError,
  isLoopbackHost,
  listObjects,
  RequestConnectionError,
  RequestTimeoutError,
} from "../../src/providers/client.js";
import { credentialProvider } from "../../src/providers/credential.js";
import { checkShape, MAX_RESPONSE_BYTES, UnexpectedResponseError } from "../../src/providers/response.js";
import { isTransient, retryTransient } from "../../src/providers/retry.js";
import type { DesiredResource } from "../../src/providers/types.js";
import { vaultProvider } from "../../src/providers/vault.js";

const CANARY = "canary-secret-5d2f";
const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

/** A loopback server answering with `handle`; stopped after each test. Counts requests. */
async function serve(handle: (req: IncomingMessage, res: ServerResponse, body: string) => void) {
  let requests = 0;
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      requests++;
      handle(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  stops.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  return { url, requests: () => requests };
}

const fast = { retries: 2, minDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 5 };
const clientFor = (url: string, timeoutMs = 2000) =>
  createClient({ apiKey: "k", baseURL: url, timeoutMs, retry: fast });

describe("base URL", () => {
  it("accepts https anywhere and plain http only to loopback", () => {
    for (const url of [
      "https://api.anthropic.com",
      "https://10.0.0.1:8443/x",
      "http://127.0.0.1:4010",
      "http://127.9.8.7",
      "http://localhost:1",
      "http://LOCALHOST",
      "http://[::1]:4010",
    ]) {
      expect(() => checkBaseUrl(url, "ANTHROPIC_BASE_URL", false), url).not.toThrow();
    }
    for (const url of ["http://api.example.com", "http://10.0.0.1", "http://0.0.0.0:80", "http://128.0.0.1"]) {
      expect(() => checkBaseUrl(url, "ANTHROPIC_BASE_URL", false), url).toThrow(/plain http.*--insecure-base-url/);
      expect(() => checkBaseUrl(url, "ANTHROPIC_BASE_URL", true), url).not.toThrow();
    }
    expect(() => checkBaseUrl("ftp://api.example.com", "x", true)).toThrow(InsecureBaseUrlError);
    expect(() => checkBaseUrl("api.anthropic.com", "target prod's base_url", false)).toThrow(
      "target prod's base_url is not a URL",
    );
  });

  it("never repeats credentials embedded in a refused URL", () => {
    expect(() => checkBaseUrl(`http://user:${CANARY}@api.example.com/v1`, "ANTHROPIC_BASE_URL", false)).toThrow(
      /^ANTHROPIC_BASE_URL \(http:\/\/api\.example\.com\/v1\) is plain http/,
    );
  });

  it("knows the loopback forms", () => {
    expect(isLoopbackHost("127.0.0.1")).toBe(true);
    expect(isLoopbackHost("[::1]")).toBe(true);
    expect(isLoopbackHost("localhost")).toBe(true);
    expect(isLoopbackHost("localhost.example.com")).toBe(false);
    expect(isLoopbackHost("[::2]")).toBe(false);
  });

  it("is checked by createClient before any request", async () => {
    expect(() => createClient({ apiKey: "k", baseURL: "http://example.com" })).toThrow(InsecureBaseUrlError);
  });
});

describe("timeouts and huge bodies", () => {
  it("times out a body that stalls after the headers, naming the request", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"data": [');
      // never finishes
    });
    const client = clientFor(server.url, 300);
    const error = await agentProvider.list(client).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect(String(error)).toContain("GET /v1/agents got no answer within 300ms");
    expect(server.requests()).toBe(3); // retried: a timeout is transient
  });

  it("retries a connection dropped in the middle of the body, and names the request when it keeps happening", async () => {
    const server = await serve((req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": "1000" });
      res.write('{"data": [');
      setImmediate(() => req.socket.destroy());
    });
    const error = await agentProvider.list(clientFor(server.url)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestConnectionError);
    expect(String(error)).toContain("GET /v1/agents: could not reach the API (the connection failed or was dropped)");
    expect(server.requests()).toBe(3);
  });

  it("refuses a body larger than the cap instead of reading it all", async () => {
    const chunk = Buffer.alloc(1024 * 1024, "a");
    const server = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      let sent = 0;
      const pump = () => {
        while (sent <= MAX_RESPONSE_BYTES + chunk.length) {
          sent += chunk.length;
          if (!res.write(chunk)) return res.once("drain", pump);
        }
        res.end();
      };
      pump();
    });
    const error = await agentProvider.retrieve(clientFor(server.url, 20_000), "agent_1").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnexpectedResponseError);
    expect(String(error)).toContain(
      `GET /v1/agents/agent_1: unexpected answer: a body of more than ${MAX_RESPONSE_BYTES} bytes`,
    );
  });
});

describe("error answers that are not the API's", () => {
  it("describes a proxy's HTML error page briefly, without control characters, and retries it", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(502, { "content-type": "text/html" });
      res.end(`<html><title>Bad Gateway\u001b]0;owned\u0007</title>${"x".repeat(100_000)}</html>`);
    });
    const error = (await agentProvider.list(clientFor(server.url)).catch((e: unknown) => e)) as APIError;
    expect(error).toBeInstanceOf(Anthropic.InternalServerError);
    expect(error.status).toBe(502);
    expect(error.apiMessage).toMatch(
      /^GET \/v1\/agents answered 502 \(text\/html\) without an API error message: "<html>/,
    );
    expect(error.apiMessage).not.toMatch(/\p{Cc}/u);
    expect(error.message.length).toBeLessThan(400);
    expect(server.requests()).toBe(3);
  });

  it("keeps the API's own message, bounded and printable, and its status class", async () => {
    const server = await serve((_req, res) => {
      res.writeHead(404, { "content-type": "application/json", "request-id": "req_1" });
      res.end(
        JSON.stringify({
          type: "error",
          error: { type: "not_found_error", message: `no such agent\u001b[31m ${"y".repeat(5000)}` },
        }),
      );
    });
    const error = (await agentProvider.retrieve(clientFor(server.url), "agent_x").catch((e: unknown) => e)) as
      | APIError
      | undefined;
    expect(error).toBeInstanceOf(Anthropic.NotFoundError);
    expect(error?.status).toBe(404);
    expect(error?.type).toBe("not_found_error");
    expect(error?.requestID).toBe("req_1");
    expect(error?.apiMessage?.startsWith("no such agent [31m")).toBe(true);
    expect(error?.apiMessage?.length).toBeLessThanOrEqual(501);
    expect(server.requests()).toBe(1); // a 404 is not retried
  });

  it("never quotes an error body that may echo the secret a credential write sent", async () => {
    const server = await serve((_req, res, body) => {
      res.writeHead(400, { "content-type": "text/plain" });
      res.end(`bad request: ${body}`);
    });
    const desired = {
      type: "credential",
      name: "v/c",
      state: { secret: "fp" },
      spec: {
        vault: "v",
        credential: {
          name: "c",
          display_name: null,
          metadata: {},
          auth: { type: "static_bearer", mcp_server_url: "https://m.example.com", token: { env: "T" } },
        },
      },
    } as unknown as DesiredResource;
    const ctx = { stack: "s", secrets: () => CANARY };
    const error = await credentialProvider
      .create(clientFor(server.url), desired, ctx, {}, "vlt_1")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect(String((error as Error).message)).toContain(
      "POST /v1/vaults/vlt_1/credentials answered 400 (text/plain) without an API error message",
    );
    expect(JSON.stringify(error) + String(error)).not.toContain(CANARY);
  });
});

describe("redirects", () => {
  it("refuses a redirect instead of sending the key and the body to where it points", async () => {
    const elsewhere = await serve((_req, res) => res.end("{}"));
    const redirecting = await serve((_req, res) => {
      res.writeHead(307, { location: `${elsewhere.url}/steal?x=${"z".repeat(500)}` });
      res.end();
    });
    const desired = {
      type: "vault",
      name: "v",
      state: {},
      spec: { name: "v", display_name: "V", metadata: {} },
    } as unknown as DesiredResource;
    const error = await vaultProvider
      .create(clientFor(redirecting.url), desired, { stack: "s", secrets: () => undefined }, {})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnexpectedResponseError);
    expect(String(error)).toContain(
      `POST /v1/vaults: unexpected answer: a redirect (307) to ${elsewhere.url}, which reconcile does not follow`,
    );
    expect(String(error)).not.toContain("zzz");
    expect(elsewhere.requests()).toBe(0);
    expect(redirecting.requests()).toBe(1); // not transient: not retried
  });
});

describe("shape checks", () => {
  const agent = {
    id: "agent_011CAbc",
    version: 2,
    name: "a",
    model: "claude-haiku-4-5",
    metadata: {},
    created_at: "2026-01-01T00:00:00Z",
  };

  it("accepts an agent as the SDK types it, and refuses one without what state() reads", () => {
    expect(checkShape(agent, { kind: "object", type: "agent" }, "GET /v1/agents/x")).toBe(agent);
    const { version: _v, ...noVersion } = agent;
    expect(() => checkShape(noVersion, { kind: "object", type: "agent" }, "GET /v1/agents/x")).toThrow(
      "GET /v1/agents/x: unexpected answer: not an agent: the body: must have required property 'version'",
    );
    expect(() =>
      checkShape({ ...agent, metadata: { k: 1 } }, { kind: "object", type: "agent" }, "GET /v1/agents/x"),
    ).toThrow("at /metadata/k: must be string");
    expect(() => checkShape("<html>", { kind: "ref", type: "vault" }, "POST /v1/vaults")).toThrow("not a vault");
  });

  it("refuses a page that is not a list, holds more than asked, or holds another kind", () => {
    const page = (body: unknown) => () => checkShape(body, { kind: "page", type: "agent", limit: 2 }, "GET /v1/agents");
    expect(page({ data: [agent], next_page: null })()).toEqual({ data: [agent], next_page: null });
    expect(page({ items: [] })).toThrow("not a list page");
    expect(page({ data: [agent, agent, agent] })).toThrow("3 items on a page of at most 2");
    expect(page({ data: [agent, { ...agent, id: "env_011C" }] })).toThrow(
      'item 1 is not an agent: at /id: must match pattern "^agent_',
    );
    expect(page({ data: [], next_page: 7 })).toThrow("at /next_page: must be string,null");
  });
});

describe("paged lists", () => {
  const agentNumber = (n: number) => ({
    id: `agent_011C${String(n).padStart(4, "0")}`,
    version: 1,
    name: `a${n}`,
    model: "claude-haiku-4-5",
    metadata: {},
    created_at: "2026-01-01T00:00:00Z",
  });
  /** Three pages of two agents; `log` records each request as it arrives. */
  const threePages = (log: string[]) =>
    serve((req, res) => {
      const page = Number(new URL(req.url ?? "/", "http://x").searchParams.get("page") ?? "0");
      log.push(`request ${page}`);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          data: [agentNumber(2 * page), agentNumber(2 * page + 1)],
          next_page: page < 2 ? String(page + 1) : null,
        }),
      );
    });

  it("hands each page to onPage after asking for the next one, in order, and keeps none of them", async () => {
    const log: string[] = [];
    const server = await threePages([]);
    const client = clientFor(server.url);
    const objects = await listObjects(
      client,
      "agent",
      "/v1/agents",
      (query, options) => {
        log.push(`ask ${query.page ?? "0"}`);
        return client.beta.agents.list(query, options);
      },
      (page) => log.push(`page ${page.map((o) => o.name).join(",")}`),
    );
    expect(objects).toEqual([]); // they went to onPage only
    expect(log).toEqual(["ask 0", "ask 1", "page a0,a1", "ask 2", "page a2,a3", "page a4,a5"]);
    expect(server.requests()).toBe(3);
    // Without onPage: every object, in order.
    const all = await listObjects(client, "agent", "/v1/agents", (query, options) =>
      client.beta.agents.list(query, options),
    );
    expect(all.map((o) => o.name)).toEqual(["a0", "a1", "a2", "a3", "a4", "a5"]);
  });

  it("stops at an error thrown by onPage, leaving no unhandled rejection behind", async () => {
    const log: string[] = [];
    const server = await threePages(log);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const error = await agentProvider
        .list(clientFor(server.url), undefined, () => {
          throw new Error("caller failed");
        })
        .catch((e: unknown) => e);
      expect((error as Error).message).toBe("caller failed");
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(unhandled).toEqual([]);
      expect(server.requests()).toBe(2); // the first page, and the next one asked for before the error
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});

describe("one retry rule", () => {
  it("retries 408, 429, 5xx and our timeouts; never 409, 404 or an unexpected answer", () => {
    const headers = new Headers();
    expect(isTransient(Anthropic.APIError.generate(429, {}, undefined, headers))).toBe(true);
    expect(isTransient(Anthropic.APIError.generate(503, {}, undefined, headers))).toBe(true);
    expect(isTransient(Anthropic.APIError.generate(408, {}, undefined, headers))).toBe(true);
    expect(isTransient(new RequestTimeoutError("GET /v1/agents", 1000))).toBe(true);
    expect(isTransient(Anthropic.APIError.generate(409, {}, undefined, headers))).toBe(false);
    expect(isTransient(Anthropic.APIError.generate(404, {}, undefined, headers))).toBe(false);
    expect(isTransient(new UnexpectedResponseError("POST /v1/agents", "x"))).toBe(false);
  });

  it("honours retry-after (capped for tests) and stops after the budget", async () => {
    let calls = 0;
    const started = Date.now();
    const rateLimited = Anthropic.APIError.generate(429, {}, undefined, new Headers({ "retry-after": "1" }));
    const error = await retryTransient(
      async () => {
        calls++;
        throw rateLimited;
      },
      { retries: 3, minDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 20 },
    ).catch((e: unknown) => e);
    expect(error).toBe(rateLimited);
    expect(calls).toBe(4);
    expect(Date.now() - started).toBeGreaterThanOrEqual(40); // waited the (capped) retry-after between attempts
  });
});
