/**
 * Apply's handling of transient faults, made deterministic by wrapping the SDK's `fetch`: a create whose response is
 * lost after the server committed it is found and not sent again (no duplicate); a 429 is retried after
 * `retry-after`; a 500 on an update is retried; a 409 is never retried.
 */
import { appendFile } from "node:fs/promises";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { envSecrets } from "../../src/providers/secrets.js";
import { applyPlan } from "../../src/reconcile/apply.js";
import { loadSpecs, preparePlan } from "../../src/reconcile/workflow.js";
import { copyFleet, removeDir } from "../e2e/helpers.js";

type Fault = (method: string, path: string) => "drop-after" | Response | undefined;

let emulator: RunningEmulator;
let dir: string;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  dir = await copyFleet();
});

afterAll(async () => {
  await emulator.close();
  await removeDir(dir);
});

/** An SDK client whose requests go through `fault` first; every request is recorded as `METHOD /path`. */
function faultyClient(fault: Fault, log: string[]): Anthropic {
  const faultyFetch: typeof fetch = async (input, init) => {
    const method = init?.method ?? "GET";
    const path = new URL(String(input)).pathname;
    log.push(`${method} ${path}`);
    const injected = fault(method, path);
    if (injected instanceof Response) return injected;
    const response = await fetch(input, init);
    if (injected === "drop-after") throw new TypeError("fetch failed: socket hang up");
    return response;
  };
  return new Anthropic({ apiKey: "k", baseURL: emulator.url, maxRetries: 0, fetch: faultyFetch });
}

const once = (match: (method: string, path: string) => boolean, fault: "drop-after" | (() => Response)): Fault => {
  let fired = false;
  return (method, path) => {
    if (fired || !match(method, path)) return undefined;
    fired = true;
    return fault === "drop-after" ? fault : fault();
  };
};

const errorResponse = (status: number, type: string, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ type: "error", error: { type, message: "injected" } }), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });

async function run(client: Anthropic) {
  const project = await loadSpecs(dir);
  const prepared = await preparePlan({ project, client, secrets: envSecrets({ WORKSPACE_MCP_TOKEN: "t" }) });
  return applyPlan(client, prepared.plan, prepared.desired, prepared.live, prepared.ctx, {
    concurrency: 1,
    retry: { minDelayMs: 1, maxDelayMs: 5 },
  });
}

describe("apply under transient faults", () => {
  it("does not repeat a create whose response was lost after the server committed it", async () => {
    const log: string[] = [];
    const client = faultyClient(
      once((m, p) => m === "POST" && p === "/v1/agents", "drop-after"),
      log,
    );
    const result = await run(client);
    expect(result.failed).toBe(0);
    expect(log.filter((l) => l === "POST /v1/agents")).toHaveLength(3); // three agents, none sent twice
    const first = result.outcomes.find((o) => o.address.startsWith("agent."));
    expect(first).toMatchObject({ status: "done", attempts: 1 });
    const names: string[] = [];
    for await (const agent of client.beta.agents.list()) names.push(agent.name);
    expect(names.sort()).toEqual(["email-meeting-manager", "export-support", "ops-agent"]);
  });

  it("retries a 429 after retry-after and a 500 on an update, and reports a 409 without retrying", async () => {
    const log: string[] = [];
    await appendFile(join(dir, "prompts", "export-support.md"), "\nOne more rule.\n");
    const rateLimited = once(
      (m, p) => m === "POST" && p.startsWith("/v1/agents/agent_"),
      () => errorResponse(429, "rate_limit_error", { "retry-after": "0" }),
    );
    const result = await run(faultyClient(rateLimited, log));
    expect(result.outcomes).toMatchObject([{ address: "agent.export-support", status: "done", attempts: 2 }]);

    await appendFile(join(dir, "prompts", "export-support.md"), "\nAnd another.\n");
    const conflict = (m: string, p: string) =>
      m === "POST" && p.startsWith("/v1/agents/agent_") ? errorResponse(409, "conflict_error") : undefined;
    const refused = await run(faultyClient(conflict, log));
    expect(refused.outcomes).toMatchObject([{ address: "agent.export-support", status: "failed", attempts: 1 }]);
    expect(refused.outcomes[0]?.error).toMatch(/^conflict: /);

    const serverError = once(
      (m, p) => m === "POST" && p.startsWith("/v1/agents/agent_"),
      () => errorResponse(500, "api_error"),
    );
    const recovered = await run(faultyClient(serverError, log));
    expect(recovered.outcomes).toMatchObject([{ address: "agent.export-support", status: "done", attempts: 2 }]);
  });
});
