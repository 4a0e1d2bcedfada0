/**
 * Skills end to end, as a user runs them: the real `bin/reconcile` against the emulator, on a small repository with
 * one Skill folder and one agent using it by name plus an Anthropic skill. Covers issue 11's promises for skills:
 * apply then zero changes; editing one file makes exactly one new version and the plan names the file; CRLF line
 * endings, another file order or a mode change are no change; a symlink out of the repository is a located error;
 * a console-made skill is adopted through `adopt:` and then plans zero changes.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Anthropic, { toFile } from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { type CliResult, removeDir, runCli } from "./helpers.js";

const betas = ["skills-2025-10-02"];
const SKILL_MD =
  "---\nname: incident-runbook\ndescription: Steps for investigating a production incident.\n---\n\n# Runbook\n";
const SCRIPT = "#!/bin/sh\necho collecting logs\n";

let emulator: RunningEmulator;
let client: Anthropic;
let dir: string;
let outside: string;
let env: Record<string, string>;

async function cli(args: string[]): Promise<CliResult> {
  return runCli([...args, "--dir", dir], env);
}

async function write(file: string, content: string): Promise<void> {
  await mkdir(join(dir, file, ".."), { recursive: true });
  await writeFile(join(dir, file), content);
}

async function customSkills() {
  const out = [];
  for await (const skill of client.beta.skills.list({ betas, source: "custom" })) out.push(skill);
  return out;
}

async function versionsOf(id: string) {
  const out = [];
  for await (const version of client.beta.skills.versions.list(id, { betas })) out.push(version);
  return out;
}

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  client = new Anthropic({ apiKey: "k", baseURL: emulator.url, maxRetries: 0 });
  dir = await mkdtemp(join(tmpdir(), "reconcile-skills-"));
  outside = await mkdtemp(join(tmpdir(), "reconcile-outside-"));
  env = { ANTHROPIC_API_KEY: "k", ANTHROPIC_BASE_URL: emulator.url };
  await write("reconcile.yaml", "stack: skills-e2e\nsecret_env: []\n");
  await write(
    "skills/incident-runbook.yaml",
    "apiVersion: reconcile/v1\nkind: Skill\nname: incident-runbook\npath: incident-runbook\ndisplay_name: Incident runbook\n",
  );
  await write("skills/incident-runbook/SKILL.md", SKILL_MD);
  await write("skills/incident-runbook/scripts/collect.sh", SCRIPT);
  await write(
    "agents/ops.yaml",
    "apiVersion: reconcile/v1\nkind: Agent\nname: ops\nmodel: claude-haiku-4-5\nskills:\n  - skill: incident-runbook\n  - anthropic: xlsx\n",
  );
});

afterAll(async () => {
  await emulator.close();
  await removeDir(dir);
  await removeDir(outside);
});

describe("skills through the CLI", { timeout: 180_000 }, () => {
  it("applies a skill and an agent using it by name and an Anthropic skill, then plans zero changes", async () => {
    const plan = await cli(["plan"]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain("+ skill.incident-runbook");
    expect(plan.stdout).toContain("skill_id: (known after apply)");
    const applied = await cli(["apply", "--auto-approve"]);
    expect(applied.stderr).toBe("");
    expect(applied.code).toBe(0);
    const skills = await customSkills();
    expect(skills).toHaveLength(1);
    const skill = skills[0] as (typeof skills)[number];
    expect(skill.display_name).toMatch(/^Incident runbook \[rc:skills-e2e\/incident-runbook:[0-9a-f]{8}\]$/);
    const agents = (await client.beta.agents.list()).data;
    expect(agents[0]?.skills).toEqual([
      { type: "custom", skill_id: skill.id, version: "latest" },
      { type: "anthropic", skill_id: "xlsx", version: "latest" },
    ]);
    const again = await cli(["plan", "--detailed-exitcode"]);
    expect(again.stdout).toContain("No changes. Live state matches the specs.");
    expect(again.code).toBe(0);
  });

  it("CRLF line endings, a mode change and another file order are no change", async () => {
    await write("skills/incident-runbook/SKILL.md", SKILL_MD.replaceAll("\n", "\r\n"));
    await write("skills/incident-runbook/scripts/collect.sh", SCRIPT.replaceAll("\n", "\r\n"));
    await chmod(join(dir, "skills/incident-runbook/scripts/collect.sh"), 0o755);
    const plan = await cli(["plan", "--detailed-exitcode"]);
    expect(plan.stdout).toContain("No changes.");
    expect(plan.code).toBe(0);
    // Another order: the same files uploaded by hand in reverse order as a new version are still the same content.
    const [skill] = await customSkills();
    const id = (skill as { id: string }).id;
    await client.beta.skills.versions.create(id, {
      betas,
      files: [
        await toFile(Buffer.from(SCRIPT), "incident-runbook/scripts/collect.sh"),
        await toFile(Buffer.from(SKILL_MD), "incident-runbook/SKILL.md"),
      ],
    });
    const after = await cli(["plan", "--detailed-exitcode"]);
    expect(after.code).toBe(0);
  });

  it("editing one file uploads exactly one new version, and the plan names that file", async () => {
    const [skill] = await customSkills();
    const id = (skill as { id: string }).id;
    const before = await versionsOf(id);
    await write("skills/incident-runbook/scripts/collect.sh", "#!/bin/sh\necho collecting logs and metrics\n");
    const plan = await cli(["plan", "--detailed-exitcode"]);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain("~ skill.incident-runbook");
    expect(plan.stdout).toMatch(/~ files\["scripts\/collect\.sh"\]: "sha256:[0-9a-f]{64}" → "sha256:[0-9a-f]{64}"/);
    expect(plan.stdout).not.toContain('files["SKILL.md"]');
    expect(plan.stdout).toContain("Plan: 0 to create, 1 to update, 0 to replace, 0 to archive.");
    const applied = await cli(["apply", "--auto-approve"]);
    expect(applied.code).toBe(0);
    const after = await versionsOf(id);
    expect(after).toHaveLength(before.length + 1);
    const latest = (await client.beta.skills.retrieve(id, { betas })).latest_version_id;
    expect(after[0]?.id).toBe(latest);
    const zip = await client.beta.skills.versions.download(latest, { betas, skill_id: id });
    expect((await zip.arrayBuffer()).byteLength).toBeGreaterThan(0);
    expect((await cli(["plan", "--detailed-exitcode"])).code).toBe(0);
    // The agent pins `latest`: a new skill version does not touch it.
    expect(applied.stdout).not.toContain("agent.ops");
  });

  it("a symlink out of the repository is a located error, and nothing is planned", async () => {
    await writeFile(join(outside, "secret.txt"), "not for upload");
    const link = join(dir, "skills/incident-runbook/leak.txt");
    await symlink(join(outside, "secret.txt"), link);
    try {
      const plan = await cli(["plan"]);
      expect(plan.code).toBe(1);
      expect(plan.stderr).toMatch(
        /skills\/incident-runbook\.yaml:4:7: Skill\/incident-runbook: path: .*leak\.txt is a symlink .*outside the repository/,
      );
      expect(plan.stdout).not.toContain("not for upload");
    } finally {
      await rm(link);
    }
  });

  it("adopts a console-made skill through adopt:, keeps the entry, and then plans zero changes", async () => {
    const made = await client.beta.skills.create({
      betas,
      display_name: "Postmortem writer",
      files: [await toFile(Buffer.from(SKILL_MD.replace("incident-runbook", "postmortem")), "postmortem/SKILL.md")],
    });
    await write("skills/postmortem/SKILL.md", SKILL_MD.replace("incident-runbook", "postmortem"));
    await write(
      "skills/postmortem.yaml",
      "apiVersion: reconcile/v1\nkind: Skill\nname: postmortem\npath: postmortem\ndisplay_name: Postmortem writer\n",
    );
    const config = await readFile(join(dir, "reconcile.yaml"), "utf8");
    const imported = await cli(["import", "skill", "postmortem", made.id]);
    expect(imported.stderr).toBe("");
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain(`Added adopt entry skill.postmortem = ${made.id} in reconcile.yaml`);
    const plan = await cli(["plan", "--detailed-exitcode"]);
    expect(plan.stderr).toBe("");
    expect(plan.stdout).toContain("No changes.");
    expect(plan.code).toBe(0);
    // A second import finds the entry: nothing to add.
    const twice = await cli(["import", "skill", "postmortem", made.id]);
    expect(twice.code).toBe(0);
    expect(twice.stdout).not.toContain("Added adopt entry");
    // Without the entry the skill is unknown again (its label carries no marker): the plan would create another.
    const withEntry = await readFile(join(dir, "reconcile.yaml"), "utf8");
    await write("reconcile.yaml", config);
    const without = await cli(["plan", "--detailed-exitcode"]);
    expect(without.stdout).toContain("+ skill.postmortem");
    expect(without.code).toBe(2);
    await write("reconcile.yaml", withEntry);
  });

  it("prune deletes a skill whose spec was removed (the API cannot archive skills)", async () => {
    const [skill] = (await customSkills()).filter((s) => s.display_name.startsWith("Incident runbook"));
    const id = (skill as { id: string }).id;
    await write(
      "agents/ops.yaml",
      "apiVersion: reconcile/v1\nkind: Agent\nname: ops\nmodel: claude-haiku-4-5\nskills:\n  - anthropic: xlsx\n",
    );
    await rm(join(dir, "skills/incident-runbook.yaml"));
    const plan = await cli(["plan", "--prune"]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/- skill\.incident-runbook .*skill resources cannot be archived/);
    expect(plan.stdout).toContain("1 to delete");
    const applied = await cli(["apply", "--prune", "--auto-approve"]);
    expect(applied.code).toBe(0);
    expect((await customSkills()).map((s) => s.id)).not.toContain(id);
    expect((await cli(["plan", "--prune", "--detailed-exitcode"])).code).toBe(0);
  });
});
