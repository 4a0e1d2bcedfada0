import type Anthropic from "@anthropic-ai/sdk";
import type { AgentCreateParams, AgentUpdateParams } from "@anthropic-ai/sdk/resources/beta/agents/agents.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEmulator } from "../../src/emulator/index.js";
import { expectApiError, sdk, start } from "./helpers.js";

let emu: RunningEmulator;
let client: Anthropic;

beforeAll(async () => {
  emu = await start();
  client = sdk(emu);
});
afterAll(async () => {
  await emu.close();
});

/** Deliberately invalid params, typed as what the SDK accepts (the server is what must reject them). */
function invalid<T>(v: unknown): T {
  return v as T;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

function toolset(server: string, extra: Record<string, unknown> = {}) {
  return { type: "mcp_toolset" as const, mcp_server_name: server, ...extra };
}
function server(name: string) {
  return { type: "url" as const, name, url: `https://${name}.example.com/mcp` };
}

describe("create fills the server defaults", () => {
  it("a minimal agent comes back complete", async () => {
    const a = await client.beta.agents.create({ name: "minimal", model: "claude-opus-4-6" });
    expect(a.id).toMatch(/^agent_011C[0-9A-Za-z]{20}$/);
    expect(a.created_at).toMatch(ISO);
    expect(a.updated_at).toBe(a.created_at);
    const { id, created_at, updated_at, ...rest } = a;
    expect(rest).toEqual({
      type: "agent",
      name: "minimal",
      description: null,
      system: null,
      model: { id: "claude-opus-4-6", effort: { type: "high" }, speed: "standard" },
      tools: [],
      mcp_servers: [],
      skills: [],
      metadata: {},
      multiagent: null,
      execution_identity: { type: "service_account" },
      version: 1,
      archived_at: null,
    });
  });

  it("model objects: effort string becomes an object, speed defaults to standard", async () => {
    const a = await client.beta.agents.create({
      name: "model",
      model: { id: "claude-sonnet-4-6", effort: "high", inference_geo: "us" },
    });
    expect(a.model).toEqual({
      id: "claude-sonnet-4-6",
      effort: { type: "high" },
      inference_geo: "us",
      speed: "standard",
    });
    const b = await client.beta.agents.create({ name: "model2", model: { id: "claude-opus-4-6", speed: "fast" } });
    expect(b.model).toEqual({ id: "claude-opus-4-6", effort: { type: "high" }, speed: "fast" });
  });

  it("toolsets get default_config and config defaults; tools, servers and configs come back reversed", async () => {
    const a = await client.beta.agents.create({
      name: "tools",
      model: "claude-opus-4-6",
      mcp_servers: [server("alpha"), server("beta")],
      tools: [
        { type: "agent_toolset_20260401", configs: [{ name: "bash" }, { name: "read", enabled: false }] },
        toolset("alpha", {
          default_config: { enabled: false },
          configs: [{ name: "search" }, { name: "write_doc", permission_policy: { type: "always_allow" } }],
        }),
        toolset("beta"),
        { type: "custom", name: "lookup", description: "Look things up", input_schema: { type: "object" } },
      ],
      skills: [
        { type: "anthropic", skill_id: "xlsx" },
        { type: "custom", skill_id: "skill_01abc", version: "3" },
      ],
    });
    expect(a.mcp_servers.map((s) => s.name)).toEqual(["beta", "alpha"]);
    expect(a.tools).toEqual([
      { type: "custom", name: "lookup", description: "Look things up", input_schema: { type: "object" } },
      {
        type: "mcp_toolset",
        mcp_server_name: "beta",
        default_config: { enabled: true, permission_policy: { type: "always_ask" } },
        configs: [],
      },
      {
        type: "mcp_toolset",
        mcp_server_name: "alpha",
        default_config: { enabled: false, permission_policy: { type: "always_ask" } },
        configs: [
          { name: "write_doc", enabled: false, permission_policy: { type: "always_allow" } },
          { name: "search", enabled: false, permission_policy: { type: "always_ask" } },
        ],
      },
      {
        type: "agent_toolset_20260401",
        default_config: { enabled: true, permission_policy: { type: "always_allow" } },
        configs: [
          { name: "read", type: "read", enabled: false, permission_policy: { type: "always_allow" } },
          { name: "bash", type: "bash", enabled: true, permission_policy: { type: "always_allow" } },
        ],
      },
    ]);
    expect(a.skills).toEqual([
      { type: "anthropic", skill_id: "xlsx", version: "latest" },
      { type: "custom", skill_id: "skill_01abc", version: "3" },
    ]);
  });

  it("web_fetch configs always carry url_sources (null when unset, object form otherwise)", async () => {
    const a = await client.beta.agents.create({
      name: "fetch",
      model: "claude-opus-4-6",
      tools: [
        {
          type: "agent_toolset_20260401",
          configs: [
            { name: "web_fetch", url_sources: { user_input: "none" } },
            { name: "web_search", allowed_domains: ["docs.example.com"] },
          ],
        },
      ],
    });
    const configs = (a.tools[0] as unknown as { configs: Record<string, unknown>[] }).configs;
    expect(configs[1]).toMatchObject({
      name: "web_fetch",
      url_sources: { user_input: { type: "none" }, client_tool_results: null, server_tool_results: null },
    });
    expect(configs[0]).toMatchObject({ name: "web_search", allowed_domains: ["docs.example.com"] });
    expect(configs[0]).not.toHaveProperty("url_sources");
  });

  it("execution_identity and multiagent", async () => {
    const helper = await client.beta.agents.create({ name: "helper", model: "claude-haiku-4-5" });
    const a = await client.beta.agents.create({
      name: "lead",
      model: "claude-opus-4-6",
      execution_identity: { type: "aws_role", role_arn: "arn:aws:iam::123456789012:role/runner" },
      multiagent: { type: "coordinator", agents: [helper.id, { type: "self" }] },
    });
    expect(a.execution_identity).toEqual({ type: "aws_role", role_arn: "arn:aws:iam::123456789012:role/runner" });
    expect(a.multiagent).toEqual({
      type: "coordinator",
      agents: [
        { type: "agent", id: helper.id, version: 1 },
        { type: "agent", id: a.id, version: 1 },
      ],
    });
    const b = await client.beta.agents.create({
      name: "modern",
      model: "claude-opus-4-6",
      multiagent: { type: "multiagent_20261001", workflows: { type: "disabled" } },
    });
    expect(b.multiagent).toEqual({
      type: "multiagent_20261001",
      advisor: { type: "disabled" },
      subagents: { type: "enabled", inline_agents: { type: "enabled" }, predefined_agents: [] },
      workflows: { type: "disabled" },
    });
    await expectApiError(
      client.beta.agents.create({
        name: "nested",
        model: "claude-opus-4-6",
        multiagent: { type: "coordinator", agents: [a.id] },
      }),
      400,
      "invalid_request_error",
      "multiagent.agents.0",
      "depth 1",
    );
  });
});

describe("updates and versions", () => {
  it("omitted fields are kept; null and empty string clear; metadata is a per-key patch", async () => {
    const a = await client.beta.agents.create({
      name: "patchable",
      model: "claude-opus-4-6",
      description: "d",
      system: "s",
      metadata: { team: "core", env: "dev", owner: "x" },
      mcp_servers: [server("alpha")],
      tools: [toolset("alpha")],
    });
    const b = await client.beta.agents.update(a.id, {
      description: null,
      system: "",
      metadata: { env: "prod", owner: null, added: "yes" },
    });
    expect(b.version).toBe(2);
    expect(b.name).toBe("patchable");
    expect(b.description).toBeNull();
    expect(b.system).toBeNull();
    expect(b.metadata).toEqual({ added: "yes", env: "prod", team: "core" });
    expect(b.tools).toEqual(a.tools);
    expect(b.mcp_servers).toEqual(a.mcp_servers);
    const c = await client.beta.agents.update(a.id, { tools: null, mcp_servers: [] });
    expect(c.tools).toEqual([]);
    expect(c.mcp_servers).toEqual([]);
    expect(c.version).toBe(3);
  });

  it("a no-op update writes no version and keeps updated_at", async () => {
    const a = await client.beta.agents.create({
      name: "stable",
      model: { id: "claude-opus-4-6", effort: "low" },
      mcp_servers: [server("alpha"), server("beta")],
      tools: [toolset("alpha", { configs: [{ name: "x" }, { name: "y" }] }), toolset("beta")],
      metadata: { k: "v" },
    });
    // Sending back exactly what the server returned (other order, defaults filled) changes nothing.
    const same = await client.beta.agents.update(a.id, {
      name: a.name,
      model: a.model,
      tools: a.tools as AgentUpdateParams["tools"],
      mcp_servers: a.mcp_servers,
      metadata: { k: "v" },
      description: null,
      version: 1,
    });
    expect(same.version).toBe(1);
    expect(same.updated_at).toBe(a.updated_at);
    // Omitting effort on update keeps it, so sending only the model id is a no-op too.
    const again = await client.beta.agents.update(a.id, { model: { id: "claude-opus-4-6" } });
    expect(again.version).toBe(1);
    expect(again.model).toEqual({ id: "claude-opus-4-6", effort: { type: "low" }, speed: "standard" });
    const versions = [];
    for await (const v of client.beta.agents.versions.list(a.id)) versions.push(v.version);
    expect(versions).toEqual([1]);
  });

  it("a stale version is a 409 and changes nothing", async () => {
    const a = await client.beta.agents.create({ name: "raced", model: "claude-opus-4-6" });
    const b = await client.beta.agents.update(a.id, { version: 1, name: "raced-2" });
    expect(b.version).toBe(2);
    const err = await expectApiError(
      client.beta.agents.update(a.id, { version: 1, name: "raced-3", system: "lost update" }),
      409,
      "conflict_error",
      "version",
      "version 2",
    );
    expect(err.constructor.name).toBe("ConflictError");
    const now = await client.beta.agents.retrieve(a.id);
    expect(now).toEqual(b);
  });

  it("old versions are readable with ?version= and listed newest first", async () => {
    const a = await client.beta.agents.create({ name: "v1", model: "claude-opus-4-6" });
    await client.beta.agents.update(a.id, { name: "v2" });
    await client.beta.agents.update(a.id, { name: "v3", system: "three" });
    await client.beta.agents.update(a.id, { name: "v4" });
    const v2 = await client.beta.agents.retrieve(a.id, { version: 2 });
    expect(v2.name).toBe("v2");
    expect(v2.version).toBe(2);
    expect(v2.system).toBeNull();
    expect((await client.beta.agents.retrieve(a.id, { version: 1 })).name).toBe("v1");
    expect((await client.beta.agents.retrieve(a.id)).version).toBe(4);
    await expectApiError(client.beta.agents.retrieve(a.id, { version: 9 }), 404, "not_found_error", "version 9");

    const page = await client.beta.agents.versions.list(a.id, { limit: 3 });
    expect(page.data.map((v) => v.version)).toEqual([4, 3, 2]);
    expect(page.next_page).not.toBeNull();
    const all = [];
    for await (const v of client.beta.agents.versions.list(a.id, { limit: 3 })) all.push(`${v.version}:${v.name}`);
    expect(all).toEqual(["4:v4", "3:v3", "2:v2", "1:v1"]);
  });

  it("archived agents are read-only, readable, and hidden from lists unless include_archived", async () => {
    const a = await client.beta.agents.create({ name: "to-archive", model: "claude-opus-4-6" });
    const archived = await client.beta.agents.archive(a.id);
    expect(archived.archived_at).toMatch(ISO);
    expect(archived.version).toBe(1);
    await expectApiError(client.beta.agents.update(a.id, { name: "nope" }), 400, "invalid_request_error", "archived");
    expect((await client.beta.agents.retrieve(a.id)).archived_at).toBe(archived.archived_at);
    const visible = [];
    for await (const x of client.beta.agents.list({ limit: 100 })) visible.push(x.id);
    expect(visible).not.toContain(a.id);
    const withArchived = [];
    for await (const x of client.beta.agents.list({ limit: 100, include_archived: true })) withArchived.push(x.id);
    expect(withArchived).toContain(a.id);
    expect(withArchived.length).toBeGreaterThan(visible.length);
  });

  it("unknown agents are 404", async () => {
    await expectApiError(client.beta.agents.retrieve("agent_011Cnope"), 404, "not_found_error", "agent_011Cnope");
    await expectApiError(client.beta.agents.update("agent_011Cnope", { name: "x" }), 404, "not_found_error");
    await expectApiError(client.beta.agents.archive("agent_011Cnope"), 404, "not_found_error");
  });
});

describe("validation: 400 invalid_request_error naming the field", () => {
  const base = { name: "bad", model: "claude-opus-4-6" };
  const servers21 = Array.from({ length: 21 }, (_, i) => server(`s${i}`));
  const cases: [string, unknown, string[]][] = [
    ["missing name", { model: "claude-opus-4-6" }, ["name: Field required"]],
    ["missing model", { name: "x" }, ["model: Field required"]],
    ["name of the wrong type", { ...base, name: 42 }, ["name: Input should be a valid string"]],
    ["unknown top-level field", { ...base, colour: "red" }, ["colour: Extra inputs are not permitted"]],
    [
      "unknown nested field",
      { ...base, tools: [{ type: "agent_toolset_20260401", mode: 1 }] },
      ["tools.0.mode: Extra inputs"],
    ],
    ["tools not an array", { ...base, tools: "bash" }, ["tools: Input should be a valid array"]],
    ["unknown tool type", { ...base, tools: [{ type: "bogus" }] }, ["tools.0.type: Input tag 'bogus'", "mcp_toolset"]],
    [
      "more than 20 mcp_servers",
      { ...base, mcp_servers: servers21, tools: servers21.map((s) => toolset(s.name)) },
      ["mcp_servers: at most 20"],
    ],
    [
      "duplicate mcp_servers name",
      { ...base, mcp_servers: [server("a"), server("a")], tools: [toolset("a")] },
      ["mcp_servers.1.name: duplicate MCP server name 'a'"],
    ],
    [
      "mcp server not referenced by a toolset",
      { ...base, mcp_servers: [server("a"), server("b")], tools: [toolset("a")] },
      ["mcp_servers.1.name", "'b'", "mcp_server_name"],
    ],
    [
      "toolset naming an unknown server",
      { ...base, mcp_servers: [server("a")], tools: [toolset("a"), toolset("ghost")] },
      ["tools.1.mcp_server_name", "'ghost'"],
    ],
    [
      "more than 256 tools",
      {
        ...base,
        mcp_servers: [server("a")],
        tools: [toolset("a", { configs: Array.from({ length: 257 }, (_, i) => ({ name: `t${i}` })) })],
      },
      ["tools: at most 256 tools", "257"],
    ],
    [
      "bad permission policy",
      {
        ...base,
        tools: [{ type: "agent_toolset_20260401", default_config: { permission_policy: { type: "sometimes" } } }],
      },
      ["tools.0.default_config.permission_policy.type"],
    ],
    [
      "unknown agent tool name",
      { ...base, tools: [{ type: "agent_toolset_20260401", configs: [{ name: "teleport" }] }] },
      ["tools.0.configs.0.name: Input should be 'bash'"],
    ],
    [
      "custom tool without input_schema",
      { ...base, tools: [{ type: "custom", name: "t", description: "d" }] },
      ["tools.0.input_schema: Field required"],
    ],
    ["bad model speed", { ...base, model: { id: "claude-opus-4-6", speed: "warp" } }, ["model.speed: Input should be"]],
    ["bad effort", { ...base, model: { id: "claude-opus-4-6", effort: "extreme" } }, ["model.effort"]],
    [
      "bad url",
      { ...base, mcp_servers: [{ type: "url", name: "a", url: "not a url" }], tools: [toolset("a")] },
      ["mcp_servers.0.url"],
    ],
    ["skill without id", { ...base, skills: [{ type: "anthropic" }] }, ["skills.0.skill_id: Field required"]],
  ];
  for (const [what, body, fragments] of cases) {
    it(what, async () => {
      const err = await expectApiError(
        client.beta.agents.create(invalid<AgentCreateParams>(body)),
        400,
        "invalid_request_error",
        ...fragments,
      );
      expect(err.constructor.name).toBe("BadRequestError");
    });
  }

  it("metadata limits carry error_code invalid_metadata", async () => {
    const many = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"]));
    for (const [metadata, fragment] of [
      [many, "at most 16 keys"],
      [{ ["k".repeat(65)]: "v" }, "at most 64 characters"],
      [{ k: "v".repeat(513) }, "at most 512 characters"],
    ] as const) {
      const err = await expectApiError(
        client.beta.agents.create({ ...base, metadata }),
        400,
        "invalid_request_error",
        "metadata",
        fragment,
      );
      expect(err.errorCode).toBe("invalid_metadata");
      expect(err.constructor.name).toBe("BetaInvalidMetadataError");
    }
    const sixteen = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, "v"]));
    const a = await client.beta.agents.create({ ...base, metadata: sixteen });
    expect(Object.keys(a.metadata)).toHaveLength(16);
    // A patch that would leave 17 keys is refused; one that replaces a key is fine.
    const err = await expectApiError(
      client.beta.agents.update(a.id, { metadata: { extra: "x" } }),
      400,
      "invalid_request_error",
    );
    expect(err.errorCode).toBe("invalid_metadata");
    const b = await client.beta.agents.update(a.id, { metadata: { k0: null, extra: "x" } });
    expect(b.metadata).toHaveProperty("extra", "x");
    expect(b.metadata).not.toHaveProperty("k0");
  });

  it("update: name and model cannot be cleared; version must be an integer; updates keep references consistent", async () => {
    const a = await client.beta.agents.create({ ...base, mcp_servers: [server("a")], tools: [toolset("a")] });
    await expectApiError(
      client.beta.agents.update(a.id, invalid({ name: null })),
      400,
      "invalid_request_error",
      "name: cannot be cleared",
    );
    await expectApiError(
      client.beta.agents.update(a.id, { name: "" }),
      400,
      "invalid_request_error",
      "name: cannot be cleared",
    );
    await expectApiError(
      client.beta.agents.update(a.id, invalid({ model: null })),
      400,
      "invalid_request_error",
      "model: cannot be cleared",
    );
    await expectApiError(
      client.beta.agents.update(a.id, invalid({ version: "1" })),
      400,
      "invalid_request_error",
      "version:",
    );
    // Clearing tools but keeping the server leaves it unreferenced.
    await expectApiError(
      client.beta.agents.update(a.id, { tools: [] }),
      400,
      "invalid_request_error",
      "mcp_servers.0.name",
    );
    expect((await client.beta.agents.retrieve(a.id)).version).toBe(1);
  });
});

describe("list", () => {
  it("pages newest first with an opaque cursor, every agent exactly once", async () => {
    const local = sdk(emu, { defaultHeaders: { "anthropic-workspace-id": "wrkspc_listing" } });
    const created: string[] = [];
    for (let i = 0; i < 8; i++)
      created.push((await local.beta.agents.create({ name: `a${i}`, model: "claude-opus-4-6" })).id);
    const first = await local.beta.agents.list({ limit: 3 });
    expect(first.data).toHaveLength(3);
    expect(first.next_page).toMatch(/^page_/);
    const seen: string[] = [];
    for await (const a of local.beta.agents.list({ limit: 3 })) seen.push(a.id);
    expect(seen).toHaveLength(8);
    expect(new Set(seen)).toEqual(new Set(created));
    expect(seen).not.toEqual(created);
    expect(seen).toEqual([...created].reverse());
    let pages = 0;
    let page = await local.beta.agents.list({ limit: 3 });
    for (;;) {
      pages++;
      if (!page.hasNextPage()) break;
      page = await page.getNextPage();
    }
    expect(pages).toBe(3);
    expect(page.next_page).toBeNull();
  });

  it("filters by created_at", async () => {
    const local = sdk(emu, { defaultHeaders: { "anthropic-workspace-id": "wrkspc_times" } });
    const a = await local.beta.agents.create({ name: "early", model: "claude-opus-4-6" });
    await new Promise((r) => setTimeout(r, 5));
    const b = await local.beta.agents.create({ name: "late", model: "claude-opus-4-6" });
    const cut = new Date(Date.parse(b.created_at) - 1).toISOString();
    const later = (await local.beta.agents.list({ "created_at[gte]": cut })).data.map((x) => x.id);
    expect(later).toEqual([b.id]);
    const earlier = (await local.beta.agents.list({ "created_at[lte]": cut })).data.map((x) => x.id);
    expect(earlier).toEqual([a.id]);
    await expectApiError(
      local.beta.agents.list({ "created_at[gte]": "yesterday" }),
      400,
      "invalid_request_error",
      "created_at[gte]",
    );
  });
});
