import { describe, expect, test } from "vitest";
import { formatSpecError, loadProject, validateAllTargets } from "../../src/spec/index.js";
import { loadProjectConfig, selectTarget } from "../../src/spec/project-config.js";
import { secretFieldPaths } from "../../src/spec/validate.js";
import { writeRepo, yaml } from "./helpers.js";

const V1 = "apiVersion: reconcile/v1";

const CONFIG = yaml(
  "stack: fleet",
  "default_target: staging",
  "targets:",
  "  staging:",
  "    values:",
  "      model: claude-haiku-4-5",
  "      host: staging-exports.example.com",
  "      tier: staging",
  "  prod:",
  "    values:",
  "      model: claude-sonnet-4-6",
  "      host: exports.example.com",
  "      tier: production",
);

/** Writes a repository and loads it against one of its targets (the default one unless named). */
async function loadFor(files: Record<string, string>, name?: string) {
  const root = await writeRepo({ "reconcile.yaml": CONFIG, ...files });
  const { config, errors } = await loadProjectConfig(root);
  expect(errors).toEqual([]);
  return loadProject(root, { target: selectTarget(config, name) });
}

describe("${var:NAME}", () => {
  test("is replaced by the selected target's value, anywhere in a string and as often as it occurs", async () => {
    const files = {
      "agents/a.yaml": yaml(V1, "kind: Agent", "name: a", "model: ${var:model}", "toolsets: [exports]"),
      "toolsets/t.yaml": yaml(
        V1,
        "kind: McpToolset",
        "name: exports",
        "url: https://${var:host}/mcp?host=${var:host}&tier=${var:tier}",
      ),
    };
    const staging = await loadFor(files);
    expect(staging.errors).toEqual([]);
    expect(staging.specs.agents[0]?.model).toEqual({ id: "claude-haiku-4-5" });
    expect(staging.specs.toolsets[0]?.url).toBe(
      "https://staging-exports.example.com/mcp?host=staging-exports.example.com&tier=staging",
    );
    const prod = await loadFor(files, "prod");
    expect(prod.errors).toEqual([]);
    expect(prod.specs.agents[0]?.model).toEqual({ id: "claude-sonnet-4-6" });
    expect(prod.specs.toolsets[0]?.url).toBe(
      "https://exports.example.com/mcp?host=exports.example.com&tier=production",
    );
  });

  test("leaves ${env:NAME}, keys and substituted values alone", async () => {
    const { errors, specs } = await loadFor({
      "agents/a.yaml": yaml(
        V1,
        "kind: Agent",
        "name: a",
        "model: m",
        "description: reads ${env:HOME} for ${var:tier}",
        "metadata:",
        "  ${var:tier}: ${var:tier}",
      ),
    });
    expect(errors).toEqual([]);
    expect(specs.agents[0]?.description).toBe("reads ${env:HOME} for staging");
    expect(specs.agents[0]?.metadata).toEqual({ "${var:tier}": "staging" });
  });

  test("a substituted value is validated, and its errors point at the original scalar", async () => {
    const root = await writeRepo({
      "reconcile.yaml": yaml("stack: s", "targets:", "  prod:", "    values: {url: 'ftp://exports.example.com'}"),
      "t.yaml": yaml(V1, "kind: McpToolset", "name: t", "url: ${var:url}"),
    });
    const { config } = await loadProjectConfig(root);
    const { errors } = await loadProject(root, { target: selectTarget(config, "prod") });
    expect(errors.map(formatSpecError)).toEqual(["t.yaml:4:6: McpToolset/t: url: must be an http:// or https:// URL"]);
  });

  test("an undefined variable is an error at its scalar, saying where to define it", async () => {
    const { errors, specs } = await loadFor({
      "agents/a.yaml": yaml(
        V1,
        "kind: Agent",
        "name: a",
        "# the model differs per workspace",
        "model:",
        "  id: ${var:modle}",
        "description: 7",
      ),
      "agents/b.yaml": yaml(V1, "kind: Agent", "name: b", "model: m", "toolsets: [t]"),
      "t.yaml": yaml(V1, "kind: McpToolset", "name: t", "url: 'https://${var:host}/${var:path}'"),
    });
    expect(errors.map(formatSpecError)).toEqual([
      'agents/a.yaml:6:7: Agent/a: model.id: ${var:modle} is not defined for target "staging" (define it under targets.staging.values in reconcile.yaml)',
      "agents/a.yaml:7:14: Agent/a: description: must be a string, got a number (put it in quotes)",
      't.yaml:4:6: McpToolset/t: url: ${var:path} is not defined for target "staging" (define it under targets.staging.values in reconcile.yaml)',
    ]);
    // The toolset is invalid, so the agent that names it is not resolved, and not reported again.
    expect(specs).toEqual({
      agents: [],
      environments: [],
      vaults: [],
      toolsets: [],
      memory_stores: [],
      skills: [],
      tunnels: [],
      deployments: [],
    });
  });

  test("is refused in secret fields, names, and when malformed", async () => {
    const { errors } = await loadFor({
      "v.yaml": yaml(
        V1,
        "kind: Vault",
        "name: v",
        "credentials:",
        "  - name: c",
        "    auth:",
        "      type: static_bearer",
        "      mcp_server_url: https://${var:host}/mcp",
        "      token: ${var:token}",
        "  - name: ${var:tier}-key",
        "    auth:",
        "      type: environment_variable",
        "      secret_name: KEY",
        "      secret_value: prefix-${var:tier}",
        "      networking: {type: unrestricted}",
      ),
      "t.yaml": yaml(V1, "kind: McpToolset", "name: t", "url: https://${var:my-host}/mcp"),
    });
    expect(errors.map(formatSpecError)).toEqual([
      't.yaml:4:6: McpToolset/t: url: "${var:my-host}" is not a valid variable reference: a variable name is letters, digits and _, not starting with a digit',
      "v.yaml:9:14: Vault/v: credentials[0].auth.token: ${var:...} is not allowed in a secret field: write a reference to an environment variable, like ${env:NAME}",
      "v.yaml:10:11: Vault/v: credentials[1].name: ${var:...} is not allowed here: apiVersion, kind, names and previous names identify a spec and must be the same in every target",
      "v.yaml:14:21: Vault/v: credentials[1].auth.secret_value: ${var:...} is not allowed in a secret field: write a reference to an environment variable, like ${env:NAME}",
    ]);
  });

  test("the secret fields that refuse it are read from the schemas", () => {
    expect(secretFieldPaths("Vault")).toEqual([
      ["credentials", "*", "auth", "token"],
      ["credentials", "*", "auth", "access_token"],
      ["credentials", "*", "auth", "refresh", "refresh_token"],
      ["credentials", "*", "auth", "refresh", "token_endpoint_auth", "client_secret"],
      ["credentials", "*", "auth", "secret_value"],
    ]);
    expect(secretFieldPaths("Agent")).toEqual([]);
  });

  test("without a target, a spec using ${var:...} is an error that says what to do", async () => {
    const root = await writeRepo({
      "reconcile.yaml": CONFIG,
      "a.yaml": yaml(V1, "kind: Agent", "name: a", "model: ${var:model}"),
    });
    expect((await loadProject(root)).errors.map(formatSpecError)).toEqual([
      "a.yaml:4:8: Agent/a: model: ${var:model} needs a target to take its value from: declare targets with their values in reconcile.yaml and pass --target NAME",
    ]);
  });

  test("without targets in reconcile.yaml, the implicit default target defines no variable", async () => {
    const root = await writeRepo({ "a.yaml": yaml(V1, "kind: Agent", "name: a", "model: ${var:model}") });
    const { config } = await loadProjectConfig(root);
    const { errors } = await loadProject(root, { target: selectTarget(config, undefined) });
    expect(errors.map(formatSpecError)).toEqual([
      "a.yaml:4:8: Agent/a: model: ${var:model} is not defined: reconcile.yaml declares no targets (declare one under targets: with values.model)",
    ]);
  });
});

describe("validateAllTargets", () => {
  test("checks the specs against every target and names the target of target-specific errors", async () => {
    const root = await writeRepo({
      "reconcile.yaml": yaml(
        "stack: fleet",
        "targets:",
        "  staging:",
        "    values:",
        "      model: claude-haiku-4-5",
        "      export_mcp_url: https://staging-exports-mcp.example.com/mcp",
        "  prod:",
        "    values:",
        "      model: 'claude-sonnet-4-6'",
        "      docs_url: not a url",
        "adopt:",
        "  - {address: agent.a, id: agent_011A, target: staging}",
        "  - {address: agent.b, id: agent_011A, target: staging}",
      ),
      "agents/a.yaml": yaml(V1, "kind: Agent", "name: a", "model: ${var:model}", "colour: blue"),
      "toolsets/exports.yaml": yaml(V1, "kind: McpToolset", "name: exports", "url: ${var:export_mcp_url}"),
      "toolsets/docs.yaml": yaml(V1, "kind: McpToolset", "name: docs", "url: ${var:docs_url}"),
    });
    const result = await validateAllTargets(root);
    expect(result.errors.map(formatSpecError)).toEqual([
      // The allowed list grows with the Agent schema; its start and the field named are what matter here.
      expect.stringMatching(
        /^agents\/a\.yaml:5:1: Agent\/a: unknown field "colour" \(allowed: apiVersion, kind, name, .*previous_names\)$/,
      ),
      'reconcile.yaml:13:28: adopt[1].id: "agent_011A" is adopted twice (first at line 12, as agent.a): one live resource can back one spec only',
      'toolsets/docs.yaml:4:6: McpToolset/docs: url: ${var:docs_url} is not defined for target "staging" (define it under targets.staging.values in reconcile.yaml)',
      'toolsets/docs.yaml:4:6: McpToolset/docs: url: must be an http:// or https:// URL (target "prod")',
      'toolsets/exports.yaml:4:6: McpToolset/exports: url: ${var:export_mcp_url} is not defined for target "prod" (define it under targets.prod.values in reconcile.yaml)',
    ]);
    expect(result.files).toEqual(["agents/a.yaml", "toolsets/docs.yaml", "toolsets/exports.yaml"]);
    expect(result.targets.map((t) => [t.target.name, t.specs.toolsets.map((s) => s.url)])).toEqual([
      ["staging", ["https://staging-exports-mcp.example.com/mcp"]],
      ["prod", []],
    ]);
  });

  test("a repository without targets is checked once, against the implicit default target", async () => {
    const root = await writeRepo({
      "reconcile.yaml": yaml("stack: fleet"),
      "a.yaml": yaml(V1, "kind: Agent", "name: a", "model: m"),
    });
    const result = await validateAllTargets(root);
    expect(result.errors).toEqual([]);
    expect(result.targets.map((t) => [t.target.name, t.specs.agents.map((a) => a.name)])).toEqual([["default", ["a"]]]);
  });
});
