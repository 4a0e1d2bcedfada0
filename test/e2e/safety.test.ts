/**
 * Destruction is opt-in, end to end: prune is off by default and on with `--prune`; a plan that would archive most
 * of a stack is refused without `--allow-mass-prune`; `protect: true` blocks archive and replace even after the
 * spec is gone; and two stacks in one workspace never touch each other's resources.
 */
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { isLockAgent } from "../../src/providers/lock.js";
import { copyFleet, removeDir, runCli } from "./helpers.js";

let emulator: RunningEmulator;
let client: Anthropic;
let env: Record<string, string>;
const dirs: string[] = [];

async function fleet(): Promise<string> {
  const dir = await copyFleet();
  dirs.push(dir);
  return dir;
}

async function agents() {
  const out = [];
  for await (const agent of client.beta.agents.list({ include_archived: true })) out.push(agent);
  return out;
}

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  client = new Anthropic({ apiKey: "k", baseURL: emulator.url, maxRetries: 0 });
  env = { ANTHROPIC_API_KEY: "k", ANTHROPIC_BASE_URL: emulator.url, WORKSPACE_MCP_TOKEN: "t" };
});

afterAll(async () => {
  await emulator.close();
  for (const dir of dirs) await removeDir(dir);
});

describe("prune and protect", () => {
  let dir: string;
  const workspace = { ANTHROPIC_API_KEY: "k", WORKSPACE_MCP_TOKEN: "t" };
  const cli = (args: string[]) => runCli([...args, "--dir", dir], { ...workspace, ANTHROPIC_BASE_URL: emulator.url });

  beforeAll(async () => {
    dir = await fleet();
    await writeFile(join(dir, "reconcile.yaml"), "stack: prune-tests\nsecret_env: [WORKSPACE_MCP_TOKEN]\n");
    await writeFile(
      join(dir, "environments", "guarded.yaml"),
      "apiVersion: reconcile/v1\nkind: Environment\nname: guarded\nprotect: true\nconfig:\n  type: cloud\n",
    );
    expect((await cli(["apply", "--auto-approve"])).code).toBe(0);
  });

  it("records protection on the live resource", async () => {
    const envs = [];
    for await (const e of client.beta.environments.list()) envs.push(e);
    const guarded = envs.find((e) => e.name === "guarded" && e.metadata["reconcile/stack"] === "prune-tests");
    expect(guarded?.metadata["reconcile/lifecycle"]).toBe("protect");
  });

  it("keeps a removed spec's resource unless --prune, then archives it", async () => {
    await rm(join(dir, "agents", "email-meeting-manager.yaml"));
    const kept = await cli(["plan", "--detailed-exitcode"]);
    expect(kept.code).toBe(0);
    expect(kept.stdout).toContain("= agent.email-meeting-manager");
    expect(kept.stdout).toContain("archive them with --prune");
    const pruned = await cli(["plan", "--prune", "--detailed-exitcode"]);
    expect(pruned.code).toBe(2);
    expect(pruned.stdout).toContain("- agent.email-meeting-manager");
    expect(pruned.stdout).toContain("Plan: 0 to create, 0 to update, 0 to replace, 1 to archive.");
    expect((await cli(["apply", "--prune", "--auto-approve"])).code).toBe(0);
    const archived = (await agents()).find(
      (a) => a.name === "email-meeting-manager" && a.metadata["reconcile/stack"] === "prune-tests",
    );
    expect(archived?.archived_at).not.toBeNull();
    expect((await cli(["plan", "--prune", "--detailed-exitcode"])).code).toBe(0);
  });

  it("refuses to replace a protected resource", async () => {
    await writeFile(
      join(dir, "environments", "guarded.yaml"),
      "apiVersion: reconcile/v1\nkind: Environment\nname: guarded\nprotect: true\nconfig:\n  type: self_hosted\n",
    );
    const result = await cli(["plan"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("environment.guarded is protected, but the specs would replace it");
    expect(result.stderr).toContain("nothing was changed");
  });

  it("refuses to prune a protected resource whose spec is gone", async () => {
    await rm(join(dir, "environments", "guarded.yaml"));
    const result = await cli(["plan", "--prune"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/environment\.guarded \(env_\w+\) is protected and no longer declared/);
    const plain = await cli(["plan", "--detailed-exitcode"]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain("= environment.guarded");
  });

  it("refuses a plan that would archive most of the stack, unless --allow-mass-prune", async () => {
    await writeFile(
      join(dir, "environments", "guarded.yaml"),
      "apiVersion: reconcile/v1\nkind: Environment\nname: guarded\nconfig:\n  type: cloud\n",
    );
    expect((await cli(["apply", "--auto-approve"])).code).toBe(0); // protection off
    for (const folder of ["agents", "environments", "vaults", "toolsets", "memory-stores", "tunnels", "deployments"])
      await rm(join(dir, folder), { recursive: true });
    const refused = await cli(["plan", "--prune"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /this plan removes \(archives or deletes\) 10 of the 11 resources stack "prune-tests" owns \(more than max_prune_share 50%\)/,
    );
    expect(refused.stderr).toContain("--allow-mass-prune");
    const allowed = await cli(["plan", "--prune", "--allow-mass-prune", "--detailed-exitcode"]);
    expect(allowed.code).toBe(2);
    expect(allowed.stdout).toContain("9 to archive.");
  });
});

describe("on_prune: delete", () => {
  it("deletes (not archives) a pruned resource whose spec said so", async () => {
    const dir = await fleet();
    await writeFile(join(dir, "reconcile.yaml"), "stack: delete-tests\nsecret_env: [WORKSPACE_MCP_TOKEN]\n");
    const file = join(dir, "environments", "scratch.yaml");
    await writeFile(
      file,
      "apiVersion: reconcile/v1\nkind: Environment\nname: scratch\non_prune: delete\nconfig:\n  type: cloud\n",
    );
    expect((await runCli(["apply", "--auto-approve", "--dir", dir], env)).code).toBe(0);
    const envs = [];
    for await (const e of client.beta.environments.list()) envs.push(e);
    const scratch = envs.find((e) => e.metadata["reconcile/stack"] === "delete-tests" && e.name === "scratch");
    expect(scratch?.metadata["reconcile/lifecycle"]).toBe("delete");
    await rm(file);
    const plan = await runCli(["plan", "--prune", "--dir", dir], env);
    expect(plan.stdout).toContain("- environment.scratch");
    expect(plan.stdout).toContain("Plan: 0 to create, 0 to update, 0 to replace, 0 to archive, 1 to delete.");
    const applied = await runCli(["apply", "--prune", "--auto-approve", "--dir", dir], env);
    expect(applied.stdout).toMatch(/✓ environment\.scratch: deleted/);
    await expect(client.beta.environments.retrieve(scratch?.id ?? "")).rejects.toMatchObject({ status: 404 });
  });
});

describe("two stacks in one workspace", () => {
  it("never plan or apply changes to each other's resources", async () => {
    const a = await fleet();
    const b = await fleet();
    await writeFile(join(a, "reconcile.yaml"), "stack: team-a\nsecret_env: [WORKSPACE_MCP_TOKEN]\n");
    await writeFile(join(b, "reconcile.yaml"), "stack: team-b\nsecret_env: [WORKSPACE_MCP_TOKEN]\n");
    for (const file of ["email-meeting-manager.yaml", "export-support.yaml"]) await rm(join(b, "agents", file));
    expect((await runCli(["apply", "--auto-approve", "--dir", a], env)).code).toBe(0);
    expect((await runCli(["apply", "--auto-approve", "--dir", b], env)).code).toBe(0);
    expect((await runCli(["plan", "--detailed-exitcode", "--dir", a], env)).code).toBe(0);
    expect((await runCli(["plan", "--detailed-exitcode", "--dir", b], env)).code).toBe(0);

    for (const folder of ["agents", "environments", "vaults", "toolsets", "deployments"])
      await rm(join(b, folder), { recursive: true });
    const wiped = await runCli(["apply", "--prune", "--allow-mass-prune", "--auto-approve", "--dir", b], env);
    expect(wiped.code).toBe(0);
    expect(wiped.stdout).not.toMatch(/team-a/);
    const all = await agents();
    const live = (stack: string) =>
      all.filter((x) => x.metadata["reconcile/stack"] === stack && x.archived_at === null && !isLockAgent(x.metadata));
    expect(live("team-b")).toEqual([]);
    expect(
      live("team-a")
        .map((x) => x.name)
        .sort(),
    ).toEqual(["email-meeting-manager", "export-support", "ops-agent"]);
    expect((await runCli(["plan", "--detailed-exitcode", "--dir", a], env)).code).toBe(0);
  }, 120_000); // seven CLI runs: slow on a loaded 2-core machine
});
