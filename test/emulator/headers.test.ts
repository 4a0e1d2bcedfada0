import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEmulator } from "../../src/emulator/index.js";
import { ROUTES, routeBeta } from "../../src/emulator/routes.js";
import { expectApiError, raw, sdk, start } from "./helpers.js";

/**
 * Headers as the API and the SDK use them: the beta each route requires is the one the SDK sends for that call,
 * `anthropic-workspace-id` must name a configured workspace, and error responses carry `x-should-retry`.
 */

let emu: RunningEmulator;

beforeAll(async () => {
  emu = await start();
});
afterAll(async () => {
  await emu.close();
});

/** The route of `method path` (path without query), by the fastify pattern. */
function routeOf(method: string, path: string) {
  return ROUTES.find((r) => r.method === method && new RegExp(`^${r.url.replace(/:[a-z_]+/g, "[^/]+")}$`).test(path));
}

describe("per-resource beta headers", () => {
  it("every call the SDK makes sends the beta its emulator route requires", async () => {
    const seen: { method: string; path: string; beta: string }[] = [];
    const client = sdk(emu, {
      fetch: async (input: string | URL | Request, init?: RequestInit) => {
        const url = new URL(typeof input === "string" || input instanceof URL ? input : input.url);
        const headers = new Headers(init?.headers);
        seen.push({ method: init?.method ?? "GET", path: url.pathname, beta: headers.get("anthropic-beta") ?? "" });
        return fetch(input, init);
      },
    });
    const agent = await client.beta.agents.create({ name: "beta-a", model: "claude-haiku-4-5" });
    await client.beta.agents.retrieve(agent.id);
    await client.beta.agents.list();
    await client.beta.agents.versions.list(agent.id);
    const updated = await client.beta.agents.update(agent.id, { version: agent.version, description: "d" });
    const env = await client.beta.environments.create({ name: "beta-env" });
    await client.beta.environments.retrieve(env.id);
    await client.beta.environments.update(env.id, { description: "d" });
    await client.beta.environments.list();
    const vault = await client.beta.vaults.create({ display_name: "beta-v" });
    await client.beta.vaults.retrieve(vault.id);
    await client.beta.vaults.update(vault.id, { display_name: "beta-v2" });
    await client.beta.vaults.list();
    const cred = await client.beta.vaults.credentials.create(vault.id, {
      auth: { type: "static_bearer", mcp_server_url: "https://beta.example.com/mcp", token: "canary-beta-token" },
    });
    await client.beta.vaults.credentials.retrieve(cred.id, { vault_id: vault.id });
    await client.beta.vaults.credentials.list(vault.id);
    await client.beta.vaults.credentials.update(cred.id, { vault_id: vault.id, display_name: "c" });
    const session = await client.beta.sessions.create({ agent: agent.id, environment_id: env.id });
    await client.beta.sessions.retrieve(session.id);
    await client.beta.sessions.list();
    await client.beta.sessions.events.list(session.id);
    await client.beta.sessions.archive(session.id);
    await client.beta.vaults.credentials.archive(cred.id, { vault_id: vault.id });
    await client.beta.vaults.credentials.delete(cred.id, { vault_id: vault.id });
    await client.beta.vaults.archive(vault.id);
    await client.beta.vaults.delete(vault.id);
    await client.beta.environments.archive(env.id);
    await client.beta.agents.archive(updated.id);

    const exercised = new Set<string>();
    for (const call of seen) {
      const route = routeOf(call.method, call.path);
      expect(route, `${call.method} ${call.path} has a route`).toBeDefined();
      if (!route) continue;
      exercised.add(`${route.method} ${route.url}`);
      expect(call.beta.split(","), `${call.method} ${call.path}`).toContain(routeBeta(route));
    }
    expect(exercised.size).toBeGreaterThanOrEqual(25);
  });

  it("another resource's beta alone is refused with the one this route needs", async () => {
    const res = await raw(emu, "GET", "/v1/agents", { headers: { "anthropic-beta": "skills-2025-10-02" } });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.json)).toContain("anthropic-beta: managed-agents-2026-04-01");
    const ok = await raw(emu, "GET", "/v1/agents", {
      headers: { "anthropic-beta": "skills-2025-10-02,managed-agents-2026-04-01" },
    });
    expect(ok.status).toBe(200);
  });
});

describe("anthropic-workspace-id", () => {
  it("must name a configured workspace when any is configured", async () => {
    const strict = await start({ workspaces: ["wrkspc_alpha", "wrkspc_beta"] });
    try {
      const alpha = sdk(strict, { defaultHeaders: { "anthropic-workspace-id": "wrkspc_alpha" } });
      await alpha.beta.agents.create({ name: "in-alpha", model: "claude-haiku-4-5" });
      const none = sdk(strict);
      expect((await none.beta.agents.list()).data).toEqual([]);
      const other = sdk(strict, { defaultHeaders: { "anthropic-workspace-id": "wrkspc_gamma" }, maxRetries: 0 });
      await expectApiError(other.beta.agents.list(), 403, "permission_error", "configured: wrkspc_alpha, wrkspc_beta");
    } finally {
      await strict.close();
    }
  });

  it("any id is its own workspace when none is configured", async () => {
    const client = sdk(emu, { defaultHeaders: { "anthropic-workspace-id": "wrkspc_anything" } });
    expect((await client.beta.agents.list()).data).toEqual([]);
  });
});

describe("x-should-retry", () => {
  it("is false on client errors, and the SDK does not repeat a version conflict", async () => {
    const notFound = await raw(emu, "GET", "/v1/agents/agent_missing");
    expect(notFound.status).toBe(404);
    expect(notFound.headers.get("x-should-retry")).toBe("false");
    const client = sdk(emu, { maxRetries: 3 });
    const agent = await client.beta.agents.create({ name: "retry-409", model: "claude-haiku-4-5" });
    emu.resetStats();
    await expectApiError(
      client.beta.agents.update(agent.id, { version: agent.version + 5, description: "x" }),
      409,
      "conflict_error",
    );
    expect(emu.stats().byRoute["POST /v1/agents/:agent_id"]).toBe(1);
  });

  it("is true on injected 429 and 500 responses", async () => {
    const faulty = await start({ faultRate: 1, seed: 7 });
    try {
      const statuses = new Map<number, string | null>();
      for (let i = 0; i < 30 && statuses.size < 2; i++) {
        try {
          const res = await raw(faulty, "GET", "/v1/agents");
          statuses.set(res.status, res.headers.get("x-should-retry"));
        } catch {
          // a dropped connection (the third kind of fault) has no headers
        }
      }
      expect(statuses.get(429)).toBe("true");
      expect(statuses.get(500)).toBe("true");
    } finally {
      await faulty.close();
    }
  });
});
