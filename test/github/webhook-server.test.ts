/**
 * The App's webhook endpoint, fed real payloads from @octokit/webhooks-examples with real HMAC signatures: unsigned
 * and wrongly signed deliveries are 401 and run no handler; a redelivery is not processed twice; oversize bodies are
 * refused; /healthz answers.
 */
import { Webhooks } from "@octokit/webhooks";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startWebhookServer, WEBHOOK_PATH, type WebhookServer } from "../../src/github/webhook-server.js";
import { deliver, example } from "./webhook-examples.js";

const SECRET = "webhook-secret-0123456789abcdef";
let server: WebhookServer;
let handled: Array<{ id: string; name: string; action: unknown }>;
let logs: string[];

beforeEach(async () => {
  handled = [];
  logs = [];
  const webhooks = new Webhooks({ secret: SECRET });
  webhooks.onAny(({ id, name, payload }) => {
    handled.push({ id, name, action: (payload as { action?: unknown }).action });
  });
  server = await startWebhookServer({ webhooks, bodyLimit: 512 * 1024, log: (l) => logs.push(l) });
});
afterEach(() => server.close());

const url = () => `${server.url}${WEBHOOK_PATH}`;

describe("webhook server", () => {
  it("accepts a signed pull_request delivery and runs the handler once, even when redelivered", async () => {
    const payload = example("pull_request", "opened");
    const first = await deliver(url(), "pull_request", payload, { secret: SECRET, delivery: "d-1" });
    expect(first.status).toBe(202);
    const again = await deliver(url(), "pull_request", payload, { secret: SECRET, delivery: "d-1" });
    expect(again.status).toBe(200);
    await server.idle();
    expect(handled).toEqual([{ id: "d-1", name: "pull_request", action: "opened" }]);
  });

  it("refuses unsigned and wrongly signed deliveries with 401 and runs nothing", async () => {
    const payload = example("push");
    expect((await deliver(url(), "push", payload, { secret: SECRET, delivery: "d-2", signature: null })).status).toBe(
      401,
    );
    expect((await deliver(url(), "push", payload, { secret: "another secret", delivery: "d-3" })).status).toBe(401);
    expect(
      (await deliver(url(), "push", payload, { secret: SECRET, delivery: "d-4", signature: "sha256=00" })).status,
    ).toBe(401);
    const tampered = await deliver(url(), "push", payload, {
      secret: SECRET,
      delivery: "d-5",
      signature: await new Webhooks({ secret: SECRET }).sign(JSON.stringify({ ...payload, ref: "refs/heads/evil" })),
    });
    expect(tampered.status).toBe(401);
    await server.idle();
    expect(handled).toEqual([]);
    // A refused delivery id is not remembered: the genuine delivery with that id is still processed.
    expect((await deliver(url(), "push", payload, { secret: SECRET, delivery: "d-2" })).status).toBe(202);
    await server.idle();
    expect(handled.map((h) => h.id)).toEqual(["d-2"]);
    expect(logs.join("\n")).not.toContain(SECRET);
  });

  it("refuses an oversize body, answers /healthz, and logs handler failures without the payload", async () => {
    const big = { ...example("push"), padding: "x".repeat(600 * 1024) };
    expect((await deliver(url(), "push", big, { secret: SECRET, delivery: "d-6" })).status).toBe(413);
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    await server.close();
    const webhooks = new Webhooks({ secret: SECRET });
    webhooks.on("push", () => {
      throw new Error("planning failed: spec error");
    });
    server = await startWebhookServer({ webhooks, log: (l) => logs.push(l) });
    expect((await deliver(url(), "push", example("push"), { secret: SECRET, delivery: "d-7" })).status).toBe(202);
    await server.idle();
    const failure = logs.map((l) => JSON.parse(l)).find((l) => l.outcome === "handler failed");
    expect(failure).toMatchObject({
      delivery: "d-7",
      event: "push",
      error: expect.stringContaining("planning failed"),
    });
  });
});
