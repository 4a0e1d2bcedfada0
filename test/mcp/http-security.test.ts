/**
 * The HTTP transport is safe to expose (issue 8, item 5): it refuses to start without auth off loopback; refuses
 * no token, a short or wrong token, a wrong Host, a foreign Origin, expired / wrongly signed / `alg: none` JWTs;
 * accepts a valid JWT from a local JWKS (served on loopback); caps bodies; rate limits per client; keeps an MCP
 * session to the subject that opened it; and never writes the bearer token to an audit line.
 */
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthConfigError, constantTimeEqual } from "../../src/mcp/auth.js";
import {
  AuditRecorder,
  CANARY,
  call,
  connectHttp,
  type Fixture,
  fleetFixture,
  newClient,
  startHttp,
} from "./helpers.js";

const TOKEN = `tok-${CANARY}-0123456789abcdef`;
const ISSUER = "https://issuer.test.example";
const AUDIENCE = "reconcile-mcp";

let fix: Fixture;
let jwks: Server;
let jwksUrl: string;
type Key = Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];
let privateKey: Key;
let otherKey: Key;
const audit = new AuditRecorder();
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  fix = await fleetFixture();
  const pair = await generateKeyPair("ES256");
  privateKey = pair.privateKey;
  otherKey = (await generateKeyPair("ES256")).privateKey;
  const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "ES256", use: "sig" };
  jwks = createServer((_req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => jwks.listen(0, "127.0.0.1", resolve));
  jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
}, 120_000);

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => {});
  await new Promise((resolve) => jwks?.close(resolve));
  await fix?.close();
  for (const line of audit.lines) expect(line).not.toContain(CANARY);
});

async function jwt(
  options: { key?: Key; exp?: number | string; iss?: string; aud?: string; sub?: string } = {},
): Promise<string> {
  const builder = new SignJWT({ scope: "mcp" })
    .setProtectedHeader({ alg: "ES256", kid: "k1" })
    .setIssuer(options.iss ?? ISSUER)
    .setAudience(options.aud ?? AUDIENCE)
    .setSubject(options.sub ?? "alice@example.com")
    .setIssuedAt();
  builder.setExpirationTime(options.exp ?? "5m");
  return builder.sign(options.key ?? privateKey);
}

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");

const INIT = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
};

async function post(
  url: string,
  headers: Record<string, string> = {},
  body: string = JSON.stringify(INIT),
): Promise<Response> {
  return fetch(`${url}/mcp`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
    body,
  });
}

describe("HTTP with bearer and OIDC auth", () => {
  let url: string;

  beforeAll(async () => {
    const http = await startHttp(fix, audit, {
      auth: { token: TOKEN, oidc: { issuer: ISSUER, audience: AUDIENCE, jwksUrl } },
      rateLimitPerMinute: 1000,
      maxBodyBytes: 64 * 1024,
      allowedOrigins: ["https://claude.example"],
    });
    closers.push(() => http.close());
    url = http.url;
  });

  it("serves /healthz without auth", async () => {
    const res = await fetch(`${url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  it("refuses no token, a wrong token, and a token that is a prefix of the right one", async () => {
    expect((await post(url)).status).toBe(401);
    expect((await post(url, { authorization: `Bearer ${TOKEN}x` })).status).toBe(401);
    expect((await post(url, { authorization: `Bearer ${TOKEN.slice(0, 32)}` })).status).toBe(401);
    expect((await post(url, { authorization: "Basic abc" })).status).toBe(401);
    const res = await post(url);
    expect(res.headers.get("www-authenticate")).toContain("Bearer");
  });

  it("accepts the bearer token, and the MCP SDK client works with it", async () => {
    const client = newClient();
    closers.push(() => client.close());
    await connectHttp(client, url, TOKEN);
    const result = await call(client, "agent_list");
    expect(result.isError).toBe(false);
    const line = audit.records.find((r) => r.tool === "agent_list");
    expect(line?.subject).toBe("bearer");
  });

  it("refuses a wrong Host (DNS rebinding) and a foreign Origin, before auth", async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    // fetch will not let a test set Host; a raw request does.
    const status = await new Promise<number>((resolve, reject) => {
      const { port } = new URL(url);
      const req = request(
        { host: "127.0.0.1", port, path: "/mcp", method: "POST", headers: { ...auth, host: "evil.example:80" } },
        (res) => resolve(res.statusCode ?? 0),
      );
      req.on("error", reject);
      req.end(JSON.stringify(INIT));
    });
    expect(status).toBe(403);
    expect((await post(url, { ...auth, origin: "https://evil.example" })).status).toBe(403);
    expect((await post(url, { ...auth, origin: "https://claude.example" })).status).toBe(200);
  });

  it("refuses expired, wrongly signed, wrong-audience, wrong-issuer, alg:none, HS256 and expiry-less JWTs", async () => {
    const bad = [
      await jwt({ exp: Math.floor(Date.now() / 1000) - 3600 }),
      await jwt({ key: otherKey }),
      await jwt({ aud: "someone-else" }),
      await jwt({ iss: "https://evil.example" }),
      `${b64({ alg: "none", typ: "JWT" })}.${b64({ iss: ISSUER, aud: AUDIENCE, sub: "mallory", exp: Math.floor(Date.now() / 1000) + 600 })}.`,
      // HMAC with a key the attacker knows (the key-confusion trick): not an allowed algorithm.
      await new SignJWT({})
        .setProtectedHeader({ alg: "HS256", kid: "k1" })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setSubject("mallory")
        .setExpirationTime("5m")
        .sign(new TextEncoder().encode("a-secret-the-attacker-knows-0123456789")),
      // No expiry at all.
      await new SignJWT({})
        .setProtectedHeader({ alg: "ES256", kid: "k1" })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setSubject("mallory")
        .sign(privateKey),
    ];
    for (const token of bad) expect((await post(url, { authorization: `Bearer ${token}` })).status).toBe(401);
  });

  it("accepts a valid JWT from the JWKS and audits its subject", async () => {
    const token = await jwt({ sub: "alice@example.com" });
    expect((await post(url, { authorization: `Bearer ${token}` })).status).toBe(200);
    const client = newClient();
    closers.push(() => client.close());
    await connectHttp(client, url, token);
    expect((await call(client, "environment_list")).isError).toBe(false);
    expect(audit.records.find((r) => r.tool === "environment_list")?.subject).toBe("alice@example.com");
  });

  it("keeps an MCP session to the subject that opened it", async () => {
    const res = await post(url, { authorization: `Bearer ${await jwt({ sub: "alice@example.com" })}` });
    const sid = res.headers.get("mcp-session-id") as string;
    expect(sid).toBeTruthy();
    const list = JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list", params: {} });
    const other = await post(
      url,
      {
        authorization: `Bearer ${await jwt({ sub: "mallory@example.com" })}`,
        "mcp-session-id": sid,
        "mcp-protocol-version": "2025-06-18",
      },
      list,
    );
    expect(other.status).toBe(404);
  });

  it("caps the body size", async () => {
    const big = JSON.stringify({ ...INIT, params: { ...INIT.params, pad: "x".repeat(200 * 1024) } });
    const res = await post(url, { authorization: `Bearer ${TOKEN}` }, big);
    expect(res.status).toBe(413);
  });
});

describe("HTTP startup rules and rate limits", () => {
  it("refuses to start without auth off loopback, with a short token, or with a symmetric or none algorithm", async () => {
    await expect(startHttp(fix, audit, { host: "0.0.0.0", auth: null })).rejects.toBeInstanceOf(AuthConfigError);
    await expect(startHttp(fix, audit, { auth: { token: "short-token" } })).rejects.toThrow(/at least 32/);
    for (const alg of ["HS256", "none"]) {
      await expect(
        startHttp(fix, audit, { auth: { oidc: { issuer: ISSUER, audience: AUDIENCE, jwksUrl, algorithms: [alg] } } }),
      ).rejects.toThrow(/not allowed/);
    }
  });

  it("serves loopback without auth, and rate limits each client", async () => {
    const http = await startHttp(fix, audit, { rateLimitPerMinute: 3 });
    closers.push(() => http.close());
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await post(http.url)).status);
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses.slice(3)).toEqual([429, 429]);
  });

  it("caps the open MCP sessions of one client", async () => {
    const http = await startHttp(fix, audit, { maxSessionsPerSubject: 2, maxSessions: 3, rateLimitPerMinute: 1000 });
    closers.push(() => http.close());
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await post(http.url)).status);
    expect(statuses).toEqual([200, 200, 429]);
  });

  it("compares tokens in constant time over their hashes (any length)", () => {
    expect(constantTimeEqual("a".repeat(40), "a".repeat(40))).toBe(true);
    expect(constantTimeEqual("a".repeat(40), "a".repeat(41))).toBe(false);
    expect(constantTimeEqual("", "a".repeat(40))).toBe(false);
  });
});
