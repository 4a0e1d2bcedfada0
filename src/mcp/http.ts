/**
 * The Streamable HTTP transport of the MCP server: `POST/GET/DELETE /mcp` (stateful: one MCP server and transport
 * per MCP session, so the server can send elicitation requests) and `GET /healthz`.
 *
 * Built on Express because the MCP SDK ships its HTTP security pieces for it (`requireBearerAuth` with the
 * `WWW-Authenticate` answers MCP clients expect, `hostHeaderValidation`), and `express-rate-limit` comes with it;
 * fastify would need adapters around the same raw Node request. Layers, in order: Host check (DNS rebinding),
 * Origin check, a per-IP limit, bearer/OIDC auth, a per-subject limit, a JSON body cap, then the transport. An MCP
 * session belongs to the subject that opened it: another subject gets 404 for its id. Refuses to start without
 * auth unless bound to loopback.
 */
import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { requireBearerAuth } from "@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { hostHeaderValidation } from "@modelcontextprotocol/sdk/server/middleware/hostHeaderValidation.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import express, { type NextFunction, type Request, type Response } from "express";
import { ipKeyGenerator, rateLimit } from "express-rate-limit";
import { AuthConfigError, type AuthOptions, tokenVerifier } from "./auth.js";

/** Options of `serveHttp`. */
export interface HttpOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Inbound auth; null serves without auth, which only a loopback host may do. */
  auth: AuthOptions | null;
  /** Host header names accepted besides loopback names and `host` itself (for a server behind a proxy). */
  allowedHosts?: string[];
  /** Origins accepted in an `Origin` header (browser clients); requests without one are accepted. */
  allowedOrigins?: string[];
  /** Largest JSON body, in bytes. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Requests per minute per authenticated subject (and, before auth, 4× that per IP). Default 120. */
  rateLimitPerMinute?: number;
  /** Open MCP sessions at most; more are refused with 503. Default 100. */
  maxSessions?: number;
  /** Open MCP sessions at most per subject (so one client cannot take them all); more get 429. Default 20. */
  maxSessionsPerSubject?: number;
  /** An MCP session unused this long is closed, in milliseconds. Default 30 minutes. */
  sessionIdleMs?: number;
  /** A new MCP server for a new MCP session. */
  createServer: () => McpServer;
  log: (line: string) => void;
}

/** A running HTTP server. */
export interface RunningHttp {
  /** `http://host:port` */
  url: string;
  close(): Promise<void>;
}

/** True for a loopback host name or address. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

function jsonRpcError(res: Response, status: number, message: string): void {
  if (res.headersSent) return;
  res.status(status).json({ jsonrpc: "2.0", error: { code: -32000, message }, id: null });
}

interface OpenSession {
  transport: StreamableHTTPServerTransport;
  server: McpServer;
  subject: string;
  lastSeen: number;
}

/**
 * Starts the HTTP transport.
 * @throws AuthConfigError when there is no auth on a non-loopback host, or the auth settings are unusable
 */
export async function serveHttp(options: HttpOptions): Promise<RunningHttp> {
  if (!options.auth && !isLoopback(options.host)) {
    throw new AuthConfigError(
      `refusing to serve MCP on ${options.host} without authentication: set a bearer token (--token-env, at least 32 characters) or OIDC (--oidc-issuer, --oidc-audience), or bind to 127.0.0.1`,
    );
  }
  const verifier = options.auth ? tokenVerifier(options.auth) : null;
  const perMinute = options.rateLimitPerMinute ?? 120;
  const maxSessions = options.maxSessions ?? 100;
  const maxPerSubject = options.maxSessionsPerSubject ?? 20;
  const idleMs = options.sessionIdleMs ?? 30 * 60_000;
  const sessions = new Map<string, OpenSession>();

  const app = express();
  app.disable("x-powered-by");
  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  const hosts = ["localhost", "127.0.0.1", "[::1]", ...(options.allowedHosts ?? [])];
  if (!["0.0.0.0", "::"].includes(options.host))
    hosts.push(options.host.includes(":") ? `[${options.host}]` : options.host);
  app.use(hostHeaderValidation(hosts));
  const origins = new Set(options.allowedOrigins ?? []);
  app.use((req: Request, res: Response, next: NextFunction) => {
    const origin = req.headers.origin;
    if (origin !== undefined && !origins.has(origin)) return jsonRpcError(res, 403, `Origin ${origin} is not allowed`);
    next();
  });
  const limited = (limit: number, key: (req: Request) => string) =>
    rateLimit({
      windowMs: 60_000,
      limit,
      standardHeaders: "draft-8",
      legacyHeaders: false,
      keyGenerator: key,
      handler: (_req, res) =>
        jsonRpcError(res, 429, "too many requests; slow down and retry after the Retry-After delay"),
    });
  const ipKey = (req: Request) => ipKeyGenerator(req.ip ?? "unknown");
  app.use("/mcp", limited(perMinute * 4, ipKey));
  if (verifier) app.use("/mcp", requireBearerAuth({ verifier }));
  const subjectOf = (req: Request) => req.auth?.clientId ?? "anonymous";
  app.use(
    "/mcp",
    limited(perMinute, (req) => (req.auth ? `sub:${req.auth.clientId}` : ipKey(req))),
  );
  app.use("/mcp", express.json({ limit: options.maxBodyBytes ?? 1024 * 1024 }));

  app.all("/mcp", async (req: Request, res: Response) => {
    const sid = req.headers["mcp-session-id"];
    const subject = subjectOf(req);
    if (typeof sid === "string") {
      const open = sessions.get(sid);
      if (!open || open.subject !== subject) return jsonRpcError(res, 404, "unknown MCP session; initialize a new one");
      open.lastSeen = Date.now();
      await open.transport.handleRequest(req, res, req.body);
      return;
    }
    if (req.method !== "POST" || !isInitializeRequest(req.body)) {
      return jsonRpcError(res, 400, "no MCP session: send an initialize request first");
    }
    if (sessions.size >= maxSessions) return jsonRpcError(res, 503, "too many open MCP sessions; try again later");
    const mine = [...sessions.values()].filter((open) => open.subject === subject).length;
    if (mine >= maxPerSubject) {
      return jsonRpcError(res, 429, `this client has ${mine} open MCP sessions; close one (DELETE /mcp) first`);
    }
    const server = options.createServer();
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, server, subject, lastSeen: Date.now() });
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });

  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const type = (error as { type?: string }).type;
    if (type === "entity.too.large") return jsonRpcError(res, 413, "request body too large");
    if (type === "entity.parse.failed") return jsonRpcError(res, 400, "request body is not valid JSON");
    options.log(`reconcile mcp: HTTP error: ${error instanceof Error ? error.message.slice(0, 300) : "unknown"}\n`);
    jsonRpcError(res, 500, "internal error");
  });

  const http: Server = await new Promise((resolve, reject) => {
    const s = app.listen(options.port, options.host, () => resolve(s));
    s.once("error", reject);
  });
  const reaper = setInterval(
    () => {
      const now = Date.now();
      for (const [id, open] of sessions) {
        if (now - open.lastSeen > idleMs) {
          sessions.delete(id);
          void open.transport.close().catch(() => {});
        }
      }
    },
    Math.min(idleMs, 60_000),
  );
  reaper.unref();
  const address = http.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    async close() {
      clearInterval(reaper);
      for (const open of sessions.values()) await open.transport.close().catch(() => {});
      sessions.clear();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
