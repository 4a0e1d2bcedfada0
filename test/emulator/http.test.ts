import type Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEmulator } from "../../src/emulator/index.js";
import { BETA, expectApiError, raw, sdk, start } from "./helpers.js";

const logLines: string[] = [];
let emu: RunningEmulator;
let client: Anthropic;

beforeAll(async () => {
  emu = await start({ log: (line) => logLines.push(line), pageSizeDefault: 2 });
  client = sdk(emu);
});
afterAll(async () => {
  await emu.close();
});

interface Envelope {
  type: string;
  error: { type: string; message: string; details?: { error_code: string } };
  request_id: string;
}

describe("headers", () => {
  it("no API key → 401 authentication_error in the envelope, with a request-id header", async () => {
    const res = await raw(emu, "GET", "/v1/agents", { headers: { "x-api-key": null } });
    expect(res.status).toBe(401);
    const body = res.json as Envelope;
    expect(body.type).toBe("error");
    expect(body.error.type).toBe("authentication_error");
    expect(body.error.message).toContain("x-api-key");
    expect(res.headers.get("request-id")).toBe(body.request_id);
    const empty = await raw(emu, "GET", "/v1/agents", { headers: { "x-api-key": "  " } });
    expect(empty.status).toBe(401);
  });

  it("accepts Authorization: Bearer (what the SDK sends for apiKey) as well as x-api-key", async () => {
    const bearer = await raw(emu, "GET", "/v1/agents", { headers: { "x-api-key": null, authorization: "Bearer k" } });
    expect(bearer.status).toBe(200);
    const noKey = await raw(emu, "GET", "/v1/agents", { headers: { "x-api-key": null, authorization: "Bearer " } });
    expect(noKey.status).toBe(401);
  });

  it("no managed-agents beta → 400 naming the header to send", async () => {
    for (const beta of [null, "skills-2025-10-02"]) {
      const res = await raw(emu, "GET", "/v1/agents", { headers: { "anthropic-beta": beta } });
      expect(res.status).toBe(400);
      const body = res.json as Envelope;
      expect(body.error.type).toBe("invalid_request_error");
      expect(body.error.message).toContain(`anthropic-beta: ${BETA}`);
    }
    const several = await raw(emu, "GET", "/v1/agents?beta=true", {
      headers: { "anthropic-beta": `skills-2025-10-02,${BETA}` },
    });
    expect(several.status).toBe(200);
    expect(several.json).toEqual({ data: [], next_page: null });
  });

  it("unknown routes and methods → 404 not_found_error", async () => {
    for (const [method, path] of [
      ["GET", "/v1/nothing"],
      ["PATCH", "/v1/agents/agent_011Cx"],
      ["GET", "/v2/agents"],
    ] as const) {
      const res = await raw(emu, method, path, { body: method === "PATCH" ? "{}" : undefined });
      expect(res.status).toBe(404);
      expect((res.json as Envelope).error.type).toBe("not_found_error");
    }
  });
});

describe("bodies", () => {
  it("archive accepts content-type: application/json with an empty body", async () => {
    const a = await client.beta.agents.create({ name: "a", model: "claude-opus-4-6" });
    const res = await raw(emu, "POST", `/v1/agents/${a.id}/archive?beta=true`, {
      headers: { "content-type": "application/json" },
      body: "",
    });
    expect(res.status).toBe(200);
    expect((res.json as { archived_at: string | null }).archived_at).not.toBeNull();
  });

  it("malformed JSON → 400 without quoting the body", async () => {
    const res = await raw(emu, "POST", "/v1/vaults", {
      headers: { "content-type": "application/json" },
      body: '{"display_name": "x", "token": sekrit-canary',
    });
    expect(res.status).toBe(400);
    const body = res.json as Envelope;
    expect(body.error.message).toBe("Request body is not valid JSON");
    expect(JSON.stringify(body)).not.toContain("sekrit");
  });

  it("a body that is not an object → 400", async () => {
    const res = await raw(emu, "POST", "/v1/vaults", { headers: { "content-type": "application/json" }, body: "[1]" });
    expect(res.status).toBe(400);
    expect((res.json as Envelope).error.message).toContain("JSON object");
  });
});

describe("pagination", () => {
  it("limit defaults to pageSizeDefault, accepts 1..100, rejects the rest", async () => {
    const local = sdk(emu, { defaultHeaders: { "anthropic-workspace-id": "wrkspc_pages" } });
    for (let i = 0; i < 5; i++) await local.beta.vaults.create({ display_name: `v${i}` });
    const first = await local.beta.vaults.list();
    expect(first.data).toHaveLength(2);
    expect((await local.beta.vaults.list({ limit: 100 })).data).toHaveLength(5);
    for (const limit of [0, 101, -1]) {
      await expectApiError(local.beta.vaults.list({ limit }), 400, "invalid_request_error", "limit");
    }
    const bad = await raw(emu, "GET", "/v1/vaults?limit=abc", {
      headers: { "anthropic-workspace-id": "wrkspc_pages" },
    });
    expect(bad.status).toBe(400);
  });

  it("an invalid or foreign cursor → 400 naming page", async () => {
    await expectApiError(client.beta.agents.list({ page: "garbage" }), 400, "invalid_request_error", "page");
    const local = sdk(emu, { defaultHeaders: { "anthropic-workspace-id": "wrkspc_cursor" } });
    for (let i = 0; i < 3; i++) await local.beta.environments.create({ name: `e${i}` });
    const envPage = await local.beta.environments.list({ limit: 1 });
    expect(envPage.next_page).toBeTruthy();
    await expectApiError(
      local.beta.agents.list({ page: envPage.next_page ?? "" }),
      400,
      "invalid_request_error",
      "page: Invalid page cursor",
    );
    await expectApiError(
      local.beta.environments.list({ include_archived: "maybe" as never }),
      400,
      "invalid_request_error",
      "include_archived",
    );
  });

  it("a cursor keeps working when items are created between pages", async () => {
    const local = sdk(emu, { defaultHeaders: { "anthropic-workspace-id": "wrkspc_stable" } });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await local.beta.vaults.create({ display_name: `v${i}` })).id);
    const p1 = await local.beta.vaults.list({ limit: 2 });
    await local.beta.vaults.create({ display_name: "late" });
    const p2 = await p1.getNextPage();
    expect([...p1.data, ...p2.data].map((v) => v.id)).toEqual([...ids].reverse());
    expect(p2.next_page).toBeNull();
  });
});

describe("workspaces", () => {
  it("keep separate state per anthropic-workspace-id", async () => {
    const a = sdk(emu, { defaultHeaders: { "anthropic-workspace-id": "wrkspc_a" } });
    const b = sdk(emu, { defaultHeaders: { "anthropic-workspace-id": "wrkspc_b" } });
    const agent = await a.beta.agents.create({ name: "only-in-a", model: "claude-opus-4-6" });
    const viaParam = await client.beta.agents.retrieve(agent.id, { workspace_id: "wrkspc_a" });
    expect(viaParam.name).toBe("only-in-a");
    expect((await b.beta.agents.list()).data).toEqual([]);
    const err = await expectApiError(b.beta.agents.retrieve(agent.id), 404, "not_found_error");
    expect(err.workspaceID).toBe("wrkspc_b");
    await expectApiError(client.beta.agents.retrieve(agent.id), 404, "not_found_error");
    const defaultIds = [];
    for await (const x of client.beta.agents.list({ include_archived: true })) defaultIds.push(x.id);
    expect(defaultIds).not.toContain(agent.id);
  });
});

describe("stats and log", () => {
  it("counts requests per route and logs one line per request", async () => {
    const local = sdk(emu, { defaultHeaders: { "anthropic-workspace-id": "wrkspc_stats" } });
    const a = await local.beta.agents.create({ name: "counted", model: "claude-opus-4-6" });
    emu.resetStats();
    logLines.length = 0;
    await local.beta.agents.list();
    await local.beta.agents.list();
    await local.beta.agents.list();
    await local.beta.agents.retrieve(a.id);
    await raw(emu, "GET", "/v1/unknown");
    const stats = emu.stats();
    expect(stats.requests).toBe(5);
    expect(stats.byRoute).toEqual({
      "GET /v1/agents": 3,
      "GET /v1/agents/:agent_id": 1,
      "GET (unmatched)": 1,
    });
    expect(logLines).toHaveLength(5);
    expect(logLines[3]).toMatch(
      new RegExp(`^req_011C\\w{20} GET /v1/agents/${a.id}(\\?beta=true)? 200 [\\d.]+ms ws=wrkspc_stats$`),
    );
    expect(logLines[4]).toContain(" 404 ");
  });
});
