/**
 * The CLI end to end against the embedded emulator (`--local`) with hostile specs: control characters, bidi
 * overrides and Markdown/HTML constructs in a system prompt and a description never reach the terminal raw (plan text,
 * JSON, Markdown, apply progress, errors); `plan --markdown` prints the comment parts; `plan --out` into a missing
 * directory says so; a secret applied with `--local` is not recoverable from the emulator's state file.
 */
import { createHash } from "node:crypto";
import { appendFile, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import MarkdownIt from "markdown-it";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator } from "../../src/emulator/index.js";
import { UNSAFE_RAW } from "../reconcile/render-fixtures.js";
import { copyFleet, removeDir, runCli } from "./helpers.js";

const CANARY = "canary-e2e-render-51c0a7f3";
const env = { WORKSPACE_MCP_TOKEN: CANARY };
const HOSTILE_PROMPT = [
  "",
  "\u001b[1A\u001b[2KEverything is fine.",
  "bell\u0007 csi\u009b bidi\u202eevil\u202c",
  "</details>",
  "```",
  "@someone #1 GH-2 owner/repo#3 <img src=x onerror=alert(1)>",
].join("\n");

describe("hostile specs on the command line (--local)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await copyFleet();
    const first = await runCli(["apply", "--local", "--auto-approve", "--dir", dir], env);
    expect(first.code).toBe(0);
    await appendFile(join(dir, "prompts", "export-support.md"), HOSTILE_PROMPT);
    const agent = join(dir, "agents", "export-support.yaml");
    const text = await readFile(agent, "utf8");
    await writeFile(agent, text.replace(/^description: .*$/m, 'description: "desc \\e[2K \\u202e @someone #1"'));
  });
  afterAll(() => removeDir(dir));

  it("plan prints every control character escaped", async () => {
    const result = await runCli(["plan", "--local", "--dir", dir], env);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toMatch(UNSAFE_RAW);
    expect(result.stderr).not.toMatch(UNSAFE_RAW);
    expect(result.stdout).toContain("+\\u001b[1A\\u001b[2KEverything is fine.");
    expect(result.stdout).toContain('"desc \\u001b[2K \\u202e @someone #1"');
  });

  it("plan --json keeps them as JSON escapes, and the JSON holds the real characters", async () => {
    const result = await runCli(["plan", "--local", "--json", "--dir", dir], env);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toMatch(UNSAFE_RAW);
    const plan = JSON.parse(result.stdout);
    const system = plan.actions[0].changes.find((c: { path: string }) => c.path === "system");
    expect(system.after).toContain("\u001b[1A\u001b[2KEverything is fine.\nbell\u0007 csi\u009b bidi\u202eevil\u202c");
  });

  it("plan --markdown prints each comment part after a part line, safely escaped", async () => {
    const result = await runCli(["plan", "--local", "--markdown", "--dir", dir], env);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toMatch(UNSAFE_RAW);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toBe("<!-- reconcile: part 1 of 1 -->");
    expect(lines[1]).toBe("<!-- reconcile-plan stack=example-fleet target=default -->");
    expect(lines[2]).toMatch(/^<!-- reconcile-plan-meta \{"part":1,"of":1,"digest":"[0-9a-f]{32}"\} -->$/);
    expect(result.stdout).toContain("**Plan: 0 to create, 1 to update, 0 to replace, 0 to archive.**");
    const html = new MarkdownIt({ html: true }).render(result.stdout);
    expect(html).not.toMatch(/<img/);
    expect(html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(result.stdout).not.toContain(CANARY);
  });

  it("--markdown and --json exclude each other", async () => {
    const result = await runCli(["plan", "--local", "--markdown", "--json", "--dir", dir], env);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/--markdown.*cannot be used with.*--json|--json.*cannot be used with.*--markdown/);
  });

  it("apply prints the plan and its progress escaped", async () => {
    const result = await runCli(["apply", "--local", "--auto-approve", "--dir", dir], env);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toMatch(UNSAFE_RAW);
    expect(result.stdout).toMatch(/✓ agent\.export-support: updated \(agent_/);
  });

  it("a secret applied with --local is not recoverable from the state file", async () => {
    const state = await readFile(join(dir, ".reconcile", "local-state.json"), "utf8");
    const sha = createHash("sha256").update(CANARY).digest();
    for (const leak of [CANARY, sha.toString("hex"), sha.toString("base64"), Buffer.from(CANARY).toString("base64")]) {
      expect(state).not.toContain(leak);
    }
    expect(state).toMatch(/"token": "hmac-sha256:[0-9a-f]{64}"/);
  });

  it("a spec error quoting a hostile name prints it escaped (plan and validate)", async () => {
    const bad = await copyFleet();
    try {
      await writeFile(
        join(bad, "environments", "evil.yaml"),
        'apiVersion: reconcile/v1\nkind: Environment\nname: "evil\\e[2K\\u202e"\nconfig: { type: cloud }\n',
      );
      for (const args of [["plan", "--local"], ["validate"]]) {
        const result = await runCli([...args, "--dir", bad], env);
        expect(result.code).toBe(1);
        expect(result.stderr).toContain("evil\\u001b[2K\\u202e");
        expect(result.stderr).not.toMatch(UNSAFE_RAW);
      }
    } finally {
      await removeDir(bad);
    }
  });
});

describe("plan --out into a missing directory", () => {
  it("says the directory does not exist, in one line, before planning", async () => {
    const dir = await copyFleet();
    try {
      const out = join(dir, "missing", "dir", "p.json");
      const result = await runCli(["plan", "--local", "--out", out, "--dir", dir], env);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe("");
      expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(result.stderr).toBe(
        `Error: cannot save the plan to ${out}: the directory ${join(dir, "missing", "dir")} does not exist; create it or choose another --out path\n`,
      );
      expect(result.stderr).not.toContain(".tmp");
      expect(result.stderr).not.toContain("ENOENT");
    } finally {
      await removeDir(dir);
    }
  });
});

describe("live state with control characters", () => {
  it("export prints live names and descriptions escaped", async () => {
    const emulator = await startEmulator({ port: 0 });
    const dir = await copyFleet();
    try {
      const client = new Anthropic({ apiKey: "k", baseURL: emulator.url, maxRetries: 0 });
      await client.beta.agents.create({
        name: "console\u001b[2K agent \u202eevil",
        model: "claude-sonnet-4-6",
        description: "made in the console \u0007",
      });
      const result = await runCli(["export", "--out", join(dir, "exported"), "--dir", dir], {
        ANTHROPIC_API_KEY: "k",
        ANTHROPIC_BASE_URL: emulator.url,
      });
      expect(result.code).toBe(0);
      expect(result.stdout).toContain("agent.");
      expect(result.stdout).not.toMatch(UNSAFE_RAW);
      expect(result.stderr).not.toMatch(UNSAFE_RAW);
    } finally {
      await emulator.close();
      await removeDir(dir);
    }
  });
});
