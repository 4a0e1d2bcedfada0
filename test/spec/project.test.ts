import { describe, expect, test } from "vitest";
import { formatSpecError, loadProject } from "../../src/spec/index.js";
import { writeRepo, yaml } from "./helpers.js";

const V1 = "apiVersion: reconcile/v1";

describe("loadProject", () => {
  test("reports every error of every file at once, sorted by file, line and column, and keeps what resolves", async () => {
    const root = await writeRepo({
      "vaults/v.yaml": yaml(V1, "kind: Vault", "name: v", "display_name: 7", "colour: blue"),
      "agents/b.yaml": yaml(V1, "kind: Agent", "name: b", "model: m", "toolsets: [nope]"),
      "agents/a.yaml": yaml(
        V1,
        "kind: Agent",
        "name: a",
        "model: {effort: high}",
        "---",
        V1,
        "kind: Agent",
        "name: a2",
        "model: m",
        "system: [x",
      ),
      "toolsets/ok.yaml": yaml(V1, "kind: McpToolset", "name: ok", "url: https://ok.example.com/mcp"),
      "environments/e.yaml": yaml("apiVersion: reconcile/v2", "kind: Environment", "name: e"),
    });
    const { errors, specs, files } = await loadProject(root);
    expect(errors.map(formatSpecError)).toEqual([
      'agents/a.yaml:4:1: Agent/a: model: missing required field "id"',
      "agents/a.yaml:11:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]",
      'agents/b.yaml:5:12: Agent/b: toolsets[0]: unknown McpToolset "nope"',
      'environments/e.yaml:1:13: Environment/e: unsupported apiVersion "reconcile/v2": this version of reconcile reads reconcile/v1',
      "vaults/v.yaml:4:15: Vault/v: display_name: must be a string, got a number (put it in quotes)",
      'vaults/v.yaml:5:1: Vault/v: unknown field "colour" (allowed: apiVersion, kind, name, display_name, metadata, protect, on_prune, previous_names, credentials)',
    ]);
    expect(specs).toEqual({
      agents: [],
      environments: [],
      vaults: [],
      toolsets: [expect.objectContaining({ name: "ok" })],
      memory_stores: [],
      skills: [],
      tunnels: [],
      deployments: [],
    });
    expect(files).toEqual([
      "agents/a.yaml",
      "agents/b.yaml",
      "environments/e.yaml",
      "toolsets/ok.yaml",
      "vaults/v.yaml",
    ]);
  });

  test("an empty repository has no specs and no errors", async () => {
    expect(await loadProject(await writeRepo({}))).toEqual({
      specs: {
        agents: [],
        environments: [],
        vaults: [],
        toolsets: [],
        memory_stores: [],
        skills: [],
        tunnels: [],
        deployments: [],
      },
      errors: [],
      files: [],
    });
  });
});

describe("formatSpecError", () => {
  const location = { file: "agents/a.yaml", line: 3, col: 7 };

  test("file:line:col: Kind/name: message", () => {
    expect(formatSpecError({ location, kind: "Agent", name: "a", message: "boom" })).toBe(
      "agents/a.yaml:3:7: Agent/a: boom",
    );
  });

  test("leaves out what it does not know", () => {
    expect(formatSpecError({ location, message: "boom" })).toBe("agents/a.yaml:3:7: boom");
    expect(formatSpecError({ location, kind: "Agent", message: "boom" })).toBe("agents/a.yaml:3:7: Agent: boom");
  });
});
