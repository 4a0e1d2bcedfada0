/**
 * Every error at once, everywhere (issue 10, item 4), through the real CLI against the emulator, on a fixture of its
 * own: a schema error and a reference error in one file reported together; `--json` commands print errors as JSON
 * on stdout (schemas/errors.schema.json) with exit 1 and nothing but JSON there; plurals; a plan that only keeps
 * orphaned resources does not say "No changes"; FORCE_COLOR colours piped output and NO_COLOR still wins.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { REPO, runCli } from "./helpers.js";

const CANARY = "canary-json-errors-5e1d7a";
const V1 = "apiVersion: reconcile/v1";

let emulator: RunningEmulator;
let dir: string;
let env: Record<string, string>;
let validateReport: (data: unknown) => boolean;

const write = async (file: string, ...lines: string[]) => {
  await mkdir(join(dir, file, ".."), { recursive: true });
  await writeFile(join(dir, file), `${lines.join("\n")}\n`);
};
const cli = (args: string[], extra: Record<string, string> = {}) =>
  runCli([...args, "--dir", dir], { ...env, ...extra });

const GOOD_AGENT = [V1, "kind: Agent", "name: helper", "model: claude-haiku-4-5", "toolsets: [search]"];
const TOOLSET = [V1, "kind: McpToolset", "name: search", "url: https://search.example.com/mcp"];
const VAULT = [
  V1,
  "kind: Vault",
  "name: keys",
  "credentials:",
  "  - name: search",
  "    auth: {type: static_bearer, token: '${env:SEARCH_TOKEN}', toolset: search}",
];

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  dir = await mkdtemp(join(tmpdir(), "reconcile-json-errors-"));
  env = { ANTHROPIC_API_KEY: "test-key", ANTHROPIC_BASE_URL: emulator.url, SEARCH_TOKEN: CANARY };
  await write("reconcile.yaml", "stack: json-errors\nsecret_env: [SEARCH_TOKEN]");
  await write("toolsets/search.yaml", ...TOOLSET);
  await write("agents/helper.yaml", ...GOOD_AGENT);
  await write("vaults/keys.yaml", ...VAULT);
  const schema = JSON.parse(await readFile(join(REPO, "schemas", "errors.schema.json"), "utf8"));
  validateReport = new Ajv2020({ strict: false }).compile(schema);
});

afterAll(async () => {
  await emulator.close();
  await rm(dir, { recursive: true, force: true });
});

describe("errors, all at once and as JSON", () => {
  it("validate counts with correct plurals", async () => {
    const result = await cli(["validate"]);
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("Valid: 3 files (1 agent, 0 environments, 1 vault, 1 toolset).\n");
    expect(result.code).toBe(0);
  });

  it("a schema error and a reference error in one file come out together, in text and in JSON", async () => {
    await write(
      "agents/helper.yaml",
      V1,
      "kind: Agent",
      "name: helper",
      "model: claude-haiku-4-5",
      "descriptoin: x",
      "toolsets: [serch]",
    );
    const text = await cli(["validate"]);
    expect(text.code).toBe(1);
    expect(text.stderr).toContain("agents/helper.yaml:5:");
    expect(text.stderr).toContain(
      'agents/helper.yaml:6:12: Agent/helper: toolsets[0]: unknown McpToolset "serch" (did you mean "search"?)',
    );
    expect(text.stderr).toContain("2 errors.");

    for (const command of [["validate"], ["plan"], ["outputs"], ["export", "--out", join(dir, "exported")]]) {
      const json = await cli([...command, "--json"]);
      expect(json.code, command.join(" ")).toBe(1);
      const report = JSON.parse(json.stdout);
      expect(validateReport(report), JSON.stringify(report)).toBe(true);
      expect(report.ok).toBe(false);
      expect(report.errors.map((e: { type: string; line: number }) => [e.type, e.line])).toEqual([
        ["spec", 5],
        ["spec", 6],
      ]);
      expect(report.errors[1]).toMatchObject({ file: "agents/helper.yaml", kind: "Agent", name: "helper", col: 12 });
      expect(json.stdout + json.stderr).not.toContain(CANARY);
    }
    await write("agents/helper.yaml", ...GOOD_AGENT);
  });

  it("an API error under --json is a JSON report too, without the key", async () => {
    const json = await cli(["plan", "--json"], { ANTHROPIC_API_KEY: "" });
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout);
    expect(validateReport(report)).toBe(true);
    expect(report.errors[0].type).toBe("error");
    expect(report.errors[0].message).toContain("ANTHROPIC_API_KEY");
  });

  it("a plan that only keeps orphaned resources does not say No changes", async () => {
    const applied = await cli(["apply", "--auto-approve"]);
    expect(applied.code, applied.stderr).toBe(0);
    expect((await cli(["plan"])).stdout).toContain("No changes. Live state matches the specs.");
    await rm(join(dir, "vaults"), { recursive: true });
    const plan = await cli(["plan"]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).not.toContain("Live state matches the specs");
    expect(plan.stdout).toContain(
      "No changes to apply; 1 resource no longer declared in the specs is kept (archive it with --prune).",
    );
    const markdown = await cli(["plan", "--markdown"]);
    expect(markdown.stdout).toContain("No changes to apply; 1 resource no longer declared");
    await write("vaults/keys.yaml", ...VAULT);
  });

  it("FORCE_COLOR colours piped output; NO_COLOR wins", async () => {
    await write("agents/helper.yaml", ...GOOD_AGENT, "description: changed");
    const forced = await cli(["plan"], { FORCE_COLOR: "1" });
    expect(forced.stdout).toContain("\u001b[");
    const plain = await cli(["plan"]);
    expect(plain.stdout).not.toContain("\u001b[");
    const both = await cli(["plan"], { FORCE_COLOR: "1", NO_COLOR: "1" });
    expect(both.stdout).not.toContain("\u001b[");
    await write("agents/helper.yaml", ...GOOD_AGENT);
  });
});
