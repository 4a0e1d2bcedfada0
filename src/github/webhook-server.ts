/**
 * The webhook endpoint of the GitHub App mode (`reconcile github serve`): a fastify server that takes each delivery's
 * raw body, verifies `X-Hub-Signature-256` with `@octokit/webhooks` (HMAC-SHA256, constant-time) before anything
 * else, answers at once, and hands the event to the `Webhooks` handlers in the background.
 *
 * - A missing or wrong signature is 401 and no handler runs (GitHub's docs: verify before processing).
 * - The body is taken as a string (a JSON parser in front of the verification would change the bytes signed, and
 *   makes octokit's middleware hang: ANCHORS.md) and capped (GitHub caps payloads at 25 MB).
 * - GitHub wants a 2xx within 10 s and never retries on its own: the server answers 202 before the work runs.
 * - A redelivered webhook (same `X-GitHub-Delivery`) is answered 200 and not processed twice.
 * - `GET /healthz` answers 200 for load balancers.
 */
import type { Webhooks } from "@octokit/webhooks";
import Fastify, { type FastifyInstance } from "fastify";

/** The path GitHub posts to, octokit's default (`createNodeMiddleware`). */
export const WEBHOOK_PATH = "/api/github/webhooks";

/** Options of `startWebhookServer`. */
export interface WebhookServerOptions {
  /** The handlers, with the App's webhook secret (an `App`'s `app.webhooks`, or `new Webhooks({ secret })`). */
  webhooks: Pick<Webhooks, "verify" | "receive">;
  /** Interface to bind (default 127.0.0.1). */
  host?: string;
  /** Port (default 0: a free one). */
  port?: number;
  /** Largest body accepted, in bytes (default 25 MiB, GitHub's payload cap). */
  bodyLimit?: number;
  /** How many delivery ids are remembered for de-duplication (default 10,000, oldest forgotten first). */
  deliveryMemory?: number;
  /** One line per delivery and per handler failure (JSON text, no payload, no secret). Default: nothing. */
  log?: (line: string) => void;
}

/** A running webhook server. */
export interface WebhookServer {
  /** `http://host:port`. */
  url: string;
  /** Resolves when every accepted delivery's handlers have finished (tests, graceful shutdown). */
  idle(): Promise<void>;
  /** Stops accepting, waits for running handlers, and closes. */
  close(): Promise<void>;
  /** The fastify instance, for more routes (the App adds none today). */
  app: FastifyInstance;
}

const header = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/**
 * Starts the webhook server.
 * @throws the listen error (port in use, permission) as Node reports it
 */
export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const log = options.log ?? (() => {});
  const app = Fastify({ bodyLimit: options.bodyLimit ?? 25 * 1024 * 1024 });
  const seen = new Set<string>();
  const memory = options.deliveryMemory ?? 10_000;
  const running = new Set<Promise<void>>();

  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string" }, (_request, body, done) => done(null, body));

  app.get("/healthz", async () => ({ status: "ok" }));
  app.post(WEBHOOK_PATH, async (request, reply) => {
    const signature = header(request.headers["x-hub-signature-256"]);
    const id = header(request.headers["x-github-delivery"]);
    const name = header(request.headers["x-github-event"]);
    const raw = typeof request.body === "string" ? request.body : "";
    if (!signature) {
      log(JSON.stringify({ delivery: id ?? null, event: name ?? null, outcome: "missing signature" }));
      return reply.code(401).send({ error: "missing X-Hub-Signature-256" });
    }
    let valid = false;
    try {
      valid = await options.webhooks.verify(raw, signature);
    } catch {
      valid = false;
    }
    if (!valid) {
      log(JSON.stringify({ delivery: id ?? null, event: name ?? null, outcome: "bad signature" }));
      return reply.code(401).send({ error: "signature does not match" });
    }
    if (!id || !name) return reply.code(400).send({ error: "missing X-GitHub-Delivery or X-GitHub-Event" });
    if (seen.has(id)) {
      log(JSON.stringify({ delivery: id, event: name, outcome: "duplicate delivery ignored" }));
      return reply.code(200).send({ status: "duplicate delivery ignored" });
    }
    let payload: unknown;
    try {
      payload = JSON.parse(raw);
    } catch {
      return reply.code(400).send({ error: "the body is not JSON" });
    }
    seen.add(id);
    if (seen.size > memory) seen.delete(seen.values().next().value as string);
    const work = options.webhooks
      .receive({ id, name, payload } as Parameters<Webhooks["receive"]>[0])
      .then(
        () => log(JSON.stringify({ delivery: id, event: name, outcome: "handled" })),
        (error: unknown) => {
          const errors = (error as { errors?: unknown[] }).errors ?? [error];
          for (const e of errors) {
            log(JSON.stringify({ delivery: id, event: name, outcome: "handler failed", error: (e as Error).message }));
          }
        },
      )
      .finally(() => running.delete(work));
    running.add(work);
    return reply.code(202).send({ status: "accepted" });
  });

  const url = await app.listen({ host: options.host ?? "127.0.0.1", port: options.port ?? 0 });
  const idle = async () => {
    while (running.size > 0) await Promise.allSettled([...running]);
  };
  return {
    url,
    idle,
    app,
    close: async () => {
      await app.close();
      await idle();
    },
  };
}
