/**
 * `reconcile export` of skills, tunnels and deployments, end to end: each kind made out of band with the official
 * SDK against the emulator (the way a console user makes them), exported with the real CLI into an empty repository,
 * then planned: only adoptions without a single field change, and after apply `plan --detailed-exitcode` exits 0.
 * A second export skips what now has specs. The skill's files are written byte for byte (binary, CRLF), the agent
 * names the custom skill by spec name, the deployment names its agent, environment, vault and memory store by spec
 * name and keeps its version pin, schedule, budget, message and pause.
 */
import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import Anthropic, { toFile } from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { runCli } from "./helpers.js";

type Obj = Record<string, unknown>;

const betas = ["skills-2025-10-02"];
const SLOW = 240_000;

const RUNBOOK_MD = "---\nname: incident-runbook\ndescription: What to do when an alert fires.\n---\n\n# Runbook\n";
const RUN_SH = "#!/bin/sh\r\necho checking\r\n";
const BINARY = new Uint8Array([0, 1, 2, 255, 254, 13, 10, 0]);
const CONFIG_YAML = "retries: 3\n";
const NOTES_MD = "---\ndescription: Drafts release notes from merged pull requests.\n---\n\nUse the changelog.\n";

let emulator: RunningEmulator;
let sdk: Anthropic;
let dir: string;
const ids: Record<string, string> = {};

const env = () => ({ ANTHROPIC_API_KEY: "test-key", ANTHROPIC_BASE_URL: emulator.url });
const cli = (...args: string[]) => runCli([...args, "--dir", dir], env());

/** Every file under `root` (relative, POSIX), sorted. */
async function filesUnder(root: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(root, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await filesUnder(root, rel)));
    else out.push(rel);
  }
  return out.sort();
}

const spec = async (file: string) => parse(await readFile(join(dir, file), "utf8")) as Obj;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  sdk = new Anthropic({ apiKey: "test-key", baseURL: emulator.url, maxRetries: 0 });
  const runbook = await sdk.beta.skills.create({
    betas,
    display_name: "Incident Runbook",
    files: [
      await toFile(Buffer.from(RUNBOOK_MD), "incident-runbook/SKILL.md"),
      await toFile(Buffer.from(RUN_SH), "incident-runbook/scripts/check.sh"),
      await toFile(Buffer.from(BINARY), "incident-runbook/assets/blob.bin"),
      // A YAML file that is not a spec: export lists the folder under ignore: so validate does not read it.
      await toFile(Buffer.from(CONFIG_YAML), "incident-runbook/config.yaml"),
    ],
  });
  ids.runbook = runbook.id;
  // No frontmatter name: the slug is the upload's folder, which is not the name the label gives the spec.
  const notes = await sdk.beta.skills.create({
    betas,
    display_name: "Release Notes Helper",
    files: [await toFile(Buffer.from(NOTES_MD), "release-notes/SKILL.md")],
  });
  ids.notes = notes.id;
  const tunnel = await sdk.beta.tunnels.create({ display_name: "Corp network" });
  ids.tunnel = tunnel.id;
  const agent = await sdk.beta.agents.create({
    name: "Nightly Reviewer",
    model: "claude-sonnet-4-6",
    system: "Review the alerts.",
    skills: [{ type: "custom", skill_id: runbook.id }],
    // One server behind the tunnel (written as tunnel + host + path), one on the internet (kept as url).
    mcp_servers: [
      { type: "url", name: "internal-db", url: `https://db.${tunnel.domain}/mcp` },
      { type: "url", name: "status-page", url: "https://status.example.com/mcp" },
    ],
    tools: [
      { type: "mcp_toolset", mcp_server_name: "internal-db" },
      { type: "mcp_toolset", mcp_server_name: "status-page" },
    ],
  });
  ids.agent = agent.id;
  const env_ = await sdk.beta.environments.create({ name: "ops", config: { type: "cloud" } });
  ids.environment = env_.id;
  const vault = await sdk.beta.vaults.create({ display_name: "Ops tokens" });
  ids.vault = vault.id;
  const store = await sdk.beta.memoryStores.create({ name: "Incident notes" });
  ids.store = store.id;
  // Pinned to version 1, then the agent moves on to version 2: the pin must stay 1.
  const pinned = await sdk.beta.deployments.create({
    name: "nightly-review",
    description: "Reviews last night's alerts.",
    agent: { type: "agent", id: agent.id, version: 1 },
    environment_id: env_.id,
    vault_ids: [vault.id],
    resources: [{ type: "memory_store", memory_store_id: store.id, access: "read_only", instructions: "Notes." }],
    initial_events: [{ type: "user.message", content: [{ type: "text", text: "Review the alerts of the night." }] }],
    budget: { type: "limit", max_list_cost: { amount: "2500", currency: "USD" } },
    schedule: { type: "cron", expression: "0 2 * * *", timezone: "Europe/Paris" },
    metadata: { team: "ops" },
  });
  ids.pinned = pinned.id;
  await sdk.beta.deployments.pause(pinned.id);
  await sdk.beta.agents.update(agent.id, { version: 1, description: "Reviews alerts." });
  // The agent's latest version, and two initial events: `initial_events` as the API holds them.
  const weekly = await sdk.beta.deployments.create({
    name: "weekly-digest",
    agent: agent.id,
    environment_id: env_.id,
    initial_events: [
      { type: "system.message", content: [{ type: "text", text: "It is Monday." }] },
      { type: "user.message", content: [{ type: "text", text: "Write the digest." }] },
    ],
  });
  ids.weekly = weekly.id;
  const { mkdtemp, writeFile } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  dir = await mkdtemp(join(tmpdir(), "reconcile-export-kinds-"));
  await writeFile(join(dir, "reconcile.yaml"), "stack: exported\n");
}, 60_000);

afterAll(async () => {
  await emulator.close();
  await rm(dir, { recursive: true, force: true });
});

describe("reconcile export of skills, tunnels and deployments", () => {
  let exported: { code: number | null; stdout: string; stderr: string };

  beforeAll(async () => {
    exported = await cli("export", "--json");
  }, SLOW);

  it("writes a spec per resource, the skills' folders byte for byte, and an adopt entry each", async () => {
    expect(exported.stderr).not.toMatch(/Error/);
    expect(exported.code).toBe(0);
    expect(await filesUnder(dir)).toEqual([
      "agents/nightly-reviewer.yaml",
      "deployments/nightly-review.yaml",
      "deployments/weekly-digest.yaml",
      "environments/ops.yaml",
      "memory-stores/incident-notes.yaml",
      "reconcile.yaml",
      "skills/incident-runbook.yaml",
      "skills/incident-runbook/SKILL.md",
      "skills/incident-runbook/assets/blob.bin",
      "skills/incident-runbook/config.yaml",
      "skills/incident-runbook/scripts/check.sh",
      "skills/release-notes-helper.yaml",
      "skills/release-notes-helper/release-notes/SKILL.md",
      "toolsets/internal-db.yaml",
      "toolsets/status-page.yaml",
      "tunnels/corp-network.yaml",
      "vaults/ops-tokens.yaml",
    ]);
    expect(await readFile(join(dir, "skills/incident-runbook/SKILL.md"), "utf8")).toBe(RUNBOOK_MD);
    expect(new Uint8Array(await readFile(join(dir, "skills/incident-runbook/assets/blob.bin")))).toEqual(BINARY);
    const entries = JSON.parse(exported.stdout) as Array<{ address: string; id: string; file: string }>;
    expect(entries).toContainEqual({
      address: "skill.incident-runbook",
      id: ids.runbook,
      file: "skills/incident-runbook.yaml",
    });
    const config = (await spec("reconcile.yaml")) as { adopt: Obj[] };
    expect(config.adopt).toEqual(
      expect.arrayContaining([
        { address: "skill.incident-runbook", id: ids.runbook },
        { address: "skill.release-notes-helper", id: ids.notes },
        { address: "tunnel.corp-network", id: ids.tunnel },
        { address: "deployment.nightly-review", id: ids.pinned },
        { address: "deployment.weekly-digest", id: ids.weekly },
      ]),
    );
    expect(config.adopt).toHaveLength(9);
    expect((config as Obj).ignore).toEqual(["skills/incident-runbook/"]);
    expect(exported.stderr).toContain("skills/incident-runbook/ holds YAML files that are not specs");
    // The connector token is a secret: export never asks for it.
    const routes = Object.keys(emulator.stats().byRoute);
    expect(routes.some((r) => r.includes("/v1/tunnels"))).toBe(true);
    expect(routes.filter((r) => r.includes("token"))).toEqual([]);
  });

  it("maps each kind to the spec that names the others by spec name", async () => {
    expect(await spec("skills/incident-runbook.yaml")).toEqual({
      apiVersion: "reconcile/v1",
      kind: "Skill",
      name: "incident-runbook",
      path: "incident-runbook",
      display_name: "Incident Runbook",
    });
    expect(await spec("skills/release-notes-helper.yaml")).toMatchObject({
      path: "release-notes-helper/release-notes",
    });
    expect(await spec("tunnels/corp-network.yaml")).toEqual({
      apiVersion: "reconcile/v1",
      kind: "Tunnel",
      name: "corp-network",
      display_name: "Corp network",
    });
    expect(await spec("agents/nightly-reviewer.yaml")).toMatchObject({
      skills: [{ skill: "incident-runbook" }],
      toolsets: ["internal-db", "status-page"],
    });
    expect(await spec("toolsets/internal-db.yaml")).toEqual({
      apiVersion: "reconcile/v1",
      kind: "McpToolset",
      name: "internal-db",
      tunnel: "corp-network",
      host: "db",
      path: "/mcp",
    });
    expect(await spec("toolsets/status-page.yaml")).toMatchObject({ url: "https://status.example.com/mcp" });
    expect(await spec("deployments/nightly-review.yaml")).toEqual({
      apiVersion: "reconcile/v1",
      kind: "Deployment",
      name: "nightly-review",
      description: "Reviews last night's alerts.",
      agent: "nightly-reviewer",
      agent_version: 1,
      environment: "ops",
      vaults: ["ops-tokens"],
      memory_stores: [{ name: "incident-notes", access: "read_only", instructions: "Notes." }],
      message: "Review the alerts of the night.",
      budget: { max_list_cost: { amount: "2500", currency: "USD" } },
      schedule: { cron: "0 2 * * *", timezone: "Europe/Paris" },
      paused: true,
      metadata: { team: "ops" },
    });
    const weekly = await spec("deployments/weekly-digest.yaml");
    // The API holds a number only; `pinned` would follow the new version adopting the agent makes.
    expect(weekly.agent_version).toBe(2);
    expect(weekly.initial_events).toEqual([
      { type: "system.message", content: [{ type: "text", text: "It is Monday." }] },
      { type: "user.message", content: [{ type: "text", text: "Write the digest." }] },
    ]);
  });

  it(
    "does not export a deployment whose agent and environment have no spec, and says what to export",
    async () => {
      const { mkdtemp, writeFile } = await import("node:fs/promises");
      const { tmpdir } = await import("node:os");
      const alone = await mkdtemp(join(tmpdir(), "reconcile-export-kinds-alone-"));
      try {
        await writeFile(join(alone, "reconcile.yaml"), "stack: exported\n");
        const run = await runCli(["export", "--dir", alone, "--id", ids.weekly as string], env());
        expect(run.code, run.stderr).toBe(0);
        expect(run.stderr).toContain(
          `deployment ${ids.weekly} ("weekly-digest") was not exported: its agent ${ids.agent} and environment ${ids.environment} have no spec here`,
        );
        expect(run.stderr).toContain(`--id ${ids.agent} ${ids.environment} ${ids.weekly}`);
        expect(await filesUnder(alone)).toEqual(["reconcile.yaml"]);
      } finally {
        await rm(alone, { recursive: true, force: true });
      }
    },
    SLOW,
  );

  it(
    "plans only adoptions without a field change (skills, tunnels: nothing); after apply, plan --detailed-exitcode exits 0",
    async () => {
      const plan = await cli("plan", "--json");
      expect(plan.code, plan.stderr).toBe(0);
      const actions = (
        JSON.parse(plan.stdout) as { actions: Array<{ address: string; action: string; changes: unknown[] }> }
      ).actions;
      expect(actions.map((a) => a.address).sort()).toEqual([
        "agent.nightly-reviewer",
        "deployment.nightly-review",
        "deployment.weekly-digest",
        "environment.ops",
        "memory_store.incident-notes",
        "vault.ops-tokens",
      ]);
      // Skills and tunnels cannot record ownership: their adopt entries make them this stack's as they are, so a
      // matching one plans nothing at all (docs/adr/0021, 0022).
      for (const action of actions)
        expect({ address: action.address, action: action.action, changes: action.changes }).toEqual({
          address: action.address,
          action: "adopt",
          changes: [],
        });
      const apply = await cli("apply", "--auto-approve");
      expect(apply.code, apply.stderr).toBe(0);
      const again = await cli("plan", "--detailed-exitcode");
      expect(again.code, again.stdout + again.stderr).toBe(0);
      const deployment = await sdk.beta.deployments.retrieve(ids.pinned as string);
      expect(deployment.agent.version).toBe(1);
      expect(deployment.status).toBe("paused");
    },
    SLOW,
  );

  it(
    "a second export skips every resource that now has a spec and writes nothing",
    async () => {
      const before = await filesUnder(dir);
      const config = await readFile(join(dir, "reconcile.yaml"), "utf8");
      const second = await cli("export");
      expect(second.code, second.stderr).toBe(0);
      expect(second.stderr).toContain("skipped 9 resources that already have specs");
      expect(second.stderr).toMatch(/Skill\/incident-runbook.*Tunnel\/corp-network.*Deployment\/nightly-review/s);
      expect(await filesUnder(dir)).toEqual(before);
      expect(await readFile(join(dir, "reconcile.yaml"), "utf8")).toBe(config);
    },
    SLOW,
  );

  it(
    "names what the repository declares when only one resource is exported (--id), elsewhere",
    async () => {
      const { mkdtemp } = await import("node:fs/promises");
      const { tmpdir } = await import("node:os");
      const out = await mkdtemp(join(tmpdir(), "reconcile-export-kinds-out-"));
      try {
        const run = await cli(
          "export",
          "--id",
          ids.agent as string,
          ids.weekly as string,
          "--include-existing",
          "--out",
          out,
        );
        expect(run.code, run.stderr).toBe(0);
        const agent = parse(await readFile(join(out, "agents/nightly-reviewer.yaml"), "utf8")) as Obj;
        expect(agent.skills).toEqual([{ skill: "incident-runbook" }]);
        const weekly = parse(await readFile(join(out, "deployments/weekly-digest.yaml"), "utf8")) as Obj;
        expect(weekly).toMatchObject({ agent: "nightly-reviewer", environment: "ops" });
      } finally {
        await rm(out, { recursive: true, force: true });
      }
    },
    SLOW,
  );

  it(
    "never overwrites a skill folder without --force, and never leaves stray files in it with --force",
    async () => {
      const { writeFile } = await import("node:fs/promises");
      const plain = await cli("export", "--id", ids.runbook as string, "--include-existing");
      expect(plain.code).toBe(1);
      expect(plain.stderr).toContain("skills/incident-runbook/ already exists");
      await writeFile(join(dir, "skills/incident-runbook/notes.txt"), "mine\n");
      const forced = await cli("export", "--id", ids.runbook as string, "--include-existing", "--force");
      expect(forced.code).toBe(1);
      expect(forced.stderr).toContain(
        "skills/incident-runbook/ holds files the exported version does not have (notes.txt)",
      );
      expect(await readFile(join(dir, "skills/incident-runbook/notes.txt"), "utf8")).toBe("mine\n");
      await rm(join(dir, "skills/incident-runbook/notes.txt"));
      await writeFile(join(dir, "skills/incident-runbook/SKILL.md"), `${RUNBOOK_MD}Edited by hand.\n`);
      const rewritten = await cli("export", "--id", ids.runbook as string, "--include-existing", "--force");
      expect(rewritten.code, rewritten.stderr).toBe(0);
      expect(await readFile(join(dir, "skills/incident-runbook/SKILL.md"), "utf8")).toBe(RUNBOOK_MD);
      expect((await cli("plan", "--detailed-exitcode")).code).toBe(0);
    },
    SLOW,
  );

  it(
    "writes nothing through a symbolic link leading out of the repository",
    async () => {
      const { mkdtemp, mkdir, symlink, writeFile } = await import("node:fs/promises");
      const { tmpdir } = await import("node:os");
      const base = await mkdtemp(join(tmpdir(), "reconcile-export-kinds-links-"));
      try {
        const repo = join(base, "repo");
        const outside = join(base, "outside");
        await mkdir(repo);
        await mkdir(outside);
        await writeFile(join(repo, "reconcile.yaml"), "stack: links\n");
        await symlink(outside, join(repo, "skills"));
        await symlink(join(outside, "not-yet"), join(repo, "tunnels")); // a broken link: mkdir would follow it
        const run = await runCli(
          ["export", "--dir", repo, "--id", ids.runbook as string, ids.tunnel as string, "--force"],
          env(),
        );
        expect(run.code).toBe(1);
        expect(run.stderr).toContain("skills/incident-runbook.yaml leads outside . through a symbolic link");
        expect(run.stderr).toContain("skills/incident-runbook leads outside . through a symbolic link");
        expect(run.stderr).toContain("tunnels/corp-network.yaml leads outside . through a symbolic link");
        expect(await filesUnder(outside).catch(() => [])).toEqual([]);
        expect(await readFile(join(repo, "reconcile.yaml"), "utf8")).toBe("stack: links\n");
      } finally {
        await rm(base, { recursive: true, force: true });
      }
    },
    SLOW,
  );
});
