import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { loadProject, loadProjectConfig } from "../../src/spec/index.js";
import { findSpecFiles } from "../../src/spec/load.js";
import { errorLines, writeRepo, yaml } from "./helpers.js";

const toolset = (name: string) =>
  yaml("apiVersion: reconcile/v1", "kind: McpToolset", `name: ${name}`, "url: https://mcp.example.com/mcp");

describe("finding spec files", () => {
  test("walks the tree, skips hidden folders, node_modules, dist, the root reconcile.yaml and nested projects, and sorts", async () => {
    const root = await writeRepo({
      "b.yml": "x: 1\n",
      "a/z.yaml": "x: 1\n",
      "a/readme.md": "# not yaml\n",
      ".github/workflows/ci.yaml": "x: 1\n",
      ".reconcile/cache.yaml": "x: 1\n",
      "node_modules/pkg/spec.yaml": "x: 1\n",
      "dist/out.yaml": "x: 1\n",
      "reconcile.yaml": "x: 1\n",
      // A folder with its own reconcile.yaml is another project (a test fixture, another stack): not searched.
      "nested/reconcile.yaml": "stack: other\n",
      "nested/agents/a.yaml": "x: 1\n",
      "a/reconcile.yaml.bak/x.yaml": "x: 1\n",
    });
    expect(await findSpecFiles(root)).toEqual(["a/reconcile.yaml.bak/x.yaml", "a/z.yaml", "b.yml"]);
  });

  test("the project config at the root is not read as a spec", async () => {
    const project = await loadProject(await writeRepo({ "reconcile.yaml": toolset("config-lookalike") }));
    expect(project.specs.toolsets).toEqual([]);
    expect(project.files).toEqual([]);
  });
});

describe("parsing", () => {
  test("a YAML syntax error is reported at its exact line and column", async () => {
    expect(
      await errorLines({
        "toolsets/broken.yaml": yaml(
          "apiVersion: reconcile/v1",
          "kind: McpToolset",
          "name: broken",
          "url https://mcp.example.com/mcp",
          "tools: []",
        ),
      }),
    ).toEqual(["toolsets/broken.yaml:4:1: invalid YAML: Implicit keys need to be on a single line"]);
  });

  test("every syntax error of a file is reported, not just the first", async () => {
    const lines = await errorLines({
      "agents/a.yaml": yaml(
        "apiVersion: reconcile/v1",
        "kind: Agent",
        "name: a",
        "model: m",
        "model: n",
        "---",
        "apiVersion: reconcile/v1",
        "kind: Agent",
        "name: b",
        "metadata: {team: x",
      ),
    });
    expect(lines).toEqual([
      "agents/a.yaml:5:1: invalid YAML: Map keys must be unique",
      "agents/a.yaml:11:1: invalid YAML: Flow map in block collection must be sufficiently indented and end with a }",
    ]);
  });

  test("several documents in one file are each a spec", async () => {
    const project = await loadProject(
      await writeRepo({ "toolsets/all.yaml": `${toolset("one")}---\n${toolset("two")}` }),
    );
    expect(project.errors).toEqual([]);
    expect(project.specs.toolsets.map((t) => [t.name, t.source.line])).toEqual([
      ["one", 1],
      ["two", 6],
    ]);
  });

  test("YAML of other tools is skipped by its apiVersion; anything else must be listed under ignore:", async () => {
    const files = {
      "k8s/deployment.yaml": yaml("apiVersion: apps/v1", "kind: Deployment", "metadata:", "  name: web"),
      "docker-compose.yml": yaml("services:", "  web:", "    image: nginx"),
      "chart/templates/svc.yaml": yaml("apiVersion: v1", "kind: Service", "metadata:", "  name: {{ .Values.name }"),
      "list.yaml": yaml("- a", "- b"),
      "mixed.yaml": `${yaml("apiVersion: v1", "kind: ConfigMap")}---\n${toolset("real")}`,
    };
    const hint = "if this file is not a reconcile spec, list it under ignore: in reconcile.yaml";
    expect(await errorLines(files)).toEqual([
      "chart/templates/svc.yaml:5:1: invalid YAML: Flow map in block collection must be sufficiently indented and end with a }",
      `docker-compose.yml:1:1: not a reconcile spec: the document has neither apiVersion nor kind (a spec starts with "apiVersion: reconcile/v1" and a kind); ${hint}`,
      `list.yaml:1:1: a spec is a mapping that starts with "apiVersion: reconcile/v1" and a kind, but this document is a list; ${hint}`,
    ]);
    const root = await writeRepo({
      ...files,
      "reconcile.yaml": yaml("stack: s", "ignore: [chart, docker-compose.yml, list.yaml]"),
    });
    const project = await loadProject(root, { ignore: (await loadProjectConfig(root)).config.ignore });
    expect(project.errors).toEqual([]);
    expect(project.files).toEqual(["mixed.yaml"]);
    expect(project.specs.toolsets.map((t) => t.name)).toEqual(["real"]);
  });

  test("a document of our kind without apiVersion, and an unsupported apiVersion, are errors", async () => {
    expect(
      await errorLines({
        "a.yaml": yaml("# no version", "kind: McpToolset", "name: a", "url: https://mcp.example.com/mcp"),
        "b.yaml": yaml("apiVersion: reconcile/v9", "kind: McpToolset", "name: b", "url: https://mcp.example.com/mcp"),
      }),
    ).toEqual([
      'a.yaml:2:1: McpToolset/a: missing apiVersion: add "apiVersion: reconcile/v1"',
      'b.yaml:1:13: McpToolset/b: unsupported apiVersion "reconcile/v9": this version of reconcile reads reconcile/v1',
    ]);
  });

  test("YAML anchors and merge keys work", async () => {
    const project = await loadProject(
      await writeRepo({
        "e.yaml": yaml(
          "apiVersion: reconcile/v1",
          "kind: Environment",
          "name: e",
          "config: &cloud",
          "  type: cloud",
          "metadata:",
          "  <<: {team: platform}",
          "  tier: production",
        ),
      }),
    );
    expect(project.errors).toEqual([]);
    expect(project.specs.environments[0]?.metadata).toEqual({ team: "platform", tier: "production" });
  });

  test("a root that is not a directory throws", async () => {
    const root = await writeRepo({});
    await expect(loadProject(path.join(root, "missing"))).rejects.toThrow(/is not a directory/);
    await mkdir(path.join(root, "d"));
    await writeFile(path.join(root, "file"), "");
    await expect(loadProject(path.join(root, "file"))).rejects.toThrow(/is not a directory/);
  });
});
