import { describe, expect, test } from "vitest";
import { loadProject } from "../../src/spec/index.js";
import { errorLines, writeRepo, yaml } from "./helpers.js";

const V1 = "apiVersion: reconcile/v1";

describe("kind", () => {
  test("an unknown kind names the kinds we know, with a suggestion", async () => {
    expect(await errorLines({ "a.yaml": yaml(V1, "kind: Agnet", "name: a", "model: m") })).toEqual([
      'a.yaml:2:7: unknown kind "Agnet"; expected one of Agent, Deployment, Environment, McpToolset, MemoryStore, Skill, Tunnel, Vault (did you mean "Agent"?)',
    ]);
  });

  test("a missing kind is an error at the document", async () => {
    expect(await errorLines({ "a.yaml": yaml("# x", V1, "name: a") })).toEqual([
      'a.yaml:2:1: missing required field "kind" (one of Agent, Deployment, Environment, McpToolset, MemoryStore, Skill, Tunnel, Vault)',
    ]);
  });
});

describe("schema errors, located and worded for people", () => {
  test("a wrong type names what was expected and what was found, without the value", async () => {
    expect(
      await errorLines({
        "agents/a.yaml": yaml(V1, "kind: Agent", "name: a", "model: [claude-haiku-4-5]", "protect: yes"),
      }),
    ).toEqual([
      "agents/a.yaml:4:8: Agent/a: model: must be a string or a mapping, got a list",
      "agents/a.yaml:5:10: Agent/a: protect: must be true or false, got a string",
    ]);
  });

  test("a number where a string is expected suggests quoting it", async () => {
    expect(
      await errorLines({
        "e.yaml": yaml(V1, "kind: Environment", "name: e", "config: {type: cloud}", "metadata:", "  cost-center: 4711"),
      }),
    ).toEqual(["e.yaml:6:16: Environment/e: metadata.cost-center: must be a string, got a number (put it in quotes)"]);
  });

  test("a missing required field is named, at the object that lacks it", async () => {
    expect(
      await errorLines({
        "agents/a.yaml": yaml(
          "# yaml-language-server: $schema=../schemas/agent.schema.json",
          V1,
          "kind: Agent",
          "name: a",
        ),
        "vaults/v.yaml": yaml(
          V1,
          "kind: Vault",
          "name: v",
          "credentials:",
          "  - name: c",
          "    auth:",
          "      type: environment_variable",
          "      secret_name: API_KEY",
          `      secret_value: \${env:API_KEY}`,
        ),
      }),
    ).toEqual([
      'agents/a.yaml:2:1: Agent/a: missing required field "model"',
      'vaults/v.yaml:6:5: Vault/v: credentials[0].auth: missing required field "networking"',
    ]);
  });

  test("an unknown field is named at its key, with a suggestion or the allowed fields", async () => {
    expect(
      await errorLines({
        "t.yaml": yaml(
          V1,
          "kind: McpToolset",
          "name: t",
          "url: https://mcp.example.com/mcp",
          "tools:",
          "  - name: a",
          "    policy: auto",
          "defualt_permission_policy: auto",
        ),
      }),
    ).toEqual([
      't.yaml:7:5: McpToolset/t: tools[0]: unknown field "policy" (allowed: name, permission_policy)',
      't.yaml:8:1: McpToolset/t: unknown field "defualt_permission_policy" (did you mean "default_permission_policy"?)',
    ]);
  });

  test("an enum lists its values; a discriminated union reports one clear message", async () => {
    expect(
      await errorLines({
        "e.yaml": yaml(V1, "kind: Environment", "name: e", "config:", "  type: clod"),
        "m.yaml": yaml(V1, "kind: Agent", "name: m", "model:", "  id: claude-opus-4-7", "  effort: extreme"),
      }),
    ).toEqual([
      'e.yaml:5:9: Environment/e: config.type: must be one of "cloud", "self_hosted", got "clod" (did you mean "cloud"?)',
      'm.yaml:6:11: Agent/m: model.effort: must be one of "low", "medium", "high", "xhigh", "max", got "extreme"',
    ]);
  });

  test("a literal secret is refused without ever printing it", async () => {
    const secret = "sk-live-0123456789abcdef";
    const lines = await errorLines({
      "vaults/v.yaml": yaml(
        V1,
        "kind: Vault",
        "name: v",
        "credentials:",
        "  - name: c",
        "    auth:",
        "      type: static_bearer",
        "      mcp_server_url: https://mcp.example.com/mcp",
        `      token: ${secret}`,
        "  - name: d",
        "    auth:",
        "      type: mcp_oauth",
        "      mcp_server_url: https://mcp.example.com/mcp",
        `      access_token: \${env:ACCESS_TOKEN}`,
        "      refresh:",
        "        client_id: reconcile",
        `        refresh_token: \${env:REFRESH_TOKEN}`,
        "        token_endpoint: https://auth.example.com/token",
        `        token_endpoint_auth: {type: client_secret_post, client_secret: "${secret}"}`,
      ),
    });
    const message = `literal secrets are not allowed: write a reference to an environment variable instead, like \${env:NAME}`;
    expect(lines).toEqual([
      `vaults/v.yaml:9:14: Vault/v: credentials[0].auth.token: ${message}`,
      `vaults/v.yaml:19:72: Vault/v: credentials[1].auth.refresh.token_endpoint_auth.client_secret: ${message}`,
    ]);
    for (const line of lines) expect(line).not.toContain(secret);
  });

  test("an MCP toolset under tools: points to toolsets:", async () => {
    expect(
      await errorLines({
        "a.yaml": yaml(
          V1,
          "kind: Agent",
          "name: a",
          "model: m",
          "tools:",
          "  - type: mcp_toolset",
          "    mcp_server_name: x",
        ),
      }),
    ).toEqual([
      "a.yaml:6:5: Agent/a: tools[0]: MCP tools are not declared under `tools:`: list McpToolset spec names under `toolsets:` instead",
    ]);
  });

  test("system and system_file together are refused", async () => {
    expect(
      await errorLines({ "a.yaml": yaml(V1, "kind: Agent", "name: a", "model: m", "system: hi", "system_file: p.md") }),
    ).toEqual(["a.yaml:5:1: Agent/a: set either `system` or `system_file`, not both"]);
  });

  test("metadata: reserved keys, and at most 9 keys (reconcile reserves 7 of the API's 16)", async () => {
    const keys = Array.from({ length: 10 }, (_, i) => `  k${i}: v`);
    expect(
      await errorLines({
        "a.yaml": yaml(
          V1,
          "kind: Agent",
          "name: a",
          "model: m",
          "metadata:",
          "  managed-by: me",
          "  reconcile/stack: x",
        ),
        "b.yaml": yaml(V1, "kind: Agent", "name: b", "model: m", "metadata:", ...keys),
        "c.yaml": yaml(V1, "kind: Agent", "name: c", "model: m", "metadata:", ...keys.slice(0, 9)),
      }),
    ).toEqual([
      'a.yaml:6:3: Agent/a: metadata: key "managed-by" is reserved: reconcile stores its ownership metadata under `managed-by` and `reconcile/*`',
      'a.yaml:7:3: Agent/a: metadata: key "reconcile/stack" is reserved: reconcile stores its ownership metadata under `managed-by` and `reconcile/*`',
      "b.yaml:6:3: Agent/b: metadata: has 10 keys; at most 9 are allowed",
    ]);
  });

  test("names, URLs, hosts and lists are checked", async () => {
    expect(
      await errorLines({
        "t.yaml": yaml(V1, "kind: McpToolset", "name: My_Tools", "url: ftp://mcp.example.com"),
        "e.yaml": yaml(
          V1,
          "kind: Environment",
          "name: e",
          "config:",
          "  type: cloud",
          "  networking:",
          "    type: limited",
          "    allowed_hosts: [https://api.example.com, api.example.com, api.example.com]",
        ),
        "a.yaml": yaml(V1, "kind: Agent", "name: a", "model: m", "toolsets: [x, y, x]", "description:"),
      }),
    ).toEqual([
      'a.yaml:5:12: Agent/a: toolsets[0]: unknown McpToolset "x"',
      'a.yaml:5:15: Agent/a: toolsets[1]: unknown McpToolset "y"',
      'a.yaml:5:18: Agent/a: toolsets: "x" is listed twice (items 1 and 3)',
      "a.yaml:6:13: Agent/a: description: has no value: give it one or remove the field",
      "e.yaml:8:21: Environment/e: config.networking.allowed_hosts[0]: must be a bare hostname like api.example.com (no scheme, port or path), an IPv4 address, or a *.example.com wildcard",
      'e.yaml:8:63: Environment/e: config.networking.allowed_hosts: "api.example.com" is listed twice (items 2 and 3)',
      "t.yaml:3:7: McpToolset/My_Tools: name: must be 1-64 lowercase letters, digits and '-', starting and ending with a letter or digit",
      "t.yaml:4:6: McpToolset/My_Tools: url: must be an http:// or https:// URL",
    ]);
  });

  test("permission policies of built-in tools accept the SDK's object form as well as a bare string", async () => {
    const project = await loadProject(
      await writeRepo({
        "a.yaml": yaml(
          V1,
          "kind: Agent",
          "name: a",
          "model: m",
          "tools:",
          "  - type: agent_toolset_20260401",
          "    default_config: {permission_policy: always_allow}",
          "    configs:",
          "      - {name: bash, permission_policy: {type: always_ask}}",
          "      - {name: web_fetch, permission_policy: {type: nope}}",
        ),
      }),
    );
    expect(project.errors.map((e) => e.message)).toEqual([
      'tools[0].configs[1].permission_policy.type: must be one of "always_allow", "always_ask", "auto", got "nope"',
    ]);
  });
});
