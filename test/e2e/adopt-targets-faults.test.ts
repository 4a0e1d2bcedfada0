/**
 * Moving in and moving around, end to end: `reconcile import` then plan shows only the real differences and apply
 * takes the resource over; a renamed spec keeps its resource; targets apply their own values to their own workspace
 * and a saved plan refuses the wrong target; under seeded faults on reads and writes, one apply of a 210-resource
 * fleet converges with no duplicate resources.
 */
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, describe, expect, it } from "vitest";
import { generateFleet, setFleetSecrets } from "../../src/bench/fleet.js";
import { startEmulator } from "../../src/emulator/index.js";
import { createClient } from "../../src/providers/client.js";
import { envSecrets } from "../../src/providers/secrets.js";
import { applyPlan } from "../../src/reconcile/apply.js";
import { loadSpecs, preparePlan } from "../../src/reconcile/workflow.js";
import { copyFleet, removeDir, runCli } from "./helpers.js";

const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const step of cleanup) await step();
});

async function setup(options: Parameters<typeof startEmulator>[0] = {}) {
  const emulator = await startEmulator({ port: 0, ...options });
  const dir = await copyFleet();
  cleanup.push(
    () => emulator.close(),
    () => removeDir(dir),
  );
  const env = { ANTHROPIC_API_KEY: "k", ANTHROPIC_BASE_URL: emulator.url, WORKSPACE_MCP_TOKEN: "token" };
  const client = new Anthropic({ apiKey: "k", baseURL: emulator.url, maxRetries: 8 });
  return { emulator, dir, env, client };
}

async function listAll<T>(pages: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of pages) out.push(item);
  return out;
}

describe("import", () => {
  it("adopts a console-made environment: only real differences, then ownership written, same id", async () => {
    const { dir, env, client } = await setup();
    const made = await client.beta.environments.create({
      name: "export-sandbox",
      description: "made by hand in the console",
      config: {
        type: "cloud",
        networking: { type: "limited", allowed_hosts: ["exports-mcp.example.com"], allow_mcp_servers: true },
      },
    });
    const imported = await runCli(["import", "environment", "export-sandbox", made.id, "--dir", dir], env);
    expect(imported.stderr).toBe("");
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain(`Added adopt entry environment.export-sandbox = ${made.id} in reconcile.yaml`);
    expect(await readFile(join(dir, "reconcile.yaml"), "utf8")).toMatch(
      /# reconcile project configuration[\s\S]*adopt:/,
    );

    const plan = await runCli(["plan", "--dir", dir], env);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain(`<= environment.export-sandbox  (adopting ${made.id})`);
    const block = plan.stdout.split("<= environment.export-sandbox")[1]?.split("\n\n")[0] ?? "";
    // Exactly the two real differences: the console description, and the spec's metadata the console lacked.
    expect(block.match(/^\s+[~+-] .*$/gm)?.map((line) => line.trim().split(":")[0])).toEqual([
      "~ description",
      "+ metadata.team",
    ]);
    expect(plan.stdout).toMatch(/Plan: 1 to adopt, \d+ to create/);

    expect((await runCli(["apply", "--auto-approve", "--dir", dir], env)).code).toBe(0);
    const after = await client.beta.environments.retrieve(made.id);
    expect(after.metadata).toMatchObject({
      "managed-by": "reconcile",
      "reconcile/stack": "example-fleet",
      "reconcile/name": "export-sandbox",
    });
    const sandboxes = (await listAll(client.beta.environments.list())).filter((e) => e.name === "export-sandbox");
    expect(sandboxes.map((e) => e.id)).toEqual([made.id]);
    expect((await runCli(["plan", "--detailed-exitcode", "--dir", dir], env)).code).toBe(0);
  });

  it("explains what is wrong with an import it cannot do", async () => {
    const { dir, env, client } = await setup();
    const missing = await runCli(
      ["import", "agent", "export-support", "agent_011CNoSuchAgent00000000", "--dir", dir],
      env,
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("agent_011CNoSuchAgent00000000 does not exist");
    const nospec = await runCli(["import", "agent", "not-declared", "agent_x", "--dir", dir], env);
    expect(nospec.stderr).toContain("no spec declares agent.not-declared");
    const toolset = await runCli(["import", "McpToolset", "export-jobs", "x", "--dir", dir], env);
    expect(toolset.stderr).toContain("an McpToolset has no API resource of its own");
    const other = await client.beta.environments.create({
      name: "ops",
      metadata: { "managed-by": "reconcile", "reconcile/stack": "someone-else", "reconcile/name": "ops" },
    });
    const owned = await runCli(["import", "environment", "ops", other.id, "--dir", dir], env);
    expect(owned.code).toBe(1);
    expect(owned.stderr).toContain('belongs to stack "someone-else"');
  });
});

describe("rename", () => {
  it("keeps the resource when the spec lists its previous name", async () => {
    const { dir, env, client } = await setup();
    expect((await runCli(["apply", "--auto-approve", "--dir", dir], env)).code).toBe(0);
    const before = (await listAll(client.beta.agents.list())).find((a) => a.name === "ops-agent");
    const spec = join(dir, "agents", "ops-agent.yaml");
    await writeFile(
      spec,
      (await readFile(spec, "utf8")).replace("name: ops-agent", "name: ops-assistant\nprevious_names: [ops-agent]"),
    );
    // The nightly deployment follows the rename: it is repointed to the version the rename produces.
    const deployment = join(dir, "deployments", "ops-nightly.yaml");
    await writeFile(
      deployment,
      (await readFile(deployment, "utf8")).replace("agent: ops-agent", "agent: ops-assistant"),
    );
    const plan = await runCli(["plan", "--detailed-exitcode", "--dir", dir], env);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain("~ agent.ops-assistant  (moved from agent.ops-agent)");
    expect(plan.stdout).toContain('~ name: "ops-agent" → "ops-assistant"');
    expect(plan.stdout).toContain("~ deployment.ops-nightly");
    expect(plan.stdout).toContain("Plan: 0 to create, 2 to update, 0 to replace, 0 to archive.");
    expect((await runCli(["apply", "--auto-approve", "--dir", dir], env)).code).toBe(0);
    const after = await client.beta.agents.retrieve(before?.id ?? "");
    expect(after.name).toBe("ops-assistant");
    expect(after.metadata["reconcile/name"]).toBe("ops-assistant");
    expect((await runCli(["plan", "--detailed-exitcode", "--dir", dir], env)).code).toBe(0);
  });
});

describe("targets", () => {
  it("applies each target's values to its own workspace, and a saved plan refuses another target", async () => {
    const { dir, env, client } = await setup();
    await writeFile(
      join(dir, "reconcile.yaml"),
      [
        "stack: example-fleet",
        "secret_env: [WORKSPACE_MCP_TOKEN]",
        "default_target: staging",
        "targets:",
        "  staging:",
        "    workspace_id: wrkspc_staging",
        "    values: { model: claude-haiku-4-5, db_url: https://staging-db.example.com/mcp }",
        "  prod:",
        "    api_key_env: PROD_ANTHROPIC_KEY",
        "    workspace_id: wrkspc_prod",
        "    values: { model: claude-opus-4-7, db_url: https://db.example.com/mcp }",
        "",
      ].join("\n"),
    );
    const agentSpec = join(dir, "agents", "ops-agent.yaml");
    await writeFile(agentSpec, (await readFile(agentSpec, "utf8")).replace("id: claude-opus-4-7", "id: ${var:model}"));
    const toolset = join(dir, "toolsets", "internal-db.yaml");
    await writeFile(
      toolset,
      (await readFile(toolset, "utf8")).replace(/^tunnel: .*\nhost: .*\npath: .*$/m, "url: ${var:db_url}"),
    );

    expect((await runCli(["validate", "--dir", dir], env)).stdout).toContain("Valid for targets staging, prod");
    expect((await runCli(["apply", "--auto-approve", "--dir", dir], env)).code).toBe(0);
    const noKey = await runCli(["plan", "--target", "prod", "--dir", dir], env);
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toContain("set PROD_ANTHROPIC_KEY");
    const prodEnv = { ...env, PROD_ANTHROPIC_KEY: "prod-key" };
    const prodPlan = join(dir, "prod.plan.json");
    const planned = await runCli(["plan", "--target", "prod", "--out", prodPlan, "--dir", dir], prodEnv);
    expect(planned.code).toBe(0);
    expect(planned.stdout).toMatch(/Plan: 11 to create/);
    const wrong = await runCli(["apply", prodPlan, "--target", "staging", "--dir", dir], prodEnv);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('the saved plan was made for target "prod", and --target staging asks for another');
    expect((await runCli(["apply", prodPlan, "--target", "prod", "--dir", dir], prodEnv)).code).toBe(0);

    const ops = async (workspace: string) =>
      (await listAll(client.beta.agents.list({ workspace_id: workspace }))).find((a) => a.name === "ops-agent");
    expect((await ops("wrkspc_staging"))?.model.id).toBe("claude-haiku-4-5");
    expect((await ops("wrkspc_prod"))?.model.id).toBe("claude-opus-4-7");
    expect((await ops("wrkspc_prod"))?.mcp_servers).toEqual([
      { type: "url", name: "internal-db", url: "https://db.example.com/mcp" },
    ]);
    expect((await runCli(["plan", "--detailed-exitcode", "--dir", dir], env)).code).toBe(0);
    expect((await runCli(["plan", "--target", "prod", "--detailed-exitcode", "--dir", dir], prodEnv)).code).toBe(0);
  }, 120_000); // eleven CLI runs: about 25 s alone, more on a loaded 2-core machine
});

describe("transient faults", () => {
  it("applies a 210-resource fleet in ONE apply under 30 % faults on reads and writes, with no duplicates", async () => {
    const lines: string[] = [];
    const { emulator } = await setup({ faultRate: 0.3, seed: 20261121, log: (l) => lines.push(l) });
    const dir = await mkdtemp(join(tmpdir(), "reconcile-faults-"));
    cleanup.push(() => removeDir(dir));
    const fleet = await generateFleet(dir, {
      // Many vaults: each is one more credential list call, so reads are a large share of the requests faulted.
      agents: 55,
      environments: 20,
      vaults: 45,
      credentialsPerVault: 2,
      toolsets: 10,
      seed: 11,
      stack: "fault-fleet",
    });
    expect(fleet.resources).toBe(210);
    const env: Record<string, string> = {};
    setFleetSecrets(fleet, env);
    const secrets = envSecrets(env);
    // Tiny delays (and retry-after capped) so the test is fast; a budget that makes a 30 % fault rate survivable.
    const retry = { retries: 10, minDelayMs: 1, maxDelayMs: 10, maxRetryAfterMs: 10 };
    const client = createClient({ apiKey: "k", baseURL: emulator.url, retry });
    const project = await loadSpecs(dir);

    const prepared = await preparePlan({ project, client, secrets }); // reads faulted too: observe retries per page
    expect(prepared.plan.actions.filter((a) => a.action === "create")).toHaveLength(210);
    const result = await applyPlan(client, prepared.plan, prepared.desired, prepared.live, prepared.ctx, {
      concurrency: 4,
      retry,
    });
    expect(result.failed + result.skipped).toBe(0);
    expect(result.done).toBe(210);
    expect(result.outcomes.some((o) => o.attempts > 1)).toBe(true); // writes met faults and were retried
    const faultedReads = lines.filter((l) => / GET /.test(l) && /injected| 429 | 500 /.test(l));
    expect(faultedReads.length).toBeGreaterThan(5); // and so did reads

    const again = await preparePlan({ project, client, secrets });
    expect(again.plan.actions.filter((a) => a.action !== "keep")).toEqual([]);
    expect(again.live.duplicates).toEqual([]);
    const sdk = new Anthropic({ apiKey: "k", baseURL: emulator.url, maxRetries: 10 });
    const agents = await listAll(sdk.beta.agents.list({ limit: 100 }));
    expect(agents).toHaveLength(55);
    expect(new Set(agents.map((a) => a.name)).size).toBe(55);
    expect(await listAll(sdk.beta.environments.list({ limit: 100 }))).toHaveLength(20);
    const vaults = await listAll(sdk.beta.vaults.list({ limit: 100 }));
    expect(vaults).toHaveLength(45);
    for (const vault of vaults.slice(0, 5)) {
      expect(await listAll(sdk.beta.vaults.credentials.list(vault.id, { limit: 100 }))).toHaveLength(2);
    }
  }, 120_000);
});
