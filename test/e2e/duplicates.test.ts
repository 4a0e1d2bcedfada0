/**
 * Duplicates heal, end to end: a crash between a replacement's create and its archive (simulated here by creating a
 * second owned object for an address through the SDK) leaves two live objects claiming one address. The plan keeps
 * the one the spec matches, shows the archive of the other as a change (exit 2 with --detailed-exitcode, no
 * --prune), one apply heals it, and the next plan is empty. A saved plan covers every duplicate.
 */
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { schemaProblems } from "../../src/spec/validate.js";
import { copyFleet, removeDir, runCli } from "./helpers.js";

let emulator: RunningEmulator;
let dir: string;
let env: Record<string, string>;
let client: Anthropic;

async function listAll<T>(pages: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of pages) out.push(item);
  return out;
}

const agentsNamed = async (name: string) => (await listAll(client.beta.agents.list())).filter((a) => a.name === name);

/** A second owned copy of the agent `name`, as a create that was sent twice leaves it, with `system` changed. */
async function duplicateAgent(name: string, system: string) {
  const [agent] = await agentsNamed(name);
  if (!agent) throw new Error(`no agent ${name}`);
  return client.beta.agents.create({
    name: agent.name,
    model: agent.model,
    system,
    ...(agent.description ? { description: agent.description } : {}),
    tools: agent.tools,
    mcp_servers: agent.mcp_servers,
    skills: agent.skills,
    metadata: agent.metadata,
  } as never);
}

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  dir = await copyFleet();
  env = { ANTHROPIC_API_KEY: "k", ANTHROPIC_BASE_URL: emulator.url, WORKSPACE_MCP_TOKEN: "token" };
  client = new Anthropic({ apiKey: "k", baseURL: emulator.url, maxRetries: 0 });
  expect((await runCli(["apply", "--auto-approve", "--dir", dir], env)).code).toBe(0);
});

afterAll(async () => {
  await emulator.close();
  await removeDir(dir);
});

describe("duplicates", () => {
  it("plans the archive of the extra agent, keeps the one the spec matches, and one apply heals it", async () => {
    const [original] = await agentsNamed("export-support");
    const extra = await duplicateAgent("export-support", "a copy that drifted");
    const plan = await runCli(["plan", "--detailed-exitcode", "--dir", dir], env);
    expect(plan.stderr).toBe("");
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain(`- agent.export-support  (${extra.id}: duplicate of ${original?.id})`);
    expect(plan.stdout).toContain("Plan: 0 to create, 0 to update, 0 to replace, 1 to archive.");
    expect(plan.stdout).not.toContain("archive the extra one by hand");

    const json = await runCli(["plan", "--json", "--dir", dir], env);
    const parsed = JSON.parse(json.stdout);
    expect(schemaProblems("plan.schema.json", parsed)).toEqual([]);
    expect(parsed.actions).toEqual([
      expect.objectContaining({
        address: "agent.export-support",
        action: "archive",
        id: extra.id,
        duplicate_of: original?.id,
      }),
    ]);

    const applied = await runCli(["apply", "--auto-approve", "--dir", dir], env);
    expect(applied.stderr).toBe("");
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain(`✓ agent.export-support: archived (${extra.id})`);
    expect((await agentsNamed("export-support")).map((a) => a.id)).toEqual([original?.id]);
    expect((await client.beta.agents.retrieve(extra.id)).archived_at).not.toBeNull();
    const after = await runCli(["plan", "--detailed-exitcode", "--dir", dir], env);
    expect(after.code).toBe(0);
    expect(after.stdout).toContain("No changes.");
  });

  it("archives a duplicate vault with its credential in one action, and converges", async () => {
    const [vault] = await listAll(client.beta.vaults.list());
    if (!vault) throw new Error("no vault");
    const [credential] = await listAll(client.beta.vaults.credentials.list(vault.id));
    if (!credential) throw new Error("no credential");
    const extra = await client.beta.vaults.create({ display_name: vault.display_name, metadata: vault.metadata });
    await client.beta.vaults.credentials.create(extra.id, {
      display_name: credential.display_name,
      metadata: credential.metadata,
      auth: {
        type: "static_bearer",
        token: "other",
        mcp_server_url: (credential.auth as { mcp_server_url: string }).mcp_server_url,
      },
    } as never);
    const plan = await runCli(["plan", "--detailed-exitcode", "--dir", dir], env);
    expect(plan.code).toBe(2);
    // Both vaults match the spec: the newest (the extra) is kept, so the original and its credential go.
    expect(plan.stdout).toContain(
      `- vault.email-meeting-manager  (${vault.id}: duplicate of ${extra.id}; the 1 resource under it go with it)`,
    );
    expect(plan.stdout).toContain("1 to archive.");
    const applied = await runCli(["apply", "--auto-approve", "--dir", dir], env);
    expect(applied.code).toBe(0);
    expect((await listAll(client.beta.vaults.list())).map((v) => v.id)).toEqual([extra.id]);
    expect((await client.beta.vaults.retrieve(vault.id)).archived_at).not.toBeNull();
    expect((await listAll(client.beta.vaults.credentials.list(extra.id))).length).toBe(1);
    expect((await runCli(["plan", "--detailed-exitcode", "--dir", dir], env)).code).toBe(0);
  });

  it("refuses a saved plan when a duplicate appeared or vanished since", async () => {
    const appeared = join(dir, "appeared.plan.json");
    expect((await runCli(["plan", "--out", appeared, "--dir", dir], env)).code).toBe(0);
    const extra = await duplicateAgent("ops-agent", "another copy");
    const refused = await runCli(["apply", appeared, "--dir", dir], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("agent.ops-agent: another live resource now claims it too (a duplicate appeared)");

    const vanished = join(dir, "vanished.plan.json");
    expect((await runCli(["plan", "--out", vanished, "--dir", dir], env)).code).toBe(0);
    await client.beta.agents.archive(extra.id);
    const stale = await runCli(["apply", vanished, "--dir", dir], env);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain("agent.ops-agent: a duplicate the plan archives vanished");
    expect((await runCli(["plan", "--detailed-exitcode", "--dir", dir], env)).code).toBe(0);
  });
});
