import { mkdtemp, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { formatSpecError, loadProject } from "../../src/spec/index.js";
import { errorLines, writeRepo, yaml } from "./helpers.js";

const V1 = "apiVersion: reconcile/v1";
const toolset = (name: string, ...more: string[]) =>
  yaml(V1, "kind: McpToolset", `name: ${name}`, `url: https://${name}.example.com/mcp`, ...more);
const agent = (name: string, ...more: string[]) =>
  yaml(V1, "kind: Agent", `name: ${name}`, "model: claude-haiku-4-5", ...more);

describe("defaults", () => {
  test("are filled in, and every list is sorted by name", async () => {
    const { specs, errors } = await loadProject(
      await writeRepo({
        "toolsets/z.yaml": toolset(
          "zeta",
          "default_permission_policy: always_allow",
          "tools:",
          "  - name: write",
          "    permission_policy: always_ask",
          "  - name: read",
        ),
        "toolsets/a.yaml": toolset("alpha"),
        "agents/b.yaml": agent("beta", "toolsets: [zeta, alpha]"),
        "agents/a.yaml": agent("alpha"),
        "environments/e.yaml": yaml(V1, "kind: Environment", "name: e", "config: {type: self_hosted}"),
        "vaults/v.yaml": yaml(
          V1,
          "kind: Vault",
          "name: v",
          "credentials:",
          "  - name: z",
          `    auth: {type: static_bearer, token: '\${env:Z}', mcp_server_url: 'https://z.example.com/mcp'}`,
          "  - name: a",
          "    auth:",
          "      type: environment_variable",
          "      secret_name: API_KEY",
          `      secret_value: \${env:API_KEY}`,
          "      networking: {type: limited, allowed_hosts: [api.example.com]}",
        ),
      }),
    );
    expect(errors).toEqual([]);
    expect(specs.agents.map((a) => a.name)).toEqual(["alpha", "beta"]);
    expect(specs.agents[0]).toMatchObject({
      description: null,
      system: null,
      model: { id: "claude-haiku-4-5" },
      toolsets: [],
      tools: [],
      skills: [],
      metadata: {},
      protect: false,
    });
    expect(specs.agents[0]).not.toHaveProperty("system_file");
    expect(specs.agents[1]?.toolsets.map((t) => t.name)).toEqual(["zeta", "alpha"]); // spec order
    expect(specs.toolsets).toEqual([
      {
        name: "alpha",
        server_name: "alpha",
        url: "https://alpha.example.com/mcp",
        tools: null,
        default_permission_policy: "always_ask",
        source: { file: "toolsets/a.yaml", line: 1, col: 1 },
      },
      {
        name: "zeta",
        server_name: "zeta",
        url: "https://zeta.example.com/mcp",
        tools: [
          { name: "read", permission_policy: "always_allow" },
          { name: "write", permission_policy: "always_ask" },
        ],
        default_permission_policy: "always_allow",
        source: { file: "toolsets/z.yaml", line: 1, col: 1 },
      },
    ]);
    expect(specs.environments[0]).toMatchObject({ description: null, metadata: {}, protect: false });
    const vault = specs.vaults[0];
    expect(vault?.display_name).toBe("v");
    expect(vault?.credentials.map((c) => [c.name, c.display_name, c.source.line])).toEqual([
      ["a", "a", 7],
      ["z", "z", 5],
    ]);
    expect(vault?.credentials[0]?.auth).toEqual({
      type: "environment_variable",
      secret_name: "API_KEY",
      secret_value: { source: "env", name: "API_KEY" },
      networking: { type: "limited", allowed_hosts: ["api.example.com"] },
    });
  });

  test("an mcp_oauth credential takes its URL from the toolset (an equivalent mcp_server_url agrees) and keeps every secret a reference", async () => {
    const { specs, errors } = await loadProject(
      await writeRepo({
        "t.yaml": toolset("crm"),
        "v.yaml": yaml(
          V1,
          "kind: Vault",
          "name: v",
          "credentials:",
          "  - name: crm",
          "    auth:",
          "      type: mcp_oauth",
          "      toolset: crm",
          "      mcp_server_url: https://CRM.example.com:443/mcp",
          `      access_token: \${env:CRM_ACCESS}`,
          "      expires_at: 2026-06-30T00:00:00Z",
          "      refresh:",
          "        client_id: reconcile",
          `        refresh_token: \${env:CRM_REFRESH}`,
          "        token_endpoint: https://auth.example.com/token",
          `        token_endpoint_auth: {type: client_secret_basic, client_secret: '\${env:CRM_CLIENT_SECRET}'}`,
          "        scope: crm.read",
        ),
      }),
    );
    expect(errors).toEqual([]);
    expect(specs.vaults[0]?.credentials[0]?.auth).toEqual({
      type: "mcp_oauth",
      mcp_server_url: "https://crm.example.com/mcp",
      access_token: { source: "env", name: "CRM_ACCESS" },
      expires_at: "2026-06-30T00:00:00Z",
      refresh: {
        client_id: "reconcile",
        refresh_token: { source: "env", name: "CRM_REFRESH" },
        token_endpoint: "https://auth.example.com/token",
        token_endpoint_auth: {
          type: "client_secret_basic",
          client_secret: { source: "env", name: "CRM_CLIENT_SECRET" },
        },
        scope: "crm.read",
      },
    });
  });
});

describe("references", () => {
  test("an unknown toolset is reported at its list item, with a suggestion when one is close", async () => {
    expect(
      await errorLines({
        "toolsets/export-jobs.yaml": toolset("export-jobs"),
        "agents/a.yaml": agent("a", "toolsets:", "  - export-jobs", "  - export-job", "  - billing"),
      }),
    ).toEqual([
      'agents/a.yaml:7:5: Agent/a: toolsets[1]: unknown McpToolset "export-job" (did you mean "export-jobs"?)',
      'agents/a.yaml:8:5: Agent/a: toolsets[2]: unknown McpToolset "billing"',
    ]);
  });

  test("a reference to an invalid toolset is not reported twice", async () => {
    expect(
      await errorLines({
        "toolsets/t.yaml": yaml(V1, "kind: McpToolset", "name: t", "url: not a url"),
        "agents/a.yaml": agent("a", "toolsets: [t]"),
      }),
    ).toEqual(["toolsets/t.yaml:4:6: McpToolset/t: url: must be an http:// or https:// URL"]);
  });

  test("two toolsets with one server_name on an agent", async () => {
    expect(
      await errorLines({
        "t.yaml": `${toolset("a", "server_name: crm")}---\n${toolset("b", "server_name: crm")}`,
        "agents/x.yaml": agent("x", "toolsets: [a, b]"),
      }),
    ).toEqual([
      'agents/x.yaml:5:15: Agent/x: toolsets[1]: toolsets "a" and "b" both use server_name "crm"; MCP server names must be unique on an agent (set server_name on one of them)',
    ]);
  });

  test("credentials: a toolset whose url disagrees, no server named, an unknown toolset", async () => {
    expect(
      await errorLines({
        "t.yaml": toolset("crm"),
        "v.yaml": yaml(
          V1,
          "kind: Vault",
          "name: v",
          "credentials:",
          "  - name: a",
          "    auth:",
          "      type: static_bearer",
          "      toolset: crm",
          "      mcp_server_url: https://other.example.com/mcp",
          `      token: \${env:A}`,
          "  - name: b",
          `    auth: {type: static_bearer, token: '\${env:B}'}`,
          "  - name: c",
          `    auth: {type: static_bearer, token: '\${env:C}', toolset: crn}`,
        ),
      }),
    ).toEqual([
      'v.yaml:9:23: Vault/v: credentials[0].auth.mcp_server_url: the toolset "crm" has url https://crm.example.com/mcp but mcp_server_url says https://other.example.com/mcp',
      "v.yaml:12:5: Vault/v: credentials[1].auth: name the MCP server this credential is for: set `toolset` (an McpToolset spec name) or `mcp_server_url`",
      'v.yaml:14:61: Vault/v: credentials[2].auth.toolset: unknown McpToolset "crn" (did you mean "crm"?)',
    ]);
  });
});

describe("duplicates", () => {
  test("two specs of one kind with one name: the second is reported, naming the first", async () => {
    expect(
      await errorLines({
        "toolsets/a.yaml": toolset("crm"),
        "toolsets/b.yaml": `# second\n${toolset("crm")}`,
        "agents/crm.yaml": agent("crm"), // another kind may reuse the name
      }),
    ).toEqual([
      'toolsets/b.yaml:4:7: McpToolset/crm: name: another McpToolset is already named "crm" (first defined at toolsets/a.yaml:1:1)',
    ]);
  });

  test("names that must be unique inside a spec", async () => {
    expect(
      await errorLines({
        "v.yaml": yaml(
          V1,
          "kind: Vault",
          "name: v",
          "credentials:",
          "  - name: c",
          `    auth: {type: static_bearer, token: '\${env:A}', mcp_server_url: 'https://a.example.com'}`,
          "  - name: c",
          `    auth: {type: static_bearer, token: '\${env:B}', mcp_server_url: 'https://b.example.com'}`,
        ),
        "t.yaml": toolset("t", "tools:", "  - name: read", "  - name: read"),
        "a.yaml": agent(
          "a",
          "tools:",
          "  - {type: agent_toolset_20260401, configs: [{name: bash}, {name: bash}]}",
          "  - {type: agent_toolset_20260401}",
          "  - {type: custom, name: lookup, description: Looks up, input_schema: {type: object}}",
          "  - {type: custom, name: lookup, description: Looks up, input_schema: {type: object}}",
        ),
      }),
    ).toEqual([
      'a.yaml:6:67: Agent/a: tools[0].configs[1].name: "bash" is configured twice (first at line 6)',
      "a.yaml:7:12: Agent/a: tools[1].type: agent_toolset_20260401 is listed twice (first at line 6): configure every built-in tool in one entry",
      'a.yaml:9:26: Agent/a: tools[3].name: custom tool "lookup" is defined twice (first at line 8)',
      't.yaml:7:11: McpToolset/t: tools[1].name: tool "read" is listed twice (first at line 6)',
      'v.yaml:7:11: Vault/v: credentials[1].name: credential "c" is defined twice in this vault (first at line 5)',
    ]);
  });
});

describe("system_file", () => {
  const spec = (file: string) => agent("a", `system_file: ${file}`);

  test("is read relative to the spec file", async () => {
    const root = await writeRepo({
      "agents/a.yaml": spec("../prompts/a.md"),
      "prompts/a.md": "# Prompt\n\nBe brief.\n",
    });
    const { specs, errors } = await loadProject(root);
    expect(errors).toEqual([]);
    expect(specs.agents[0]).toMatchObject({ system: "# Prompt\n\nBe brief.\n", system_file: "prompts/a.md" });
  });

  test("a missing file is reported at the system_file node", async () => {
    expect(await errorLines({ "agents/a.yaml": spec("prompt.md") })).toEqual([
      'agents/a.yaml:5:14: Agent/a: system_file: "prompt.md" not found (looked for agents/prompt.md)',
    ]);
  });

  test("a path that climbs out of the root is refused", async () => {
    expect(await errorLines({ "agents/a.yaml": spec("../../etc/passwd") })).toEqual([
      'agents/a.yaml:5:14: Agent/a: system_file: "../../etc/passwd" points outside the repository root',
    ]);
  });

  test("an absolute path is refused", async () => {
    const outside = await mkdtemp(path.join(tmpdir(), "reconcile-outside-"));
    await writeFile(path.join(outside, "p.md"), "outside");
    const lines = await errorLines({ "agents/a.yaml": spec(path.join(outside, "p.md")) });
    expect(lines).toEqual([
      `agents/a.yaml:5:14: Agent/a: system_file: "${path.join(outside, "p.md")}" must be a path relative to the spec file, not an absolute path`,
    ]);
  });

  test("a symlink to a file outside the root is refused", async () => {
    const outside = await mkdtemp(path.join(tmpdir(), "reconcile-outside-"));
    await writeFile(path.join(outside, "secret.md"), "not for publishing");
    const root = await writeRepo({ "agents/a.yaml": spec("../prompts/p.md"), "prompts/.keep": "" });
    await symlink(path.join(outside, "secret.md"), path.join(root, "prompts/p.md"));
    const { errors, specs } = await loadProject(root);
    expect(errors.map(formatSpecError)).toEqual([
      'agents/a.yaml:5:14: Agent/a: system_file: "../prompts/p.md" is a symlink to a file outside the repository root',
    ]);
    expect(specs.agents).toEqual([]);
  });
});

describe("environments", () => {
  test("packages under limited networking need allow_package_managers", async () => {
    expect(
      await errorLines({
        "e.yaml": yaml(
          V1,
          "kind: Environment",
          "name: e",
          "config:",
          "  type: cloud",
          "  networking: {type: limited, allowed_hosts: [pypi.example.com]}",
          "  packages:",
          "    pip: [httpx]",
        ),
      }),
    ).toEqual([
      "e.yaml:7:3: Environment/e: config.packages: packages need `networking.allow_package_managers: true` when networking is limited",
    ]);
  });
});

describe("on_prune", () => {
  test("defaults to archive, accepts delete on environments and vaults, and refuses delete with protect", async () => {
    const { specs, errors } = await loadProject(
      await writeRepo({
        "environments/a.yaml": yaml(V1, "kind: Environment", "name: a", "on_prune: delete", "config: {type: cloud}"),
        "environments/b.yaml": yaml(V1, "kind: Environment", "name: b", "config: {type: cloud}"),
        "vaults/v.yaml": yaml(V1, "kind: Vault", "name: v", "on_prune: delete"),
      }),
    );
    expect(errors).toEqual([]);
    expect(specs.environments.map((e) => `${e.name}:${e.on_prune}`)).toEqual(["a:delete", "b:archive"]);
    expect(specs.vaults[0]?.on_prune).toBe("delete");
    expect(
      await errorLines({
        "environments/p.yaml": yaml(
          V1,
          "kind: Environment",
          "name: p",
          "protect: true",
          "on_prune: delete",
          "config: {type: cloud}",
        ),
        "agents/x.yaml": agent("x", "on_prune: delete"),
      }),
    ).toEqual([
      'agents/x.yaml:5:1: Agent/x: unknown field "on_prune" (allowed: apiVersion, kind, name, description, model, system, system_file, toolsets, tools, skills, metadata, protect, previous_names)',
      "environments/p.yaml:5:11: Environment/p: on_prune: cannot be `delete` on a protected resource: protect: true means it is never pruned",
    ]);
  });
});
