/**
 * Bad input that used to get through validate (issue 6, item 7): binary or oversized system prompts, values over the
 * API's limits, and malformed `${var:...}` / `${env:...}` references. Each is a located error at validate time.
 */
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { formatSpecError, loadProject, loadProjectConfig, selectTarget } from "../../src/spec/index.js";
import { MAX_TOOLS } from "../../src/spec/resolve.js";
import { characterCount, SYSTEM_PROMPT_MAX_LENGTH } from "../../src/spec/system-file.js";
import { SCHEMA_DIR } from "../../src/spec/validate.js";
import { malformedReference } from "../../src/spec/vars.js";
import { errorLines, writeRepo, yaml } from "./helpers.js";

const V1 = "apiVersion: reconcile/v1";
const agent = (...more: string[]) => yaml(V1, "kind: Agent", "name: a", "model: claude-sonnet-4-6", ...more);

describe("system_file", () => {
  async function systemFileErrors(content: Buffer | string): Promise<string[]> {
    const root = await writeRepo({ "agents/a.yaml": agent("system_file: ../prompts/a.md") });
    await writeFile(path.join(root, "prompts", "a.md"), content).catch(async () => {
      await import("node:fs/promises").then((fs) => fs.mkdir(path.join(root, "prompts")));
      await writeFile(path.join(root, "prompts", "a.md"), content);
    });
    return (await loadProject(root)).errors.map(formatSpecError);
  }

  test("a binary or non-UTF-8 file is refused at the system_file scalar, not sent with U+FFFD", async () => {
    expect(await systemFileErrors(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a]))).toEqual([
      'agents/a.yaml:5:14: Agent/a: system_file: "../prompts/a.md" is not UTF-8 text (invalid byte at offset 0): a system prompt must be UTF-8 text',
    ]);
    expect(await systemFileErrors(Buffer.from("Be brief.\ncaf\xe9\n", "latin1"))).toEqual([
      'agents/a.yaml:5:14: Agent/a: system_file: "../prompts/a.md" is not UTF-8 text (invalid byte at offset 13): a system prompt must be UTF-8 text',
    ]);
    expect(await systemFileErrors("Be brief.\0")).toEqual([
      'agents/a.yaml:5:14: Agent/a: system_file: "../prompts/a.md" is not text: it holds a NUL byte at offset 9: a system prompt must be UTF-8 text',
    ]);
  });

  test("UTF-8 text is read as it is, emoji and all; a byte-order mark is dropped", async () => {
    const root = await writeRepo({ "agents/a.yaml": agent("system_file: a.md"), "agents/a.md": "\uFEFFBe brief 🙂\n" });
    const { errors, specs } = await loadProject(root);
    expect(errors).toEqual([]);
    expect(specs.agents[0]?.system).toBe("Be brief 🙂\n");
  });

  test("a prompt over the API's 100,000 characters is refused; exactly 100,000 passes", async () => {
    expect(await systemFileErrors("x".repeat(SYSTEM_PROMPT_MAX_LENGTH + 1))).toEqual([
      'agents/a.yaml:5:14: Agent/a: system_file: "../prompts/a.md" is 100,001 characters long; a system prompt is at most 100,000 characters (the API\'s limit)',
    ]);
    expect(await systemFileErrors("🙂".repeat(SYSTEM_PROMPT_MAX_LENGTH))).toEqual([]);
    // A 10 MB prompt is refused without being read.
    expect(await systemFileErrors(Buffer.alloc(10 * 1024 * 1024, "x"))).toEqual([
      'agents/a.yaml:5:14: Agent/a: system_file: "../prompts/a.md" is 10,485,760 bytes; a system prompt is at most 100,000 characters (the API\'s limit)',
    ]);
  });

  test("the limit is the schema's maxLength of an inline system, counted the same way", async () => {
    const schema = JSON.parse(readFileSync(path.join(SCHEMA_DIR, "agent.schema.json"), "utf8"));
    expect(schema.properties.system.maxLength).toBe(SYSTEM_PROMPT_MAX_LENGTH);
    expect(characterCount("a🙂b")).toBe(3);
    expect(characterCount("\ud83d")).toBe(1);
    const inline = await errorLines({
      "agents/a.yaml": agent(`system: "${"x".repeat(SYSTEM_PROMPT_MAX_LENGTH + 1)}"`),
    });
    expect(inline).toEqual(["agents/a.yaml:5:9: Agent/a: system: must be at most 100000 characters long"]);
  });
});

describe("the API's limits are checked at validate", () => {
  test("lengths and list sizes that map onto spec fields", async () => {
    const lines = await errorLines({
      "agents/a.yaml": yaml(
        V1,
        "kind: Agent",
        "name: a",
        `description: ${"d".repeat(2049)}`,
        `model: {id: ${"m".repeat(257)}, inference_geo: ${"g".repeat(65)}}`,
        `skills: [${Array.from({ length: 21 }, (_, i) => `{type: anthropic, skill_id: s${i}}`).join(", ")}]`,
        `toolsets: [${Array.from({ length: 21 }, (_, i) => `t${i}`).join(", ")}]`,
      ),
      "toolsets/t.yaml": yaml(V1, "kind: McpToolset", "name: t", `url: https://example.com/${"p".repeat(2048)}`),
    });
    expect(lines).toEqual([
      "agents/a.yaml:4:14: Agent/a: description: must be at most 2048 characters long",
      "agents/a.yaml:5:13: Agent/a: model.id: must be at most 256 characters long",
      "agents/a.yaml:5:287: Agent/a: model.inference_geo: must be at most 64 characters long",
      "agents/a.yaml:6:9: Agent/a: skills: has 21 items; at most 20 are allowed",
      "agents/a.yaml:7:11: Agent/a: toolsets: has 21 items; at most 20 are allowed",
      "toolsets/t.yaml:4:6: McpToolset/t: url: must be at most 2048 characters long",
    ]);
  });

  test("more than 256 tools across an agent's toolsets is refused at the agent", async () => {
    const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `{name: ${prefix}${i}}`);
    const custom = (i: number) => `{type: custom, name: c${i}, description: d, input_schema: {type: object}}`;
    const files = (customTools: number) => ({
      "agents/a.yaml": agent(
        "toolsets: [one, two]",
        `tools: [${Array.from({ length: customTools }, (_, i) => custom(i)).join(", ")}]`,
      ),
      "toolsets/one.yaml": yaml(
        V1,
        "kind: McpToolset",
        "name: one",
        "url: https://one.example.com/mcp",
        `tools: [${names("o", 200).join(", ")}]`,
      ),
      "toolsets/two.yaml": yaml(
        V1,
        "kind: McpToolset",
        "name: two",
        "url: https://two.example.com/mcp",
        `tools: [${names("w", 50).join(", ")}]`,
      ),
    });
    expect(await errorLines(files(MAX_TOOLS - 250))).toEqual([]);
    expect(await errorLines(files(MAX_TOOLS - 249))).toEqual([
      "agents/a.yaml:6:1: Agent/a: tools: the agent declares 257 tools (custom tools, built-in tool configs and the allowlists of its toolsets); the API allows at most 256 across all toolsets",
    ]);
  });
});

describe("malformed references are reported as such, located", () => {
  async function errorsFor(files: Record<string, string>): Promise<string[]> {
    const root = await writeRepo({
      "reconcile.yaml": yaml(
        "stack: s",
        "secret_env: [MCP_TOKEN]",
        "targets:",
        "  prod:",
        "    values: {model: claude-sonnet-4-6}",
      ),
      ...files,
    });
    const { config } = await loadProjectConfig(root);
    return (await loadProject(root, { target: selectTarget(config, "prod") })).errors.map(formatSpecError);
  }

  const vault = (token: string) =>
    yaml(
      V1,
      "kind: Vault",
      "name: v",
      "credentials:",
      "  - name: c",
      "    auth:",
      "      type: static_bearer",
      "      mcp_server_url: https://mcp.example.com/mcp",
      `      token: '${token}'`,
    );

  test("an unclosed ${var: is not sent as a literal model id", async () => {
    expect(await errorsFor({ "agents/a.yaml": yaml(V1, "kind: Agent", "name: a", "model: ${var:model") })).toEqual([
      'agents/a.yaml:4:8: Agent/a: model: "${var:model" is not closed: add the closing } (like ${var:NAME})',
    ]);
    expect(
      await errorsFor({
        "agents/a.yaml": yaml(V1, "kind: Agent", "name: a", "model: ${VAR:model}", "description: ${ var:x}"),
      }),
    ).toEqual([
      'agents/a.yaml:4:8: Agent/a: model: "${VAR:" is not a reference: write ${var:NAME}, with var in lower case and no spaces',
      'agents/a.yaml:5:14: Agent/a: description: "${ var:" is not a reference: write ${var:NAME}, with var in lower case and no spaces',
    ]);
  });

  test("malformed secret references are not reported as literal secrets, and never echo the value", async () => {
    const cases: Array<[string, string]> = [
      ["${env:MCP_TOKEN", "the ${env:... reference is not closed: write ${env:NAME}, with the closing }"],
      ["${ENV:MCP_TOKEN}", "a reference is written ${env:NAME}, with env in lower case and no spaces"],
      [
        "${env:bad-name}",
        "the name in ${env:NAME} must be an environment variable name: letters, digits and _, not starting with a digit",
      ],
      ["${env:A}${env:B}", "a secret field holds one ${env:NAME} reference and nothing else"],
      [" ${env:A} ", "a secret field holds one ${env:NAME} reference and nothing else, not even spaces"],
      ["${secret:A}", "a secret reference is written ${env:NAME}: only environment variables are supported"],
    ];
    for (const [token, message] of cases) {
      const lines = await errorsFor({ "v.yaml": vault(token) });
      expect(lines).toEqual([`v.yaml:9:14: Vault/v: credentials[0].auth.token: ${message}`]);
    }
    expect(await errorsFor({ "v.yaml": vault("sk-literal") })).toEqual([
      "v.yaml:9:14: Vault/v: credentials[0].auth.token: literal secrets are not allowed: write a reference to an environment variable instead, like ${env:NAME}",
    ]);
    expect(await errorsFor({ "v.yaml": vault("${env:MCP_TOKEN}") })).toEqual([]);
  });

  test("plain text that only looks like shell syntax stays plain text", () => {
    expect(malformedReference("echo ${HOME} and ${ENV:PATH} and ${env:X", false)).toBeUndefined();
    expect(malformedReference("${var:a} costs $5 {per run}", false)).toBeUndefined();
    expect(malformedReference("${env:A}", true)).toBeUndefined();
    expect(malformedReference("${var:a}", true)).toBeUndefined(); // substitution refuses it, with its own message
  });
});
