/**
 * "Identity typos fail closed" (DESIGN.md; ADR 0010): every YAML file the loader reads is a valid spec, a foreign
 * manifest, empty, ignored on purpose, or an error at its location. A misread file must never look like a removal.
 */
import { execFileSync } from "node:child_process";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { classifyApiVersion } from "../../src/spec/api-version.js";
import { formatSpecError, loadProject, loadProjectConfig } from "../../src/spec/index.js";
import { classifyDocument, isIgnored } from "../../src/spec/load.js";
import { errorLines, writeRepo, yaml } from "./helpers.js";

const agent = (name: string, apiVersion = "reconcile/v1") =>
  yaml(`apiVersion: ${apiVersion}`, "kind: Agent", `name: ${name}`, "model: claude-sonnet-4-6");

/** Loads a fixture repository the way the CLI does: with the `ignore:` of its reconcile.yaml. */
async function load(files: Record<string, string>) {
  const root = await writeRepo(files);
  const { config, errors } = await loadProjectConfig(root);
  expect(errors.map(formatSpecError)).toEqual([]);
  const project = await loadProject(root, { ignore: config.ignore });
  return { ...project, lines: project.errors.map(formatSpecError) };
}

describe("the typos of issue 6 are located errors", () => {
  test("a misspelt apiVersion group", async () => {
    expect(await errorLines({ "agents/a.yaml": agent("a", "reconcle/v1") })).toEqual([
      'agents/a.yaml:1:13: Agent/a: unsupported apiVersion "reconcle/v1" (did you mean "reconcile/v1"?): this version of reconcile reads reconcile/v1',
    ]);
  });

  test("other near misses: case, a dotted group, no slash, a bare core version with our kind, a number", async () => {
    expect(
      await errorLines({
        "a.yaml": agent("a", "Reconcile/v1"),
        "b.yaml": agent("b", "reconcile.dev/v1"),
        "c.yaml": agent("c", "reconcile"),
        "d.yaml": agent("d", "v1"),
        "e.yaml": agent("e", "1"),
        "f.yaml": agent("f", "rcnocile/v1"),
      }),
    ).toEqual([
      'a.yaml:1:13: Agent/a: unsupported apiVersion "Reconcile/v1" (did you mean "reconcile/v1"?): this version of reconcile reads reconcile/v1',
      'b.yaml:1:13: Agent/b: unsupported apiVersion "reconcile.dev/v1" (did you mean "reconcile/v1"?): this version of reconcile reads reconcile/v1',
      'c.yaml:1:13: Agent/c: unsupported apiVersion "reconcile": this version of reconcile reads reconcile/v1',
      'd.yaml:1:13: Agent/d: unsupported apiVersion "v1" (did you mean "reconcile/v1"?): this version of reconcile reads reconcile/v1',
      'e.yaml:1:13: Agent/e: unsupported apiVersion "1" (did you mean "reconcile/v1"?): this version of reconcile reads reconcile/v1',
      'f.yaml:1:13: Agent/f: unsupported apiVersion "rcnocile/v1" (did you mean "reconcile/v1"?): this version of reconcile reads reconcile/v1',
    ]);
  });

  test("quoted keys are read like plain ones, and a syntax error in such a file is reported", async () => {
    const quoted = yaml('"apiVersion": "reconcile/v1"', "'kind': Agent", '"name": a', '"model": claude-sonnet-4-6');
    const ok = await load({ "agents/a.yaml": quoted });
    expect(ok.lines).toEqual([]);
    expect(ok.specs.agents.map((a) => a.name)).toEqual(["a"]);
    expect(await errorLines({ "agents/a.yaml": `${quoted}"metadata": {team: x\n` })).toEqual([
      "agents/a.yaml:6:1: invalid YAML: Flow map in block collection must be sufficiently indented and end with a }",
    ]);
  });

  test("a flow-style document with a syntax error", async () => {
    expect(
      await errorLines({ "agents/a.yaml": "{apiVersion: reconcile/v1, kind: Agent, name: a, model: m\n" }),
    ).toEqual(["agents/a.yaml:2:1: invalid YAML: Flow map must end with a }"]);
  });

  test("a top-level list of specs, and a scalar document", async () => {
    const list = agent("a")
      .trimEnd()
      .split("\n")
      .map((line, i) => (i === 0 ? `- ${line}` : `  ${line}`))
      .join("\n");
    expect(await errorLines({ "agents/a.yaml": `${list}\n`, "agents/b.yaml": "just some text\n" })).toEqual([
      'agents/a.yaml:1:1: a spec is a mapping that starts with "apiVersion: reconcile/v1" and a kind, but this document is a list; if this file is not a reconcile spec, list it under ignore: in reconcile.yaml',
      'agents/b.yaml:1:1: a spec is a mapping that starts with "apiVersion: reconcile/v1" and a kind, but this document is a string; if this file is not a reconcile spec, list it under ignore: in reconcile.yaml',
    ]);
  });

  test("a syntax error in a file that does not look like a spec at all", async () => {
    expect(await errorLines({ "notes.yaml": "title: [unclosed\n" })).toEqual([
      "notes.yaml:2:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]",
    ]);
  });

  test("a mapping with neither apiVersion nor kind (a compose file, a misspelt key)", async () => {
    expect(
      await errorLines({
        "docker-compose.yml": yaml("services:", "  web:", "    image: nginx"),
        "agents/a.yaml": yaml("apiVerison: reconcile/v1", "knid: Agent", "name: a"),
      }),
    ).toEqual([
      'agents/a.yaml:1:1: not a reconcile spec: the document has neither apiVersion nor kind (a spec starts with "apiVersion: reconcile/v1" and a kind); if this file is not a reconcile spec, list it under ignore: in reconcile.yaml',
      'docker-compose.yml:1:1: not a reconcile spec: the document has neither apiVersion nor kind (a spec starts with "apiVersion: reconcile/v1" and a kind); if this file is not a reconcile spec, list it under ignore: in reconcile.yaml',
    ]);
  });

  test("a binary or non-UTF-8 file, and a NUL byte", async () => {
    const root = await writeRepo({ "agents/ok.yaml": agent("ok") });
    await writeFile(path.join(root, "agents", "latin1.yaml"), Buffer.from("name: caf\xe9\n", "latin1"));
    await writeFile(path.join(root, "agents", "nul.yaml"), Buffer.from(`${agent("n")}\0`));
    const { errors } = await loadProject(root);
    expect(errors.map(formatSpecError)).toEqual([
      "agents/latin1.yaml:1:1: the file is not UTF-8 text (invalid byte at offset 9); if this file is not a reconcile spec, list it under ignore: in reconcile.yaml",
      `agents/nul.yaml:1:1: the file is not text: it holds a NUL byte at offset ${agent("n").length}; if this file is not a reconcile spec, list it under ignore: in reconcile.yaml`,
    ]);
  });

  test("a broken symlink is an error, a symlinked spec is read", async () => {
    const root = await writeRepo({ "shared/a.yaml": agent("a") });
    await mkdir(path.join(root, "agents"));
    await symlink(path.join("..", "shared", "a.yaml"), path.join(root, "agents", "link.yaml"));
    await symlink(path.join(root, "gone.yaml"), path.join(root, "agents", "broken.yaml"));
    const { errors, files } = await loadProject(root);
    expect(errors.map(formatSpecError)).toEqual([
      "agents/broken.yaml:1:1: cannot read the file (ENOENT)",
      // The same spec twice: through the link and in place.
      'shared/a.yaml:3:7: Agent/a: name: another Agent is already named "a" (first defined at agents/link.yaml:1:1)',
    ]);
    expect(files).toEqual(["agents/broken.yaml", "agents/link.yaml", "shared/a.yaml"]);
  });
});

describe("hostile files", () => {
  test("control characters in an echoed value are escaped: one error, one inert line", async () => {
    const lines = await errorLines({
      "agents/a.yaml": yaml(
        'apiVersion: "reconcle/v1\\e[2J\\nforged.yaml:1:1: ok"',
        "kind: Agent",
        "name: a",
        "model: m",
      ),
    });
    expect(lines).toEqual([
      'agents/a.yaml:1:13: Agent/a: unsupported apiVersion "reconcle/v1\\u001b[2J\\u000aforged.yaml:1:1: ok" (did you mean "reconcile/v1"?): this version of reconcile reads reconcile/v1',
    ]);
  });

  test("a symlink loop is an error; a FIFO named .yaml is not opened (no hang)", async () => {
    const root = await writeRepo({ "agents/ok.yaml": agent("ok") });
    await symlink("loop.yaml", path.join(root, "agents", "loop.yaml"));
    execFileSync("mkfifo", [path.join(root, "agents", "pipe.yaml")]);
    const { errors, specs } = await loadProject(root);
    expect(errors.map(formatSpecError)).toEqual(["agents/loop.yaml:1:1: cannot read the file (ELOOP)"]);
    expect(specs.agents.map((a) => a.name)).toEqual(["ok"]);
  });

  test("an alias bomb is an error, not a hang", async () => {
    const bomb = [
      "apiVersion: reconcile/v1",
      "kind: Agent",
      "name: a",
      "model: m",
      "a: &a [x, x, x, x, x, x, x, x, x, x]",
      "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]",
      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]",
      "d: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]",
    ];
    const lines = await errorLines({ "agents/a.yaml": yaml(...bomb) });
    expect(lines).toEqual([expect.stringMatching(/^agents\/a\.yaml:1:1: invalid YAML: .*alias/i)]);
  });
});

describe("what is fine", () => {
  test("empty files, comment-only files, empty documents and --- separators", async () => {
    const { lines, specs, files } = await load({
      "empty.yaml": "",
      "comments.yaml": "# nothing here yet\n",
      "separators.yaml": `---\n---\n${agent("a")}---\n# trailing\n...\n`,
      "null.yaml": "null\n",
    });
    expect(lines).toEqual([]);
    expect(specs.agents.map((a) => a.name)).toEqual(["a"]);
    expect(files).toEqual(["separators.yaml"]);
  });

  test("a BOM and CRLF line ends, with positions still right", async () => {
    const text = `\uFEFF${agent("a", "reconcle/v1")}`.replace(/\n/g, "\r\n");
    expect(await errorLines({ "a.yaml": text, "b.YML": agent("b").replace(/\n/g, "\r\n") })).toEqual([
      'a.yaml:1:13: Agent/a: unsupported apiVersion "reconcle/v1" (did you mean "reconcile/v1"?): this version of reconcile reads reconcile/v1',
    ]);
  });

  test("merge keys may carry the apiVersion and kind, typos included", async () => {
    const { lines, specs } = await load({
      "agents/a.yaml": yaml("<<: {apiVersion: reconcile/v1, kind: Agent}", "name: a", "model: claude-sonnet-4-6"),
    });
    expect(lines).toEqual([]);
    expect(specs.agents.map((a) => a.name)).toEqual(["a"]);
    expect(
      await errorLines({
        "agents/b.yaml": yaml("<<: {apiVersion: reconcle/v1, kind: Agent}", "name: b", "model: claude-sonnet-4-6"),
      }),
    ).toEqual([
      'agents/b.yaml:1:1: Agent/b: unsupported apiVersion "reconcle/v1" (did you mean "reconcile/v1"?): this version of reconcile reads reconcile/v1',
    ]);
  });

  test("manifests of other tools are skipped by their apiVersion, whatever their kind", async () => {
    const { lines, specs, files } = await load({
      "k8s/deployment.yaml": yaml("apiVersion: apps/v1", "kind: Deployment", "metadata:", "  name: web"),
      "k8s/service.yaml": yaml("apiVersion: v1", "kind: Service", "metadata:", "  name: web"),
      "k8s/ingress.yaml": yaml("apiVersion: networking.k8s.io/v1", "kind: Ingress"),
      "kagent/agent.yaml": yaml("apiVersion: kagent.dev/v1alpha2", "kind: Agent", "metadata: {name: helper}"),
      "mixed.yaml": `${yaml("apiVersion: v1", "kind: ConfigMap")}---\n${agent("real")}`,
    });
    expect(lines).toEqual([]);
    expect(files).toEqual(["mixed.yaml"]);
    expect(specs.agents.map((a) => a.name)).toEqual(["real"]);
  });
});

describe("ignore: in reconcile.yaml", () => {
  test("ignored files are not parsed: Helm templates, compose files, lists", async () => {
    const { lines, files, specs } = await load({
      "reconcile.yaml": yaml("stack: s", "ignore:", "  - charts", "  - docker-compose.yml", "  - 'data/**/*.yaml'"),
      "charts/web/templates/svc.yaml": yaml("apiVersion: v1", "kind: Service", "metadata:", "  name: {{ .x }"),
      "docker-compose.yml": yaml("services:", "  web:", "    image: nginx"),
      "data/a/b/list.yaml": yaml("- a", "- b"),
      "agents/a.yaml": agent("a"),
    });
    expect(lines).toEqual([]);
    expect(files).toEqual(["agents/a.yaml"]);
    expect(specs.agents.map((a) => a.name)).toEqual(["a"]);
  });

  test("an ignored file that holds a reconcile document is an error naming the pattern", async () => {
    const { lines, specs } = await load({
      "reconcile.yaml": yaml("stack: s", "ignore: ['**/*.yaml']"),
      "agents/a.yaml": agent("a"),
      "agents/b.yaml": `{"apiVersion": "reconcle/v1", kind: Agent, name: b, model: m\n`,
      "k8s/web.yaml": yaml("apiVersion: apps/v1", "kind: Deployment"),
    });
    expect(lines).toEqual([
      'agents/a.yaml:1:1: this file holds a reconcile document (apiVersion: reconcile/v1) but is ignored by "**/*.yaml" (reconcile.yaml:2:10): narrow the ignore: pattern, or its specs would be left out and their resources pruned',
      'agents/b.yaml:1:2: this file holds a reconcile document (apiVersion: reconcle/v1) but is ignored by "**/*.yaml" (reconcile.yaml:2:10): narrow the ignore: pattern, or its specs would be left out and their resources pruned',
    ]);
    expect(specs.agents).toEqual([]);
  });

  test("hidden files are skipped like ignored ones: tool configs pass, a hidden spec is an error", async () => {
    const { lines, files } = await load({
      ".pre-commit-config.yaml": yaml("repos:", "  - repo: local"),
      "ci/.gitlab-ci.yml": yaml("test:", "  script: [npm test]"),
      "agents/.a.yaml": agent("a"),
    });
    expect(lines).toEqual([
      'agents/.a.yaml:1:1: this file holds a reconcile document (apiVersion: reconcile/v1) but is a hidden file (reconcile does not read files whose name starts with "."): rename it, or its specs would be left out and their resources pruned',
    ]);
    expect(files).toEqual(["agents/.a.yaml"]);
  });

  test("patterns must be relative globs", async () => {
    const root = await writeRepo({
      "reconcile.yaml": yaml(
        "stack: s",
        "ignore:",
        "  - /abs/**",
        "  - ../up",
        "  - '!negated'",
        "  - ''",
        "  - ok/**",
      ),
    });
    const { config, errors } = await loadProjectConfig(root);
    const rule =
      "must be a glob relative to the repository root, with / separators, like k8s/** (no leading / or !, no .. segments, no backslashes)";
    expect(errors.map(formatSpecError)).toEqual([
      `reconcile.yaml:3:5: ignore[0]: ${rule}`,
      `reconcile.yaml:4:5: ignore[1]: ${rule}`,
      `reconcile.yaml:5:5: ignore[2]: ${rule}`,
      "reconcile.yaml:6:5: ignore[3]: must not be empty",
    ]);
    // Only well-formed patterns hide anything.
    expect(config.ignore.map((i) => i.pattern)).toEqual(["ok/**"]);
  });

  test("isIgnored matches whole paths, folders and their contents", () => {
    const entry = (pattern: string) => ({ pattern, source: { file: "reconcile.yaml", line: 1, col: 1 } });
    expect(isIgnored("k8s/a.yaml", [entry("k8s")])?.pattern).toBe("k8s");
    expect(isIgnored("k8s/deep/a.yaml", [entry("k8s/")])?.pattern).toBe("k8s/");
    expect(isIgnored("k8s2/a.yaml", [entry("k8s")])).toBeUndefined();
    expect(isIgnored("a/docker-compose.yml", [entry("docker-compose.yml")])).toBeUndefined();
    expect(isIgnored("a/docker-compose.yml", [entry("**/docker-compose.yml")])?.pattern).toBe("**/docker-compose.yml");
  });
});

describe("classification", () => {
  test("apiVersion groups", () => {
    const cases: Array<[string, string]> = [
      ["reconcile/v1", "reconcile"],
      ["reconcile/v2", "reconcile"],
      ["RECONCILE/v1", "reconcile"],
      ["reconcle/v1", "near"],
      ["recocnile/v1", "near"],
      ["reconciler.io/v1", "near"],
      ["apps/v1", "foreign"],
      ["v1", "foreign"],
      ["v2beta1", "foreign"],
      ["networking.k8s.io/v1", "foreign"],
      ["argoproj.io/v1alpha1", "foreign"],
      ["kagent.dev/v1alpha2", "foreign"],
    ];
    expect(cases.map(([v]) => [v, classifyApiVersion(v)])).toEqual(cases);
  });

  test("documents", () => {
    expect(classifyDocument(null).type).toBe("empty");
    expect(classifyDocument([]).type).toBe("error");
    expect(classifyDocument(42).type).toBe("error");
    expect(classifyDocument({}).type).toBe("error");
    expect(classifyDocument({ kind: "Agent" }).type).toBe("spec");
    expect(classifyDocument({ kind: "Whatever" }).type).toBe("spec");
    expect(classifyDocument({ apiVersion: null }).type).toBe("spec");
    expect(classifyDocument({ apiVersion: "apps/v1", kind: "Deployment" }).type).toBe("foreign");
    expect(classifyDocument({ apiVersion: "v1", kind: "Agent" }).type).toBe("spec");
    expect(classifyDocument({ apiVersion: "v1", kind: "Secret" }).type).toBe("foreign");
  });
});
