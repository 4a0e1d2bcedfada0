/**
 * Using reconcile in your own repository (issue 10, items 1-3), end to end through the CLI:
 * - following the tool's own hints works: `apply FILE` of a plan made with `--target production`, or with `--local`
 *   (no API key), uses the recorded target and local-ness; a conflicting flag is an error naming both; `show FILE`;
 * - targets are fully separate: `adopt:` entries per target, one `--local` state file per target, `--only`;
 * - `init` scaffolds a repository that validates and applies; a directory without `reconcile.yaml` says how to start;
 * - the example fleet at the root (a template users edit) validates and applies.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { schemaProblems } from "../../src/spec/validate.js";
import { copyFleet, REPO, removeDir, runCli } from "./helpers.js";

const CANARY = "canary-own-repo-7d21";
const dirs: string[] = [];
let emulator: RunningEmulator;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
});
afterAll(async () => {
  await emulator.close();
});
afterEach(async () => {
  for (const dir of dirs.splice(0)) await removeDir(dir);
});

/** Runs of the CLI take seconds each on a loaded machine. */
const SLOW_MS = 240_000;

let workspaces = 0;
/** Fresh workspace ids for each test (one emulator serves the whole file). */
let ws = { staging: "", production: "" };

/**
 * A copy of the test fleet with two targets, production and staging (the default), in fresh workspaces of the
 * emulator (`ws`).
 */
async function twoTargets(extra = ""): Promise<string> {
  const dir = await copyFleet();
  dirs.push(dir);
  workspaces++;
  ws = { staging: `wrkspc_staging${workspaces}`, production: `wrkspc_production${workspaces}` };
  await writeFile(
    join(dir, "reconcile.yaml"),
    [
      "stack: own-repo",
      "secret_env: [WORKSPACE_MCP_TOKEN]",
      "default_target: staging",
      "targets:",
      "  staging:",
      `    workspace_id: ${ws.staging}`,
      "  production:",
      "    api_key_env: PROD_KEY",
      `    workspace_id: ${ws.production}`,
      extra,
    ].join("\n"),
  );
  return dir;
}

const env = { ANTHROPIC_API_KEY: "k", PROD_KEY: "p", WORKSPACE_MCP_TOKEN: CANARY };
const remote = () => ({ ...env, ANTHROPIC_BASE_URL: emulator.url });

async function agentsIn(workspace: string) {
  const client = new Anthropic({
    apiKey: "k",
    baseURL: emulator.url,
    maxRetries: 0,
    defaultHeaders: { "anthropic-workspace-id": workspace },
  });
  const out = [];
  for await (const agent of client.beta.agents.list()) out.push(agent);
  return { client, agents: out };
}

describe("apply FILE uses the target and local-ness the plan was made with", () => {
  it(
    "applies a plan made with --target production as printed, and refuses a conflicting --target naming both",
    async () => {
      const dir = await twoTargets();
      const file = join(dir, "p.json");
      const planned = await runCli(["plan", "--target", "production", "--out", file, "--dir", dir], remote());
      expect(planned.code, planned.stderr).toBe(0);
      expect(planned.stderr).toContain(`Apply exactly this plan with: reconcile apply ${file} --dir ${dir}`);
      const saved = JSON.parse(await readFile(file, "utf8"));
      expect(saved).toMatchObject({ target: "production", options: { local: false } });
      expect(schemaProblems("plan.schema.json", saved)).toEqual([]);

      const conflict = await runCli(["apply", file, "--target", "staging", "--dir", dir], remote());
      expect(conflict.code).toBe(1);
      expect(conflict.stderr).toContain('made for target "production"');
      expect(conflict.stderr).toContain("--target staging");
      const local = await runCli(["apply", file, "--local", "--dir", dir], remote());
      expect(local.code).toBe(1);
      expect(local.stderr).toContain("--local");
      expect(local.stderr).toContain('target "production"');
      expect((await agentsIn(ws.production)).agents).toEqual([]);

      const applied = await runCli(["apply", file, "--dir", dir], remote());
      expect(applied.code, applied.stderr).toBe(0);
      const names = (await agentsIn(ws.production)).agents.map((a) => a.name);
      expect(names).toEqual(expect.arrayContaining(["email-meeting-manager", "export-support", "ops-agent"]));
      expect((await agentsIn(ws.staging)).agents).toEqual([]);
    },
    SLOW_MS,
  );

  it(
    "applies a --local plan with no API key, and shows a saved plan without applying it",
    async () => {
      const dir = await twoTargets();
      const file = join(dir, "local.json");
      const noKey = { WORKSPACE_MCP_TOKEN: CANARY };
      const planned = await runCli(["plan", "--local", "--target", "production", "--out", file, "--dir", dir], noKey);
      expect(planned.code, planned.stderr).toBe(0);

      const shown = await runCli(["show", file], {});
      expect(shown.code, shown.stderr).toBe(0);
      expect(shown.stdout).toContain("Saved plan for stack own-repo, target production (--local)");
      expect(shown.stdout).toContain("+ agent.ops-agent");
      const json = await runCli(["show", "--json", file], {});
      expect(JSON.parse(json.stdout)).toEqual(JSON.parse(await readFile(file, "utf8")));
      const markdown = await runCli(["show", "--markdown", file], {});
      expect(markdown.stdout).toContain("<!-- reconcile: part 1 of 1 -->");
      for (const out of [shown.stdout, json.stdout, markdown.stdout]) expect(out).not.toContain(CANARY);
      const notAPlan = await runCli(["show", join(dir, "reconcile.yaml")], {});
      expect(notAPlan.code).toBe(1);
      expect(notAPlan.stderr).toContain("is not a reconcile plan");
      // show never connects or writes: nothing was applied.
      expect(existsSync(join(dir, ".reconcile", "local-state.production.json"))).toBe(false);

      const applied = await runCli(["apply", file, "--dir", dir], noKey);
      expect(applied.code, applied.stderr).toBe(0);
      expect(applied.stdout).toContain("Apply complete: 11 resources changed.");
      // One state file per target: production's own, the default target's untouched.
      expect(existsSync(join(dir, ".reconcile", "local-state.production.json"))).toBe(true);
      expect(existsSync(join(dir, ".reconcile", "local-state.json"))).toBe(false);
      const again = await runCli(
        ["plan", "--local", "--target", "production", "--detailed-exitcode", "--dir", dir],
        noKey,
      );
      expect(again.code).toBe(0);
      const staging = await runCli(["plan", "--local", "--detailed-exitcode", "--dir", dir], noKey);
      expect(staging.code).toBe(2);
      expect(staging.stdout).toMatch(/Plan: 11 to create/);
    },
    SLOW_MS,
  );
});

describe("targets are separate", () => {
  it(
    "adopt: entries apply to their target only",
    async () => {
      const dir = await twoTargets();
      const { client } = await agentsIn(ws.production);
      const live = await client.beta.agents.create({ name: "ops-agent", model: "claude-opus-4-7" });
      const adopt = ["adopt:", "  - address: agent.ops-agent", `    id: ${live.id}`, "    target: production", ""];
      await writeFile(
        join(dir, "reconcile.yaml"),
        `${await readFile(join(dir, "reconcile.yaml"), "utf8")}\n${adopt.join("\n")}`,
      );
      const prod = await runCli(["plan", "--json", "--target", "production", "--dir", dir], remote());
      expect(prod.code, prod.stderr).toBe(0);
      expect(JSON.parse(prod.stdout).summary).toMatchObject({ adopt: 1, create: 10 });
      const staging = await runCli(["plan", "--json", "--dir", dir], remote());
      expect(staging.code, staging.stderr).toBe(0);
      expect(JSON.parse(staging.stdout).summary).toMatchObject({ adopt: 0, create: 11 });
      expect(JSON.parse(staging.stdout).warnings.join("\n")).not.toContain(live.id);

      const imported = await runCli(
        ["import", "agent", "ops-agent", live.id, "--target", "production", "--dir", dir],
        remote(),
      );
      expect(imported.code, imported.stderr).toBe(0);
      expect(await readFile(join(dir, "reconcile.yaml"), "utf8")).toContain("target: production");
    },
    SLOW_MS,
  );

  it(
    "an adopt: entry naming an undeclared target is a located error",
    async () => {
      const dir = await twoTargets(
        ["adopt:", "  - address: agent.ops-agent", "    id: agent_1", "    target: prod", ""].join("\n"),
      );
      const result = await runCli(["validate", "--dir", dir], {});
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /reconcile\.yaml:\d+:\d+: .*"prod" is not a declared target; declared targets: staging, production/,
      );
    },
    SLOW_MS,
  );

  it(
    "--only plans the named resources and their dependencies, warns, and a saved partial plan keeps it",
    async () => {
      const dir = await twoTargets();
      const noKey = { WORKSPACE_MCP_TOKEN: CANARY };
      const only = ["--only", "credential.email-meeting-manager/workspace-mcp"];
      const planned = await runCli(["plan", "--local", "--json", ...only, "--dir", dir], noKey);
      expect(planned.code, planned.stderr).toBe(0);
      const plan = JSON.parse(planned.stdout);
      expect(plan.actions.map((a: { address: string }) => a.address)).toEqual([
        "vault.email-meeting-manager",
        "credential.email-meeting-manager/workspace-mcp",
      ]);
      expect(plan.options.only).toEqual(["credential.email-meeting-manager/workspace-mcp"]);
      expect(plan.warnings[0]).toContain("this plan is partial");
      const text = await runCli(["plan", "--local", ...only, "--dir", dir], noKey);
      expect(text.stdout).toContain("this plan is partial");

      const file = join(dir, "partial.json");
      expect((await runCli(["plan", "--local", ...only, "--out", file, "--dir", dir], noKey)).code).toBe(0);
      const changed = await runCli(["apply", file, "--only", "agent.ops-agent", "--dir", dir], noKey);
      expect(changed.code).toBe(1);
      expect(changed.stderr).toContain("--only are fixed by the saved plan");
      const applied = await runCli(["apply", file, "--dir", dir], noKey);
      expect(applied.code, applied.stderr).toBe(0);
      expect(applied.stdout).toContain("Apply complete: 2 resources changed.");
      const rest = await runCli(["plan", "--local", "--json", "--dir", dir], noKey);
      expect(JSON.parse(rest.stdout).summary).toMatchObject({ create: 9, unchanged: 2 });

      const unknown = await runCli(["plan", "--local", "--only", "agent.nope", "--dir", dir], noKey);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain("--only agent.nope: no spec and no live resource");
    },
    SLOW_MS,
  );

  it(
    "--target with a resource address answers with the --only hint",
    async () => {
      const dir = await twoTargets();
      const result = await runCli(["plan", "--local", "--target", "agent.ops-agent", "--dir", dir], {});
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("use --only agent.ops-agent");
    },
    SLOW_MS,
  );
});

describe("your own repository", () => {
  it(
    "init scaffolds a repository that validates and applies with --local, and refuses to init twice",
    async () => {
      const parent = await mkdtemp(join(tmpdir(), "reconcile-init-"));
      dirs.push(parent);
      const dir = join(parent, "Support Agents");
      await mkdir(dir);
      await writeFile(join(dir, ".gitignore"), "node_modules/");
      const init = await runCli(["init", "--dir", dir], {});
      expect(init.code, init.stderr).toBe(0);
      expect(await readFile(join(dir, "reconcile.yaml"), "utf8")).toContain("stack: support-agents");
      expect(await readFile(join(dir, ".gitignore"), "utf8")).toBe("node_modules/\n.reconcile/\n");
      expect(existsSync(join(dir, ".github", "workflows", "reconcile.yml"))).toBe(true);
      for (const file of [
        "agents/assistant.yaml",
        "environments/sandbox.yaml",
        "vaults/assistant.yaml",
        "toolsets/docs.yaml",
        "memory-stores/assistant-notes.yaml",
        "deployments/assistant-daily.yaml",
        "skills/docs-style.yaml",
        "tunnels/office.yaml",
        "reconcile.yaml",
      ]) {
        const schema = (await readFile(join(dir, file), "utf8")).match(/\$schema=(\S+)/)?.[1] ?? "";
        expect(existsSync(resolve(dirname(join(dir, file)), schema)), `${file}: ${schema}`).toBe(true);
      }
      const validate = await runCli(["validate", "--dir", dir], {});
      expect(validate.stdout).toContain(
        "Valid: 8 files (1 agent, 1 environment, 1 vault, 1 toolset, 1 memory store, 1 skill, 1 tunnel, 1 deployment)",
      );
      expect(existsSync(join(dir, "skills", "docs-style", "SKILL.md"))).toBe(true);
      const applied = await runCli(["apply", "--local", "--auto-approve", "--dir", dir], {});
      expect(applied.code, applied.stderr).toBe(0);
      expect(applied.stdout).toContain("Apply complete: 8 resources changed.");
      // One spec of each kind: the agent uses the skill, and the plan after apply is empty.
      expect(applied.stdout).toMatch(/skill\.docs-style: created/);
      expect(applied.stdout).toMatch(/tunnel\.office: created/);
      const again = await runCli(["plan", "--local", "--detailed-exitcode", "--dir", dir], {});
      expect(again.code, again.stdout + again.stderr).toBe(0);

      const twice = await runCli(["init", "--dir", dir], {});
      expect(twice.code).toBe(1);
      expect(twice.stderr).toContain("already has a reconcile.yaml");
      expect(await readFile(join(dir, ".gitignore"), "utf8")).toBe("node_modules/\n.reconcile/\n");
      const badStack = await runCli(["init", "--dir", join(parent, "x"), "--stack", "Bad_Stack"], {});
      expect(badStack.code).toBe(1);
      expect(badStack.stderr).toContain("is not a valid stack id");
      expect(existsSync(join(parent, "x", "reconcile.yaml"))).toBe(false);
    },
    SLOW_MS,
  );

  it(
    "a directory without reconcile.yaml is an error that says to run reconcile init",
    async () => {
      const empty = await mkdtemp(join(tmpdir(), "reconcile-empty-"));
      dirs.push(empty);
      for (const args of [["validate"], ["plan", "--local"], ["apply", "--local", "--auto-approve"]]) {
        const result = await runCli(args, {}, empty);
        expect(result.code, args.join(" ")).toBe(1);
        expect(result.stderr).toContain("no reconcile.yaml in");
        expect(result.stderr).toContain("reconcile init");
        expect(result.stdout).not.toContain("Valid");
      }
      expect(existsSync(join(empty, ".reconcile"))).toBe(false);
    },
    SLOW_MS,
  );

  it(
    "the example fleet at the repository root validates and applies (the only test that uses it)",
    async () => {
      const dir = await copyFleet(REPO);
      dirs.push(dir);
      expect((await runCli(["validate", "--dir", dir], {})).code).toBe(0);
      const applied = await runCli(["apply", "--local", "--auto-approve", "--dir", dir], {});
      expect(applied.code, applied.stderr).toBe(0);
      expect((await runCli(["plan", "--local", "--detailed-exitcode", "--dir", dir], {})).code).toBe(0);
    },
    SLOW_MS,
  );
});
