/**
 * Memory stores end to end, through the CLI against the emulator: apply then plan is zero changes; a description
 * edit is one in-place update; removing specs under `--prune` archives (default) or deletes (`on_prune: delete`);
 * a schema typo is a located error; and the memories inside a store are data: a store with memories plans zero
 * changes, and neither plan nor apply (even an apply that updates the store) ever calls a memories endpoint.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { removeDir, runCli } from "./helpers.js";

let emulator: RunningEmulator;
let client: Anthropic;
let dir: string;

const STACK = "memory-e2e";

function storeYaml(name: string, extra: string[] = []): string {
  return ["apiVersion: reconcile/v1", "kind: MemoryStore", `name: ${name}`, ...extra, ""].join("\n");
}

const cli = (args: string[]) =>
  runCli([...args, "--dir", dir], { ANTHROPIC_API_KEY: "k", ANTHROPIC_BASE_URL: emulator.url });

/** Every store of the workspace this stack owns, archived ones included, by spec name. */
async function owned() {
  const out = new Map<string, Anthropic.Beta.MemoryStores.BetaManagedAgentsMemoryStore>();
  for await (const store of client.beta.memoryStores.list({ include_archived: true })) {
    if (store.metadata["reconcile/stack"] === STACK) out.set(store.metadata["reconcile/name"] ?? "", store);
  }
  return out;
}

/** The emulator's request counts of memory routes (any route under `/memories`). */
function memoryRouteCalls(): Record<string, number> {
  return Object.fromEntries(Object.entries(emulator.stats().byRoute).filter(([route]) => route.includes("/memories")));
}

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  client = new Anthropic({ apiKey: "k", baseURL: emulator.url, maxRetries: 0 });
  dir = await mkdtemp(join(tmpdir(), "reconcile-memstores-"));
  await writeFile(join(dir, "reconcile.yaml"), `stack: ${STACK}\n`);
  await mkdir(join(dir, "memory-stores"));
  await writeFile(
    join(dir, "memory-stores", "notes.yaml"),
    storeYaml("notes", ["description: Runbooks and past incidents.", "metadata:", "  team: platform"]),
  );
  await writeFile(join(dir, "memory-stores", "scratch.yaml"), storeYaml("scratch", ["on_prune: delete"]));
  await writeFile(join(dir, "memory-stores", "keeper.yaml"), storeYaml("keeper", ["display_name: Keeper Store"]));
});

afterAll(async () => {
  await emulator.close();
  await removeDir(dir);
});

describe("memory stores through the CLI", () => {
  it("applies, then plans zero changes", async () => {
    const plan = await cli(["plan"]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain("+ memory_store.notes");
    expect(plan.stdout).toContain("Plan: 3 to create, 0 to update, 0 to replace, 0 to archive.");
    const apply = await cli(["apply", "--auto-approve"]);
    expect(apply.code, apply.stderr).toBe(0);
    const stores = await owned();
    expect([...stores.keys()].sort()).toEqual(["keeper", "notes", "scratch"]);
    expect(stores.get("notes")).toMatchObject({
      name: "notes",
      description: "Runbooks and past incidents.",
      metadata: { team: "platform", "managed-by": "reconcile", "reconcile/name": "notes" },
    });
    expect(stores.get("keeper")?.name).toBe("Keeper Store");
    expect(stores.get("keeper")?.description).toBe("");
    expect(stores.get("scratch")?.metadata["reconcile/lifecycle"]).toBe("delete");
    const again = await cli(["plan", "--detailed-exitcode"]);
    expect(again.code, again.stdout).toBe(0);
    const outputs = JSON.parse((await cli(["outputs", "--json"])).stdout);
    expect(outputs.memory_stores.notes.id).toBe(stores.get("notes")?.id);
  });

  it("a store with memories plans zero changes, and plan and apply never call a memories endpoint", async () => {
    const notes = (await owned()).get("notes");
    if (!notes) throw new Error("no notes store");
    const memory = await client.beta.memoryStores.memories.create(notes.id, {
      path: "/incidents/2026-11-01.md",
      content: "Database failover took 4 minutes.",
    });
    emulator.resetStats();
    const plan = await cli(["plan", "--detailed-exitcode"]);
    expect(plan.code, plan.stdout).toBe(0);
    const apply = await cli(["apply", "--auto-approve"]);
    expect(apply.code, apply.stderr).toBe(0);
    expect(emulator.stats().byRoute["GET /v1/memory_stores"]).toBeGreaterThan(0);
    expect(memoryRouteCalls()).toEqual({});
    expect((await client.beta.memoryStores.memories.list(notes.id, { view: "full" })).data).toEqual([memory]);
  });

  it("a description edit is one in-place update of the same store, its memories untouched", async () => {
    const before = (await owned()).get("notes");
    const file = join(dir, "memory-stores", "notes.yaml");
    await writeFile(file, (await readFile(file, "utf8")).replace("Runbooks and past incidents.", "Runbooks only."));
    emulator.resetStats();
    const plan = await cli(["plan", "--detailed-exitcode"]);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain("~ memory_store.notes");
    expect(plan.stdout).toContain("Plan: 0 to create, 1 to update, 0 to replace, 0 to archive.");
    const apply = await cli(["apply", "--auto-approve"]);
    expect(apply.code, apply.stderr).toBe(0);
    expect(emulator.stats().byRoute["POST /v1/memory_stores/:memory_store_id"]).toBe(1);
    expect(memoryRouteCalls()).toEqual({});
    const after = (await owned()).get("notes");
    expect(after?.id).toBe(before?.id);
    expect(after?.description).toBe("Runbooks only.");
    expect(after?.metadata.team).toBe("platform");
    expect((await client.beta.memoryStores.memories.list(after?.id ?? "")).data).toHaveLength(1);
    expect((await cli(["plan", "--detailed-exitcode"])).code).toBe(0);
  });

  it("clearing the description sends an empty string and converges", async () => {
    const file = join(dir, "memory-stores", "notes.yaml");
    await writeFile(file, (await readFile(file, "utf8")).replace("description: Runbooks only.\n", ""));
    const apply = await cli(["apply", "--auto-approve"]);
    expect(apply.code, apply.stderr).toBe(0);
    expect((await owned()).get("notes")?.description).toBe("");
    expect((await cli(["plan", "--detailed-exitcode"])).code).toBe(0);
  });

  it("a schema typo is a located error, and nothing is planned", async () => {
    const file = join(dir, "memory-stores", "typo.yaml");
    await writeFile(file, storeYaml("typo", ["descripton: misspelled"]));
    try {
      const validate = await cli(["validate"]);
      expect(validate.code).toBe(1);
      expect(validate.stderr).toMatch(/memory-stores\/typo\.yaml:4:1: MemoryStore\/typo: .*descripton/);
      const plan = await cli(["plan"]);
      expect(plan.code).toBe(1);
      expect(plan.stdout).not.toContain("memory_store.typo");
    } finally {
      await rm(file);
    }
  });

  it("a name with a control character and protect with on_prune: delete are located errors", async () => {
    const bad = join(dir, "memory-stores", "bad.yaml");
    const both = join(dir, "memory-stores", "both.yaml");
    await writeFile(bad, storeYaml("bad", ['display_name: "two\\nlines"']));
    await writeFile(both, storeYaml("both", ["protect: true", "on_prune: delete"]));
    try {
      const validate = await cli(["validate"]);
      expect(validate.code).toBe(1);
      expect(validate.stderr).toMatch(/bad\.yaml:4:\d+: MemoryStore\/bad: display_name: .*control characters/);
      expect(validate.stderr).toMatch(/both\.yaml:5:\d+: MemoryStore\/both: on_prune: cannot be `delete`/);
    } finally {
      await rm(bad);
      await rm(both);
    }
  });

  it("removing specs under --prune archives by default and deletes with on_prune: delete", async () => {
    const before = await owned();
    await rm(join(dir, "memory-stores", "notes.yaml"));
    await rm(join(dir, "memory-stores", "scratch.yaml"));
    const kept = await cli(["plan", "--detailed-exitcode"]);
    expect(kept.code).toBe(0);
    const plan = await cli(["plan", "--prune", "--allow-mass-prune"]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain("- memory_store.notes");
    expect(plan.stdout).toContain("Plan: 0 to create, 0 to update, 0 to replace, 1 to archive, 1 to delete.");
    emulator.resetStats();
    const apply = await cli(["apply", "--prune", "--allow-mass-prune", "--auto-approve"]);
    expect(apply.code, apply.stderr).toBe(0);
    expect(memoryRouteCalls()).toEqual({});
    const after = await owned();
    expect(after.get("notes")?.archived_at).not.toBeNull();
    expect(after.get("notes")?.id).toBe(before.get("notes")?.id);
    expect(after.has("scratch")).toBe(false);
    await expect(client.beta.memoryStores.retrieve(before.get("scratch")?.id ?? "")).rejects.toMatchObject({
      status: 404,
    });
    expect(after.get("keeper")?.archived_at).toBeNull();
    expect((await cli(["plan", "--prune", "--detailed-exitcode"])).code).toBe(0);
  });
});
