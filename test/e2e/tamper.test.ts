/**
 * A saved plan is a proposal, not a script, end to end: `apply FILE` executes only actions that a fresh plan made
 * from the same inputs and the file's options also contains. A hand-edited file is refused before any write, naming
 * the first difference, whether or not the editor recomputed its digest.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import type { Plan, PlannedAction } from "../../src/reconcile/plan.js";
import { planDigest } from "../../src/reconcile/plan-digest.js";
import { copyFleet, removeDir, runCli } from "./helpers.js";

let emulator: RunningEmulator;
let dir: string;
let env: Record<string, string>;
let client: Anthropic;

/** Every agent with its version and archive time: what "nothing was written" compares. */
async function snapshot() {
  const out: string[] = [];
  for await (const agent of client.beta.agents.list({ include_archived: true } as never)) {
    // The apply lock's agent (ADR 8) changes with every apply that takes the lock, refused or not.
    if (agent.metadata?.["reconcile/lock"]) continue;
    out.push(`${agent.id} ${agent.name} v${agent.version} ${agent.archived_at ?? "live"}`);
  }
  return out.sort();
}

async function idOf(name: string): Promise<string> {
  for await (const agent of client.beta.agents.list()) if (agent.name === name) return agent.id;
  throw new Error(`no agent ${name}`);
}

/** Saves a fresh plan, edits it with `change`, optionally recomputes the digest, and applies it. */
async function applyEdited(name: string, change: (plan: Plan) => void, recompute: boolean) {
  const file = join(dir, name);
  expect((await runCli(["plan", "--out", file, "--dir", dir], env)).code).toBe(0);
  const plan = JSON.parse(await readFile(file, "utf8")) as Plan;
  change(plan);
  if (recompute) plan.digest = planDigest(plan);
  await writeFile(file, JSON.stringify(plan, null, 2));
  const before = await snapshot();
  const result = await runCli(["apply", file, "--dir", dir], env);
  expect(result.code).toBe(1);
  expect(result.stdout).not.toContain("✓");
  expect(await snapshot()).toEqual(before);
  return result;
}

const update = (plan: Plan) => plan.actions.find((a) => a.action === "update") as PlannedAction;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  dir = await copyFleet();
  env = { ANTHROPIC_API_KEY: "k", ANTHROPIC_BASE_URL: emulator.url, WORKSPACE_MCP_TOKEN: "token" };
  client = new Anthropic({ apiKey: "k", baseURL: emulator.url, maxRetries: 0 });
  expect((await runCli(["apply", "--auto-approve", "--dir", dir], env)).code).toBe(0);
  // The plan under review: one update (a prompt), kept resources (removed specs, prune off).
  const prompt = join(dir, "prompts", "export-support.md");
  await writeFile(prompt, `${await readFile(prompt, "utf8")}\nBe concise.\n`);
  await rm(join(dir, "agents", "ops-agent.yaml"));
  await rm(join(dir, "deployments", "ops-nightly.yaml")); // it runs ops-agent: kept too
});

afterAll(async () => {
  await emulator.close();
  await removeDir(dir);
});

describe("tampered saved plans", () => {
  it("refuses an added archive of another agent, with or without a recomputed digest", async () => {
    const id = await idOf("email-meeting-manager");
    const addArchive = (plan: Plan) => {
      plan.actions.push({
        address: "agent.email-meeting-manager",
        type: "agent",
        name: "email-meeting-manager",
        action: "archive",
        id,
        changes: [],
        depends_on: [],
      });
    };
    const plain = await applyEdited("added.plan.json", addArchive, false);
    expect(plain.stderr).toContain("its digest does not match its actions or options");
    const forged = await applyEdited("added-forged.plan.json", addArchive, true);
    expect(forged.stderr).toContain(
      `First difference: agent.email-meeting-manager: the file plans archive of ${id}, which a fresh plan does not contain`,
    );
  });

  it("refuses an update changed into an archive", async () => {
    const id = await idOf("export-support");
    const result = await applyEdited(
      "to-archive.plan.json",
      (plan) => {
        Object.assign(update(plan), { action: "archive", changes: [] });
      },
      true,
    );
    expect(result.stderr).toContain(
      `First difference: agent.export-support: the file plans archive of ${id}, a fresh plan update of ${id}`,
    );
  });

  it("refuses options.prune flipped to true", async () => {
    const id = await idOf("ops-agent");
    const plain = await applyEdited(
      "prune.plan.json",
      (plan) => {
        plan.options.prune = true;
      },
      false,
    );
    expect(plain.stderr).toContain("its digest does not match its actions or options");
    const forged = await applyEdited(
      "prune-forged.plan.json",
      (plan) => {
        plan.options.prune = true;
      },
      true,
    );
    expect(forged.stderr).toContain(
      `First difference: agent.ops-agent: the file plans keep of ${id}, a fresh plan archive of ${id}`,
    );
  });

  it("refuses an edited digest", async () => {
    const result = await applyEdited(
      "digest.plan.json",
      (plan) => {
        plan.digest = "0".repeat(32);
      },
      false,
    );
    expect(result.stderr).toContain("its digest does not match its actions or options");
  });

  it("refuses a changed field value inside a change", async () => {
    const result = await applyEdited(
      "value.plan.json",
      (plan) => {
        const change = update(plan).changes[0] as { after: unknown };
        change.after = "You are an agent that archives everything.";
      },
      true,
    );
    expect(result.stderr).toContain("First difference: agent.export-support: the change of system differs");
  });

  it("applies the untouched plan", async () => {
    const file = join(dir, "untouched.plan.json");
    expect((await runCli(["plan", "--out", file, "--dir", dir], env)).code).toBe(0);
    const applied = await runCli(["apply", file, "--dir", dir], env);
    expect(applied.stderr).toBe("");
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/✓ agent\.export-support: updated/);
  });
});
