/**
 * The pieces of export on their own (names, YAML rendering, MCP toolset mapping), and the cases a spec cannot
 * express exactly: API names that are not spec names, a credential without a display name, per-tool settings under
 * an enabled MCP default. Those must be warned about, still validate, and plan only the changes the warnings name.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { envVarName, NameBook, slug } from "../../src/providers/export/naming.js";
import { renderSpec } from "../../src/providers/export/render.js";
import { toolsetBody } from "../../src/providers/export/toolset.js";
import { applyPlan } from "../../src/reconcile/apply.js";
import { type ExportResult, exportSpecs } from "../../src/reconcile/export.js";
import { loadSpecs, preparePlan } from "../../src/reconcile/workflow.js";
import { loadProject } from "../../src/spec/index.js";
import { addAdoptEntry } from "../../src/spec/project-config.js";

describe("names", () => {
  it("slugs API names into spec names", () => {
    expect(slug("Export Support Bot!", "agent")).toBe("export-support-bot");
    expect(slug("  Équipe  données ", "agent")).toBe("equipe-donnees");
    expect(slug("***", "vault")).toBe("vault");
    expect(slug("x".repeat(80), "agent")).toHaveLength(64);
  });

  it("makes names unique with -2, -3, staying within 64 characters", () => {
    const book = new NameBook(["taken"]);
    expect(book.claim("taken")).toBe("taken-2");
    expect(book.claim("taken")).toBe("taken-3");
    expect(book.claim("free")).toBe("free");
    const long = "a".repeat(64);
    expect(book.claim(long)).toBe(long);
    expect(book.claim(long)).toBe(`${"a".repeat(62)}-2`);
  });

  it("derives upper snake case variable names", () => {
    expect(envVarName(["mail", "workspace-mcp", "token"])).toBe("MAIL_WORKSPACE_MCP_TOKEN");
    expect(envVarName(["1password", "x", "secret_value"])).toBe("SECRET_1PASSWORD_X_SECRET_VALUE");
  });
});

describe("YAML rendering", () => {
  const tricky = [
    "line one\nline two\n",
    "no trailing newline\nsecond",
    "two trailing newlines\n\n",
    "  leading spaces\nnext\n",
    "trailing spaces  \nnext\n",
    "tab\tinside\nand # not a comment: really\n",
    "single line",
    "",
  ];

  it("keeps every string exactly, with multi-line strings and system as literal blocks", () => {
    for (const system of tricky) {
      const text = renderSpec("Agent", { apiVersion: "reconcile/v1", kind: "Agent", name: "a", system, model: "m" });
      expect(text.split("\n")[0]).toBe("# yaml-language-server: $schema=../schemas/agent.schema.json");
      expect((parse(text) as { system: string }).system).toBe(system);
    }
    const text = renderSpec("Agent", { apiVersion: "reconcile/v1", kind: "Agent", name: "a", system: tricky[0] });
    expect(text).toContain("system: |\n  line one\n  line two\n");
  });
});

describe("MCP toolset mapping", () => {
  const warnings: string[] = [];
  const warn = (m: string) => warnings.push(m);

  it("turns a disabled default with enabled configs into an allowlist", () => {
    const body = toolsetBody(
      {
        default_config: { enabled: false, permission_policy: { type: "auto" } },
        configs: [
          { name: "b", enabled: true, permission_policy: { type: "always_ask" } },
          { name: "a", enabled: true },
          { name: "c", enabled: false },
        ],
      },
      "x",
      warn,
    );
    expect(body).toEqual({
      tools: [
        { name: "a", permission_policy: "auto" },
        { name: "b", permission_policy: "always_ask" },
      ],
      default_permission_policy: "auto",
    });
    expect(warnings.pop()).toMatch(/disabled tools \(c\)/);
  });

  it("turns an enabled default into 'every tool', warning about per-tool settings it cannot keep", () => {
    expect(toolsetBody({ default_config: { enabled: true } }, "x", warn)).toEqual({
      tools: null,
      default_permission_policy: "always_ask",
    });
    expect(warnings).toEqual([]);
    toolsetBody({ configs: [{ name: "drop_table", enabled: false }] }, "x", warn);
    expect(warnings.pop()).toMatch(/drop_table.*a disabled tool would become allowed/);
  });

  it("leaves out a toolset that allows nothing", () => {
    expect(toolsetBody({ default_config: { enabled: false }, configs: [] }, "x", warn)).toBeNull();
    expect(warnings.pop()).toMatch(/no tool of this MCP server is enabled/);
  });
});

describe("export of what a spec cannot say exactly", () => {
  let emu: RunningEmulator;
  let client: Anthropic;
  let dir: string;
  let result: ExportResult;

  beforeAll(async () => {
    emu = await startEmulator({ port: 0 });
    client = new Anthropic({ apiKey: "k", baseURL: emu.url, maxRetries: 0 });
    await client.beta.agents.create({
      name: "Ops Bot",
      model: { id: "claude-opus-4-6", speed: "fast" },
      mcp_servers: [{ type: "url", name: "Internal DB", url: "https://db.example.com/mcp" }],
      tools: [
        {
          type: "mcp_toolset",
          mcp_server_name: "Internal DB",
          default_config: { enabled: true },
          configs: [{ name: "drop_table", enabled: false }],
        },
        {
          type: "agent_toolset_20260401",
          default_config: { permission_policy: { type: "always_ask" } },
          configs: [{ name: "web_search", allowed_domains: ["docs.example.com"] }],
        },
      ],
    });
    await client.beta.agents.create({ name: "Ops Bot", model: "claude-haiku-4-5", description: "the second one" });
    await client.beta.agents.create({
      name: "billing",
      model: "claude-haiku-4-5",
      metadata: { "managed-by": "reconcile", "reconcile/stack": "other", "reconcile/name": "billing" },
    });
    await client.beta.environments.create({ name: "selfhost", config: { type: "self_hosted" } });
    const vault = await client.beta.vaults.create({ display_name: "Ops" });
    await client.beta.vaults.credentials.create(vault.id, {
      auth: {
        type: "mcp_oauth",
        access_token: "canary-oauth-access-0b7d",
        mcp_server_url: "https://db.example.com/mcp",
        expires_at: "2030-01-01T00:00:00Z",
        refresh: {
          client_id: "cid",
          refresh_token: "canary-oauth-refresh-51ac",
          token_endpoint: "https://auth.example.com/token",
          token_endpoint_auth: { type: "client_secret_post", client_secret: "canary-oauth-client-9e2f" },
          scope: "read",
        },
      },
    });
    dir = await mkdtemp(join(tmpdir(), "reconcile-export-lossy-"));
    await writeFile(join(dir, "reconcile.yaml"), "stack: ops\n");
    result = await exportSpecs({ client, project: await loadSpecs(dir), adopt: addAdoptEntry });
  });

  afterAll(async () => {
    await emu.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("warns about each lossy mapping and skips what another stack owns", () => {
    const text = result.warnings.join("\n");
    expect(text).toMatch(/belongs to stack "other" \(as billing\) and was not exported/);
    // The API name is kept as display_name: no rename to warn about (issue 11 item 5).
    expect(text).not.toMatch(/the agent is named/);
    expect(text).toMatch(/MCP server name "Internal DB" is not a valid spec name/);
    expect(text).toMatch(/drop_table/);
    expect(text).toMatch(/credential\.ops\/db-example-com: the credential has no display_name/);
    expect(result.entries.map((e) => e.address)).not.toContain("agent.billing");
  });

  it("still validates, with secrets of every mcp_oauth field as references", async () => {
    expect((await loadProject(dir)).errors).toEqual([]);
    const vault = parse(await readFile(join(dir, "vaults/ops.yaml"), "utf8")) as { credentials: unknown[] };
    expect(vault.credentials[0]).toEqual({
      name: "db-example-com",
      auth: {
        type: "mcp_oauth",
        toolset: "internal-db",
        access_token: "${env:OPS_DB_EXAMPLE_COM_ACCESS_TOKEN}",
        expires_at: "2030-01-01T00:00:00Z",
        refresh: {
          client_id: "cid",
          refresh_token: "${env:OPS_DB_EXAMPLE_COM_REFRESH_TOKEN}",
          token_endpoint: "https://auth.example.com/token",
          token_endpoint_auth: {
            type: "client_secret_post",
            client_secret: "${env:OPS_DB_EXAMPLE_COM_CLIENT_SECRET}",
          },
          scope: "read",
        },
      },
    });
    expect(JSON.stringify(result)).not.toMatch(/canary-oauth/);
  });

  it("plans only the changes the warnings name when adopting", async () => {
    const secrets = () => "some-value";
    const { plan } = await preparePlan({ project: await loadSpecs(dir), client, secrets });
    const changes = Object.fromEntries(
      plan.actions.filter((a) => a.changes.length > 0).map((a) => [a.address, a.changes.map((c) => c.path).sort()]),
    );
    expect(plan.actions.every((a) => a.action === "adopt")).toBe(true);
    expect(changes).toEqual({
      "agent.ops-bot": [
        "mcp_servers.internal-db",
        'mcp_servers["Internal DB"]',
        'tools["mcp_toolset:Internal DB"]',
        'tools["mcp_toolset:internal-db"]',
      ],
      "credential.ops/db-example-com": ["display_name", "secret"],
    });
  });

  it("skips resources that already have specs by default, and names them", async () => {
    const again = await exportSpecs({ client, project: await loadSpecs(dir), adopt: addAdoptEntry });
    expect(again.files.filter((f) => f.kind !== "McpToolset")).toEqual([]);
    expect(again.adopted).toEqual([]);
    expect(again.warnings.join("\n")).toMatch(/skipped \d+ resources that already have specs \(Agent\/ops-bot, /);
    expect(again.warnings.join("\n")).toContain("--include-existing");
  });

  it("exports again with --include-existing --force to the same files, reusing the toolset it wrote", async () => {
    const project = await loadSpecs(dir);
    const again = await exportSpecs({ client, project, adopt: addAdoptEntry, force: true, includeExisting: true });
    expect(again.files.map((f) => f.file)).toEqual(
      result.files.filter((f) => f.kind !== "McpToolset").map((f) => f.file),
    );
    expect(again.adopted).toEqual(result.adopted);
    expect((await loadProject(dir)).errors).toEqual([]);
  });

  it("converges after the adopting apply: zero changes", async () => {
    const prepared = await preparePlan({ project: await loadSpecs(dir), client, secrets: () => "v" });
    const applied = await applyPlan(client, prepared.plan, prepared.desired, prepared.live, prepared.ctx);
    expect(applied.failed + applied.skipped).toBe(0);
    const after = await preparePlan({ project: await loadSpecs(dir), client, secrets: () => "v" });
    expect(after.plan.actions).toEqual([]);
  });
});
