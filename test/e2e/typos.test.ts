/**
 * A typo must never prune (issue 6; DESIGN.md "Identity typos fail closed"; ADR 0010), end to end: the fleet is
 * applied, then one spec file is broken in each of the ways that used to make it vanish silently. Each time
 * `validate` reports the error at its location and `apply --prune --auto-approve` exits 1 having archived nothing.
 * Other tools' YAML is skipped by its apiVersion, or by an `ignore:` entry in reconcile.yaml.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { copyFleet, removeDir, runCli } from "./helpers.js";

const STACK = "typo-tests";
const FILE = join("agents", "ops-agent.yaml");

let emulator: RunningEmulator;
let client: Anthropic;
let dir: string;
let original: string;

const cli = (args: string[]) =>
  runCli([...args, "--dir", dir], {
    ANTHROPIC_API_KEY: "k",
    ANTHROPIC_BASE_URL: emulator.url,
    WORKSPACE_MCP_TOKEN: "t",
    NO_COLOR: "1",
  });

/** The live agents of this stack that are archived. */
async function archivedAgents(): Promise<string[]> {
  const names: string[] = [];
  for await (const agent of client.beta.agents.list({ include_archived: true })) {
    if (agent.metadata["reconcile/stack"] === STACK && agent.archived_at !== null) names.push(agent.name);
  }
  return names;
}

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  client = new Anthropic({ apiKey: "k", baseURL: emulator.url, maxRetries: 0 });
  dir = await copyFleet();
  await writeFile(join(dir, "reconcile.yaml"), `stack: ${STACK}\nsecret_env: [WORKSPACE_MCP_TOKEN]\n`);
  original = await readFile(join(dir, FILE), "utf8");
  const applied = await cli(["apply", "--auto-approve"]);
  expect(applied.code, applied.stderr).toBe(0);
}, 60_000);

afterAll(async () => {
  await emulator.close();
  await removeDir(dir);
});

/** Each typo: how the file is broken, and the located error validate must print. */
const TYPOS: Array<{ name: string; break: (text: string) => string; error: string }> = [
  {
    name: "a misspelt apiVersion",
    break: (text) => text.replace("apiVersion: reconcile/v1", "apiVersion: reconcle/v1"),
    error:
      'agents/ops-agent.yaml:2:13: Agent/ops-agent: unsupported apiVersion "reconcle/v1" (did you mean "reconcile/v1"?)',
  },
  {
    name: "quoted keys with a syntax error",
    break: (text) =>
      `${text.replace("apiVersion:", '"apiVersion":').replace("kind:", '"kind":')}"metadata2": {team: platform\n`,
    error: "agents/ops-agent.yaml:",
  },
  {
    name: "a flow-style document with a syntax error",
    break: () => "{apiVersion: reconcile/v1, kind: Agent, name: ops-agent, model: claude-opus-4-7\n",
    error: "agents/ops-agent.yaml:2:1: invalid YAML: Flow map must end with a }",
  },
  {
    name: "a top-level list",
    break: (text) =>
      text
        .split("\n")
        .filter((line) => !line.startsWith("#"))
        .map((line, i) => (i === 0 ? `- ${line}` : line === "" ? line : `  ${line}`))
        .join("\n"),
    error: "agents/ops-agent.yaml:1:1: a spec is a mapping",
  },
  {
    name: "a binary file",
    break: (text) => `${text}\0\0\0`,
    error: "agents/ops-agent.yaml:1:1: the file is not text: it holds a NUL byte",
  },
];

describe("a broken spec file is an error, never a removal", () => {
  for (const typo of TYPOS) {
    it(`${typo.name}: validate and apply --prune exit 1, nothing is archived`, async () => {
      await writeFile(join(dir, FILE), typo.break(original));
      try {
        const validate = await cli(["validate"]);
        expect(validate.code).toBe(1);
        expect(validate.stdout).toBe("");
        expect(validate.stderr).toContain(typo.error);
        const apply = await cli(["apply", "--prune", "--auto-approve"]);
        expect(apply.code).toBe(1);
        expect(apply.stderr).toContain(typo.error);
        expect(apply.stdout).not.toContain("archive");
        expect(await archivedAgents()).toEqual([]);
      } finally {
        await writeFile(join(dir, FILE), original);
      }
    }, 60_000);
  }

  it("the repaired fleet plans to zero changes under prune", async () => {
    const plan = await cli(["plan", "--prune", "--detailed-exitcode"]);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    expect(await archivedAgents()).toEqual([]);
  }, 60_000);
});

describe("a system prompt the API would refuse is refused at validate", () => {
  const PROMPT = join("prompts", "export-support.md");
  const cases: Array<[string, Buffer, string]> = [
    [
      "10 MB",
      Buffer.alloc(10 * 1024 * 1024, "x"),
      'agents/export-support.yaml:7:14: Agent/export-support: system_file: "../prompts/export-support.md" is 10,485,760 bytes; a system prompt is at most 100,000 characters',
    ],
    [
      "binary",
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff]),
      'agents/export-support.yaml:7:14: Agent/export-support: system_file: "../prompts/export-support.md" is not UTF-8 text',
    ],
  ];
  for (const [name, content, error] of cases) {
    it(`${name}: validate and apply exit 1, the live prompt is unchanged`, async () => {
      const prompt = await readFile(join(dir, PROMPT));
      await writeFile(join(dir, PROMPT), content);
      try {
        const validate = await cli(["validate"]);
        expect(validate.code).toBe(1);
        expect(validate.stderr).toContain(error);
        const apply = await cli(["apply", "--auto-approve"]);
        expect(apply.code).toBe(1);
        expect(apply.stderr).toContain(error);
      } finally {
        await writeFile(join(dir, PROMPT), prompt);
      }
      const plan = await cli(["plan", "--detailed-exitcode"]);
      expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    }, 60_000);
  }
});

describe("other tools' YAML next to the specs", () => {
  it("is skipped by a foreign apiVersion or an ignore: entry; compose files need the entry", async () => {
    await mkdir(join(dir, "k8s"), { recursive: true });
    await writeFile(join(dir, "k8s", "web.yaml"), "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n");
    await mkdir(join(dir, "charts", "web", "templates"), { recursive: true });
    await writeFile(
      join(dir, "charts", "web", "templates", "svc.yaml"),
      "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Values.name }\n",
    );
    await writeFile(join(dir, "docker-compose.yml"), "services:\n  web:\n    image: nginx\n");

    const unlisted = await cli(["validate"]);
    expect(unlisted.code).toBe(1);
    expect(unlisted.stderr).toContain("charts/web/templates/svc.yaml:5:1: invalid YAML");
    expect(unlisted.stderr).toContain("docker-compose.yml:1:1: not a reconcile spec");
    expect(unlisted.stderr).not.toContain("k8s/web.yaml");

    await writeFile(
      join(dir, "reconcile.yaml"),
      `stack: ${STACK}\nsecret_env: [WORKSPACE_MCP_TOKEN]\nignore:\n  - charts/\n  - docker-compose.yml\n`,
    );
    const listed = await cli(["validate"]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain("Valid");
    const plan = await cli(["plan", "--prune", "--detailed-exitcode"]);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
  }, 60_000);

  it("an ignore: pattern that hides a spec is an error, not a removal", async () => {
    await writeFile(
      join(dir, "reconcile.yaml"),
      `stack: ${STACK}\nsecret_env: [WORKSPACE_MCP_TOKEN]\nignore:\n  - agents/ops-*.yaml\n`,
    );
    try {
      const validate = await cli(["validate"]);
      expect(validate.code).toBe(1);
      expect(validate.stderr).toContain(
        'agents/ops-agent.yaml:2:1: this file holds a reconcile document (apiVersion: reconcile/v1) but is ignored by "agents/ops-*.yaml" (reconcile.yaml:4:5)',
      );
      expect((await cli(["apply", "--prune", "--auto-approve"])).code).toBe(1);
      expect(await archivedAgents()).toEqual([]);
    } finally {
      await writeFile(join(dir, "reconcile.yaml"), `stack: ${STACK}\nsecret_env: [WORKSPACE_MCP_TOKEN]\n`);
    }
  }, 60_000);
});
