import { setTimeout as sleep } from "node:timers/promises";
import fastifyMultipart from "@fastify/multipart";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { Clock } from "./clock.js";
import { ApiError, badRequest, errorEnvelope, errorTypeForStatus, notFound } from "./errors.js";
import type { Fault, FaultInjector } from "./faults.js";
import { newId } from "./ids.js";
import { parsePageRequest } from "./pagination.js";
import { ROUTES, routeBeta } from "./routes.js";
import { isRawResponse, SessionRuntime } from "./session-runtime.js";
import { MAX_SKILL_BYTES, MAX_SKILL_FILES, type MultipartBody } from "./skills.js";
import type { Store } from "./store.js";

export { MANAGED_AGENTS_BETA } from "./routes.js";

/**
 * `x-should-retry` of an error response: `true` for what is transient (408, 429, 5xx), `false` for everything else,
 * so the SDK's retry decision (`client.js#shouldRetry`, which obeys this header before its own status rule) is the
 * server's. The Anthropic API sends the header on its error responses; without it the SDK would retry a 409 (its
 * fallback rule retries 408, 409, 429 and 5xx), and a version conflict is not transient.
 */
export function shouldRetryHeader(status: number): "true" | "false" {
  return status === 408 || status === 429 || status >= 500 ? "true" : "false";
}

/** Request counters: total and per route (`"GET /v1/agents/:agent_id"`; unknown routes as `"GET (unmatched)"`). */
export class Stats {
  private requests = 0;
  private byRoute = new Map<string, number>();

  /** Counts one request for `route`. */
  record(route: string): void {
    this.requests++;
    this.byRoute.set(route, (this.byRoute.get(route) ?? 0) + 1);
  }

  /** A copy of the counters. */
  snapshot(): { requests: number; byRoute: Record<string, number> } {
    return { requests: this.requests, byRoute: Object.fromEntries(this.byRoute) };
  }

  /** Sets every counter back to zero. */
  reset(): void {
    this.requests = 0;
    this.byRoute.clear();
  }
}

/** Everything the HTTP layer needs. */
export interface ServerConfig {
  store: Store;
  stats: Stats;
  /** Default `limit` of list endpoints. */
  pageSizeDefault: number;
  /** Delay added to every request, in milliseconds. */
  latencyMs: number;
  /** Fault injection, or null for none. */
  faults: FaultInjector | null;
  /** Receives one line per request (method, path, status, duration, workspace, request id); never bodies. */
  log?: (line: string) => void;
  /** Delay before each event of the scripted session agent, in milliseconds; default 20. */
  sessionStepMs?: number;
  /** Interval of `ping` messages on open session event streams, in milliseconds; default 15000. */
  heartbeatMs?: number;
  /**
   * The workspaces `anthropic-workspace-id` may name (besides none, the default workspace); empty or absent: any id
   * is accepted and gets its own workspace on first use.
   */
  workspaces?: readonly string[];
}

interface RequestState {
  start: number;
  workspace: string;
  fault: Fault | null;
  logged: boolean;
}

/**
 * True when the request carries a non-empty API key: `x-api-key`, or `Authorization: Bearer <key>` (SDK 1.11 sends
 * its `apiKey` that way, `client.js#apiKeyAuth`). The key's value is never checked or logged.
 */
function hasCredential(req: FastifyRequest): boolean {
  const key = req.headers["x-api-key"];
  if (typeof key === "string" && key.trim() !== "") return true;
  const auth = req.headers.authorization;
  return typeof auth === "string" && /^Bearer\s+\S/i.test(auth);
}

function sendError(req: FastifyRequest, reply: FastifyReply, err: ApiError): FastifyReply {
  return reply
    .code(err.status)
    .header("request-id", req.id)
    .header("x-should-retry", shouldRetryHeader(err.status))
    .headers(err.headers)
    .type("application/json")
    .send(errorEnvelope(err, req.id));
}

/**
 * The envelope error for anything thrown during a request. `ApiError`s pass through; framework errors keep their
 * 4xx status with a fixed message (their own messages can quote the request body, which may hold a secret); any
 * other error is a 500 `api_error`.
 */
function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const e = err as { statusCode?: number; code?: string };
  const status = typeof e.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500 ? e.statusCode : 500;
  if (status === 500) return new ApiError(500, "api_error", "Internal server error");
  const messages: Record<string, string> = {
    FST_ERR_CTP_INVALID_JSON_BODY: "Request body is not valid JSON",
    FST_ERR_CTP_BODY_TOO_LARGE: "Request body is too large",
    FST_ERR_CTP_INVALID_MEDIA_TYPE: "Unsupported content type; send a JSON body with content-type: application/json",
    FST_ERR_CTP_INVALID_CONTENT_LENGTH: "Request body length does not match its content-length header",
    FST_REQ_FILE_TOO_LARGE: `An uploaded file is too large (at most ${MAX_SKILL_BYTES} bytes)`,
    FST_FILES_LIMIT: `Too many files in one upload (at most ${MAX_SKILL_FILES})`,
    FST_PARTS_LIMIT: "Too many parts in one multipart body",
    FST_FIELDS_LIMIT: "Too many fields in one multipart body",
    FST_PROTO_VIOLATION: "A multipart field name is not allowed",
    FST_MP_PREMATURE_CLOSE: "The request was closed before its multipart body was complete",
  };
  const message =
    messages[e.code ?? ""] ??
    (err instanceof SyntaxError ? "Request body is not valid JSON" : `Invalid request (${status})`);
  return new ApiError(status, errorTypeForStatus(status), message);
}

/**
 * Reads a `multipart/form-data` request whole (`@fastify/multipart`, busboy underneath, file names kept with their
 * paths) into a `MultipartBody`. Limits: `MAX_SKILL_BYTES` per file, `MAX_SKILL_FILES` files, 16 text fields of at
 * most 1 KiB; past one, the plugin's error (a 413) ends the request.
 */
async function readMultipart(req: FastifyRequest): Promise<MultipartBody> {
  const body: MultipartBody = { multipart: true, fields: {}, files: [] };
  for await (const part of req.parts()) {
    if (part.type === "file") {
      body.files.push({ field: part.fieldname, filename: part.filename, data: await part.toBuffer() });
    } else {
      const values = Object.hasOwn(body.fields, part.fieldname) ? (body.fields[part.fieldname] as string[]) : [];
      values.push(String(part.value));
      body.fields[part.fieldname] = values;
    }
  }
  return body;
}

/**
 * Builds the fastify app that serves the Managed Agents API (routes in `routes.ts`).
 *
 * Every request: gets a `req_…` id (`request-id` header, also in error envelopes); is counted in `stats`; is
 * answered (or reset) `latencyMs` after it arrived, the emulator's own work included, not added; needs a non-empty
 * `x-api-key` or `Authorization: Bearer` key (else 401 `authentication_error`) and
 * `anthropic-beta` containing the beta of its route (`RouteSpec.beta`, else 400); is routed to the workspace named by
 * `anthropic-workspace-id` (echoed back; 403 when workspaces are configured and it names none of them) or the
 * default one; may be hit by an injected fault. Every error response carries `x-should-retry` (`shouldRetryHeader`). `?beta=true` is
 * accepted and ignored. A JSON content type
 * with an empty body (the SDK's archive calls) parses as no body. Mutations are persisted before the response.
 */
export function buildServer(config: ServerConfig): FastifyInstance {
  const clock = new Clock();
  const known = new Set(config.workspaces ?? []);
  const betaOf = new Map(ROUTES.map((r) => [`${r.method} ${r.url}`, routeBeta(r)]));
  const states = new WeakMap<FastifyRequest, RequestState>();
  const app = Fastify({ logger: false, forceCloseConnections: true, genReqId: () => newId("req") });
  app.register(fastifyMultipart, {
    preservePath: true,
    limits: {
      fileSize: MAX_SKILL_BYTES,
      files: MAX_SKILL_FILES,
      fields: 16,
      fieldSize: 1024,
      parts: MAX_SKILL_FILES + 16,
    },
  });
  const runtime = new SessionRuntime({
    store: config.store,
    now: () => clock.now(),
    stepMs: config.sessionStepMs ?? 20,
    heartbeatMs: config.heartbeatMs ?? 15_000,
    log: config.log,
  });
  app.addHook("onReady", async () => runtime.resume());
  app.addHook("preClose", async () => runtime.stop());

  /** Waits until `latencyMs` has passed since the request arrived (at once when it has, or with no latency). */
  const responseTime = async (state: RequestState) => {
    const left = config.latencyMs - (performance.now() - state.start);
    if (left > 0) await sleep(left);
  };

  const logLine = (req: FastifyRequest, outcome: string) => {
    const state = states.get(req);
    if (!config.log || !state || state.logged) return;
    state.logged = true;
    const ms = (performance.now() - state.start).toFixed(1);
    config.log(`${req.id} ${req.method} ${req.url} ${outcome} ${ms}ms ws=${state.workspace || "default"}`);
  };

  const defaultJson = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (req, body, done) => {
    const text = typeof body === "string" ? body : body.toString("utf8");
    if (text.trim() === "") return done(null, undefined);
    defaultJson(req, text, done);
  });

  app.addHook("onRequest", async (req, reply) => {
    const state: RequestState = { start: performance.now(), workspace: "", fault: null, logged: false };
    states.set(req, state);
    config.stats.record(`${req.method} ${req.routeOptions.url ?? "(unmatched)"}`);
    reply.header("request-id", req.id);

    if (!hasCredential(req)) {
      throw new ApiError(
        401,
        "authentication_error",
        "x-api-key header is required (or an 'Authorization: Bearer <key>' header, which is what the SDK sends)",
      );
    }
    const required = betaOf.get(`${req.method} ${req.routeOptions.url ?? ""}`);
    const beta = req.headers["anthropic-beta"];
    const betas = (Array.isArray(beta) ? beta.join(",") : (beta ?? "")).split(",").map((b) => b.trim());
    if (required !== undefined && !betas.includes(required)) {
      throw badRequest(
        `This endpoint is in beta: send the header 'anthropic-beta: ${required}' (the SDK adds it automatically)`,
      );
    }
    const workspace = req.headers["anthropic-workspace-id"];
    if (typeof workspace === "string" && workspace !== "") {
      if (known.size > 0 && !known.has(workspace)) {
        // Status: the API's 403 permission_error for a workspace the key cannot use (docs/api-notes.md "Errors").
        throw new ApiError(
          403,
          "permission_error",
          `anthropic-workspace-id names no workspace of this emulator; configured: ${[...known].join(", ")} (start it with --workspace ID for each one you use)`,
        );
      }
      state.workspace = workspace;
      reply.header("anthropic-workspace-id", workspace);
    }

    const fault = config.faults?.next(req.method) ?? null;
    state.fault = fault;
    if (fault?.kind === "rate_limit") {
      throw new ApiError(
        429,
        "rate_limit_error",
        "Number of requests has exceeded your rate limit (injected fault)",
        undefined,
        {
          "retry-after": String(fault.retryAfterSeconds),
        },
      );
    }
    if (fault?.kind === "server_error") throw new ApiError(500, "api_error", "Internal server error (injected fault)");
    if (fault?.kind === "reset" && !fault.afterCommit) {
      await responseTime(state);
      reply.hijack();
      logLine(req, "connection reset (injected fault, nothing applied)");
      req.raw.socket.destroy();
    }
  });

  // Every answer (errors too) leaves `latencyMs` after its request arrived, the emulator's own work included.
  app.addHook("onSend", async (req) => {
    const state = states.get(req);
    if (state) await responseTime(state);
  });

  app.addHook("onResponse", async (req, reply) => {
    logLine(req, String(reply.statusCode));
  });

  app.setErrorHandler((err, req, reply) => sendError(req, reply, toApiError(err)));
  app.setNotFoundHandler((req, reply) =>
    sendError(req, reply, notFound(`Not found: no route for ${req.method} ${req.url.split("?")[0]}`)),
  );

  for (const route of ROUTES) {
    app.route({
      method: route.method,
      url: route.url,
      handler: async (req, reply) => {
        const state = states.get(req);
        const query = (req.query ?? {}) as Record<string, unknown>;
        let body: unknown = req.body;
        if (route.multipart) {
          if (!req.isMultipart()) {
            throw badRequest("This endpoint takes multipart/form-data: send each file as a `files[]` part");
          }
          body = await readMultipart(req);
        } else if (req.isMultipart()) {
          throw badRequest("Unsupported content type; send a JSON body with content-type: application/json");
        }
        const result = route.handler({
          ws: config.store.workspace(state?.workspace ?? ""),
          params: req.params as Record<string, string>,
          query,
          body,
          now: clock.now(),
          page: (maxLimit) => parsePageRequest(query, config.pageSizeDefault, maxLimit),
          clock: () => clock.now(),
          runtime,
        });
        if (route.method !== "GET" && route.readOnly !== true) config.store.persist();
        // A hijacked reply skips onSend: the latency is waited here (a reset, a stream).
        if (state && (state.fault?.kind === "reset" || isRawResponse(result))) await responseTime(state);
        if (state?.fault?.kind === "reset") {
          reply.hijack();
          logLine(req, "connection reset (injected fault, after the request was applied)");
          req.raw.socket.destroy();
          return;
        }
        if (isRawResponse(result)) {
          reply.hijack();
          logLine(req, "200 (stream opened)");
          result.write(req.raw, reply.raw, reply.getHeaders());
          return;
        }
        return result;
      },
    });
  }
  return app;
}
