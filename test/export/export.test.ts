/**
 * `reconcile export` end to end: resources made with the SDK the way a console user makes them, exported (the
 * function, and the real CLI as a subprocess), validated, adopted on the same workspace (zero changes afterwards),
 * and applied to a fresh workspace (the same comparable state, zero changes afterwards). Secrets are canaries set at
 * create time: write-only, so they must appear in no file and no output.
 */
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { agentState } from "../../src/providers/agent.js";
import { credentialState } from "../../src/providers/credential.js";
import { environmentState } from "../../src/providers/environment.js";
import { memoryStoreState } from "../../src/providers/memory-store.js";
import type { ComparableState } from "../../src/providers/types.js";
import { vaultState } from "../../src/providers/vault.js";
import { applyPlan } from "../../src/reconcile/apply.js";
import { ExportConflictError, type ExportResult, exportSpecs } from "../../src/reconcile/export.js";
import { loadSpecs, preparePlan } from "../../src/reconcile/workflow.js";
import { loadProject } from "../../src/spec/index.js";
import { addAdoptEntry, addSecretEnv } from "../../src/spec/project-config.js";
import { type CliResult, runCli as runRealCli } from "../e2e/helpers.js";

const CANARY_BEARER = "canary-bearer-5d1e0b9a77";
const CANARY_ENV = "canary-envvar-c4f2a61e03";
const CANARIES = [CANARY_BEARER, CANARY_ENV];

type Obj = Record<string, unknown>;

let source: RunningEmulator;
let client: Anthropic;
const dirs: string[] = [];
const outputs: string[] = [];
const ids: Record<string, string> = {};

const sdk = (emu: RunningEmulator) => new Anthropic({ apiKey: "k", baseURL: emu.url, maxRetries: 0 });

async function tempRepo(stack: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "reconcile-export-"));
  dirs.push(dir);
  await writeFile(join(dir, "reconcile.yaml"), `# the stack this repository owns\nstack: ${stack}\n`);
  return dir;
}

/** Every file under `dir` (relative, POSIX), sorted. */
async function filesUnder(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await filesUnder(dir, rel)));
    else out.push(rel);
  }
  return out.sort();
}

async function exportInto(
  dir: string,
  options: { ids?: string[]; force?: boolean; includeExisting?: boolean } = {},
): Promise<ExportResult> {
  const project = await loadSpecs(dir);
  const result = await exportSpecs({ client, project, adopt: addAdoptEntry, ...options });
  outputs.push(JSON.stringify(result));
  return result;
}

/** The `${env:NAME}` values: each secret variable the export lists, mapped to the canary it stands for. */
function secretsFor(result: ExportResult) {
  const values = new Map<string, string>();
  for (const s of result.secrets) {
    values.set(s.name, s.address.endsWith("/desk-token") ? CANARY_BEARER : CANARY_ENV);
  }
  return (ref: { name: string }) => values.get(ref.name);
}

async function listAll<T>(page: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of page) out.push(item);
  return out;
}

/** Comparable states of everything in a workspace, by API name (credentials as `vault/credential display name`). */
async function snapshot(api: Anthropic): Promise<Record<string, ComparableState>> {
  const out: Record<string, ComparableState> = {};
  for (const a of await listAll(api.beta.agents.list())) out[`agent:${a.name}`] = agentState(a as unknown as Obj);
  for (const e of await listAll(api.beta.environments.list())) {
    out[`environment:${e.name}`] = environmentState(e as unknown as Obj);
  }
  for (const v of await listAll(api.beta.vaults.list())) {
    out[`vault:${v.display_name}`] = vaultState(v as unknown as Obj);
    for (const c of await listAll(api.beta.vaults.credentials.list(v.id))) {
      out[`credential:${v.display_name}/${c.display_name}`] = credentialState(c as unknown as Obj, null);
    }
  }
  for (const m of await listAll(api.beta.memoryStores.list()))
    out[`memory_store:${m.name}`] = memoryStoreState(m as unknown as Obj);
  return out;
}

/** The real CLI (test/e2e/helpers.ts), with every output kept for the secret check at the end. */
async function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  const result = await runRealCli(args, env);
  outputs.push(result.stdout, result.stderr);
  return result;
}

const TRIAGE_PROMPT = `You triage support tickets.

1. Read the ticket with get_ticket.
2. If the customer asks about an export, look it up with get_export_job.
   Never promise a date.
Reply in the customer's language.
`;

beforeAll(async () => {
  source = await startEmulator({ port: 0 });
  client = sdk(source);
  const triage = await client.beta.agents.create({
    name: "support-triage",
    description: "Triage for support tickets, with a human approving replies.",
    model: "claude-sonnet-4-6",
    system: TRIAGE_PROMPT,
    metadata: { team: "support", "cost-center": "4711" },
    mcp_servers: [
      { type: "url", name: "support-desk", url: "https://desk.example.com/mcp" },
      { type: "url", name: "export-jobs", url: "https://jobs.example.com/mcp" },
    ],
    tools: [
      {
        type: "mcp_toolset",
        mcp_server_name: "support-desk",
        default_config: { enabled: false },
        configs: [
          { name: "get_ticket", enabled: true, permission_policy: { type: "always_allow" } },
          { name: "send_reply", enabled: true, permission_policy: { type: "always_ask" } },
        ],
      },
      {
        type: "mcp_toolset",
        mcp_server_name: "export-jobs",
        default_config: { enabled: false, permission_policy: { type: "auto" } },
        configs: [
          { name: "get_export_job", enabled: true, permission_policy: { type: "always_allow" } },
          { name: "retry_export_job", enabled: true },
        ],
      },
    ],
  });
  ids.triage = triage.id;
  const ops = await client.beta.agents.create({
    name: "ops-helper",
    model: { id: "claude-opus-4-7", effort: "high" },
    system: "Investigate incidents. Do not fix them.",
    skills: [{ type: "anthropic", skill_id: "xlsx" }],
    mcp_servers: [
      { type: "url", name: "support-desk", url: "https://desk.example.com/mcp" },
      { type: "url", name: "export-jobs", url: "https://jobs-admin.example.com/mcp" },
    ],
    tools: [
      {
        type: "agent_toolset_20260401",
        configs: [
          { name: "bash", permission_policy: { type: "always_ask" } },
          { name: "web_search", enabled: false },
        ],
      },
      {
        type: "custom",
        name: "lookup_runbook",
        description: "Finds the runbook for an alert.",
        input_schema: { type: "object", properties: { alert: { type: "string" } }, required: ["alert"] },
      },
      // The same server and allowlist as support-triage's: one shared toolset.
      {
        type: "mcp_toolset",
        mcp_server_name: "support-desk",
        default_config: { enabled: false },
        configs: [
          { name: "send_reply", enabled: true, permission_policy: { type: "always_ask" } },
          { name: "get_ticket", enabled: true, permission_policy: { type: "always_allow" } },
        ],
      },
      // The same server name as support-triage's, another URL and every tool allowed: a toolset of its own.
      {
        type: "mcp_toolset",
        mcp_server_name: "export-jobs",
        default_config: { enabled: true, permission_policy: { type: "always_allow" } },
      },
    ],
  });
  ids.ops = ops.id;
  const archived = await client.beta.agents.create({ name: "old-bot", model: "claude-haiku-4-5" });
  await client.beta.agents.archive(archived.id);
  ids.archived = archived.id;
  const env = await client.beta.environments.create({
    name: "ci-sandbox",
    description: "Runs the support agents' sessions.",
    config: {
      type: "cloud",
      networking: {
        type: "limited",
        allowed_hosts: ["desk.example.com", "api.github.com"],
        allow_mcp_servers: true,
        allow_package_managers: true,
      },
      packages: { pip: ["httpx"], apt: ["jq", "curl"] },
    },
    metadata: { team: "support" },
  });
  ids.env = env.id;
  const vault = await client.beta.vaults.create({ display_name: "Support tokens", metadata: { team: "support" } });
  ids.vault = vault.id;
  const bearer = await client.beta.vaults.credentials.create(vault.id, {
    display_name: "Desk token",
    auth: { type: "static_bearer", token: CANARY_BEARER, mcp_server_url: "https://desk.example.com/mcp" },
  });
  ids.bearer = bearer.id;
  const github = await client.beta.vaults.credentials.create(vault.id, {
    display_name: "GitHub",
    metadata: { scope: "read" },
    auth: {
      type: "environment_variable",
      secret_name: "GITHUB_TOKEN",
      secret_value: CANARY_ENV,
      networking: { type: "limited", allowed_hosts: ["api.github.com"] },
      injection_location: { header: true, body: true },
    },
  });
  ids.github = github.id;
  const prefs = await client.beta.memoryStores.create({
    name: "User Preferences",
    description: "What each user prefers.\nOne file per user.",
    metadata: { team: "support" },
  });
  ids.prefs = prefs.id;
  // Memories are data: export never reads them, and the round trip never touches them.
  await client.beta.memoryStores.memories.create(prefs.id, { path: "/users/42.md", content: "Prefers CSV." });
  const oldStore = await client.beta.memoryStores.create({ name: "old-store" });
  await client.beta.memoryStores.archive(oldStore.id);
}, 60_000);

afterAll(async () => {
  await source.close();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

let dir: string;
let result: ExportResult;

describe("reconcile export", () => {
  let files: Record<string, Obj>;

  beforeAll(async () => {
    dir = await tempRepo("support");
    result = await exportInto(dir);
    files = {};
    for (const f of result.files) files[f.file] = parse(await readFile(join(dir, f.file), "utf8")) as Obj;
  });

  it("writes one spec per resource in the fleet layout, skipping archived ones", async () => {
    expect(await filesUnder(dir)).toEqual([
      "agents/ops-helper.yaml",
      "agents/support-triage.yaml",
      "environments/ci-sandbox.yaml",
      "memory-stores/user-preferences.yaml",
      "reconcile.yaml",
      "toolsets/export-jobs-2.yaml",
      "toolsets/export-jobs.yaml",
      "toolsets/support-desk.yaml",
      "vaults/support-tokens.yaml",
    ]);
    expect(result.entries.map((e) => e.id)).not.toContain(ids.archived);
    for (const f of result.files) {
      const text = await readFile(join(dir, f.file), "utf8");
      const kind = {
        Agent: "agent",
        Environment: "environment",
        Vault: "vault",
        McpToolset: "mcp-toolset",
        MemoryStore: "memory-store",
        Tunnel: "tunnel",
        Skill: "skill",
        Deployment: "deployment",
      }[f.kind];
      // The modeline points into the installed package's schemas/, by a relative path that resolves.
      const schema = text.split("\n")[0]?.match(/^# yaml-language-server: \$schema=(\S+)$/)?.[1] ?? "";
      expect(schema.endsWith(`/schemas/${kind}.schema.json`), schema).toBe(true);
      expect(existsSync(resolve(dirname(join(dir, f.file)), schema)), schema).toBe(true);
      expect(files[f.file]?.apiVersion).toBe("reconcile/v1");
    }
  });

  it("validates with zero errors", async () => {
    const project = await loadProject(dir);
    expect(project.errors).toEqual([]);
    expect(project.specs.agents.map((a) => a.name)).toEqual(["ops-helper", "support-triage"]);
    expect(project.specs.vaults[0]?.credentials.map((c) => c.name)).toEqual(["desk-token", "github"]);
  });

  it("maps memory stores: the API name as display_name, the description, never the memories", () => {
    expect(files["memory-stores/user-preferences.yaml"]).toEqual({
      apiVersion: "reconcile/v1",
      kind: "MemoryStore",
      name: "user-preferences",
      display_name: "User Preferences",
      description: "What each user prefers.\nOne file per user.",
      metadata: { team: "support" },
    });
    expect(source.stats().byRoute["GET /v1/memory_stores/:memory_store_id/memories"] ?? 0).toBe(0);
  });

  it("maps agents: system as a block, model string, shared and split toolsets", async () => {
    const text = await readFile(join(dir, "agents/support-triage.yaml"), "utf8");
    expect(text).toContain("system: |\n  You triage support tickets.\n");
    // The API always returns `model.effort` (the model's default when none was sent), so export pins it.
    expect(files["agents/support-triage.yaml"]).toMatchObject({
      model: { id: "claude-sonnet-4-6", effort: "high" },
      toolsets: ["export-jobs", "support-desk"],
      metadata: { "cost-center": "4711", team: "support" },
    });
    expect(files["agents/ops-helper.yaml"]).toMatchObject({
      model: { id: "claude-opus-4-7", effort: "high" },
      toolsets: ["export-jobs-2", "support-desk"],
      skills: [{ type: "anthropic", skill_id: "xlsx" }],
      tools: [
        {
          type: "agent_toolset_20260401",
          configs: [
            { name: "bash", permission_policy: "always_ask" },
            { name: "web_search", enabled: false },
          ],
        },
        { type: "custom", name: "lookup_runbook" },
      ],
    });
    expect(files["toolsets/support-desk.yaml"]).toEqual({
      apiVersion: "reconcile/v1",
      kind: "McpToolset",
      name: "support-desk",
      url: "https://desk.example.com/mcp",
      tools: [
        { name: "get_ticket", permission_policy: "always_allow" },
        { name: "send_reply", permission_policy: "always_ask" },
      ],
    });
    expect(files["toolsets/export-jobs.yaml"]).toMatchObject({ default_permission_policy: "auto" });
    expect(files["toolsets/export-jobs-2.yaml"]).toEqual({
      apiVersion: "reconcile/v1",
      kind: "McpToolset",
      name: "export-jobs-2",
      server_name: "export-jobs",
      url: "https://jobs-admin.example.com/mcp",
      default_permission_policy: "always_allow",
    });
  });

  it("maps the vault: secrets as derived ${env:} references, a toolset instead of a repeated URL", () => {
    expect(files["vaults/support-tokens.yaml"]).toEqual({
      apiVersion: "reconcile/v1",
      kind: "Vault",
      name: "support-tokens",
      display_name: "Support tokens",
      metadata: { team: "support" },
      credentials: [
        {
          name: "desk-token",
          display_name: "Desk token",
          auth: { type: "static_bearer", toolset: "support-desk", token: "${env:SUPPORT_TOKENS_DESK_TOKEN_TOKEN}" },
        },
        {
          name: "github",
          display_name: "GitHub",
          metadata: { scope: "read" },
          auth: {
            type: "environment_variable",
            secret_name: "GITHUB_TOKEN",
            secret_value: "${env:SUPPORT_TOKENS_GITHUB_SECRET_VALUE}",
            networking: { type: "limited", allowed_hosts: ["api.github.com"] },
            injection_location: { body: true },
          },
        },
      ],
    });
    expect(result.secrets.map((s) => s.name)).toEqual([
      "SUPPORT_TOKENS_DESK_TOKEN_TOKEN",
      "SUPPORT_TOKENS_GITHUB_SECRET_VALUE",
    ]);
  });

  it("declares the secret variables the exported specs read (secret_env)", async () => {
    const config = parse(await readFile(join(dir, "reconcile.yaml"), "utf8")) as { secret_env: string[] };
    expect(config.secret_env).toEqual(["SUPPORT_TOKENS_DESK_TOKEN_TOKEN", "SUPPORT_TOKENS_GITHUB_SECRET_VALUE"]);
  });

  it("records an adopt entry for every exported resource", async () => {
    const config = parse(await readFile(join(dir, "reconcile.yaml"), "utf8")) as { adopt: Obj[] };
    expect(config.adopt).toEqual(
      expect.arrayContaining([
        { address: "agent.support-triage", id: ids.triage },
        { address: "agent.ops-helper", id: ids.ops },
        { address: "environment.ci-sandbox", id: ids.env },
        { address: "vault.support-tokens", id: ids.vault },
        { address: "credential.support-tokens/desk-token", id: ids.bearer },
        { address: "credential.support-tokens/github", id: ids.github },
        { address: "memory_store.user-preferences", id: ids.prefs },
      ]),
    );
    expect(config.adopt).toHaveLength(7);
    expect(await readFile(join(dir, "reconcile.yaml"), "utf8")).toContain("# the stack this repository owns");
  });

  it("reproduces the resources in a fresh workspace, field by field, and then plans zero changes", async () => {
    const fresh = await startEmulator({ port: 0 });
    try {
      const freshDir = await tempRepo("fresh");
      for (const folder of ["agents", "environments", "toolsets", "vaults", "memory-stores"]) {
        await cp(join(dir, folder), join(freshDir, folder), { recursive: true });
      }
      // The variables the exported specs read, declared as export declared them in the original repository.
      await addSecretEnv(
        freshDir,
        result.secrets.map((s) => s.name),
      );
      const freshClient = sdk(fresh);
      const secrets = secretsFor(result);
      const prepared = await preparePlan({ project: await loadSpecs(freshDir), client: freshClient, secrets });
      expect(prepared.plan.summary.create).toBe(7);
      const applied = await applyPlan(freshClient, prepared.plan, prepared.desired, prepared.live, prepared.ctx);
      expect(applied.failed + applied.skipped).toBe(0);
      const want = await snapshot(client);
      const got = await snapshot(freshClient);
      expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
      for (const key of Object.keys(want)) expect({ key, state: got[key] }).toEqual({ key, state: want[key] });
      const again = await preparePlan({ project: await loadSpecs(freshDir), client: freshClient, secrets });
      expect(again.plan.actions).toEqual([]);
    } finally {
      await fresh.close();
    }
  });
});

describe("reconcile export --id", () => {
  it("exports just the agent asked for, with its toolsets", async () => {
    const dir = await tempRepo("one");
    const result = await exportInto(dir, { ids: [ids.triage as string] });
    expect(result.files.map((f) => f.file)).toEqual([
      "agents/support-triage.yaml",
      "toolsets/export-jobs.yaml",
      "toolsets/support-desk.yaml",
    ]);
    expect(result.adopted).toEqual([{ address: "agent.support-triage", id: ids.triage }]);
    expect((await loadProject(dir)).errors).toEqual([]);
  });

  it("exports a credential given alone inside its vault, and reuses the repository's toolsets", async () => {
    const dir = await tempRepo("cred");
    await mkdir(join(dir, "toolsets"));
    await writeFile(
      join(dir, "toolsets/desk.yaml"),
      "apiVersion: reconcile/v1\nkind: McpToolset\nname: desk\nurl: https://desk.example.com/mcp\n",
    );
    const result = await exportInto(dir, { ids: [ids.bearer as string] });
    expect(result.files.map((f) => f.file)).toEqual(["vaults/support-tokens.yaml"]);
    const vault = parse(await readFile(join(dir, "vaults/support-tokens.yaml"), "utf8")) as { credentials: Obj[] };
    expect(vault.credentials).toHaveLength(1);
    expect(vault.credentials[0]).toMatchObject({ name: "desk-token", auth: { toolset: "desk" } });
    expect(result.adopted.map((a) => a.address)).toEqual([
      "vault.support-tokens",
      "credential.support-tokens/desk-token",
    ]);
    expect((await loadProject(dir)).errors).toEqual([]);
  });

  it("refuses an id it does not know, and one that does not exist, writing nothing", async () => {
    const dir = await tempRepo("bad");
    await expect(exportInto(dir, { ids: ["sesn_123"] })).rejects.toThrow(/agent_, env_, vlt_, vcrd_/);
    await expect(exportInto(dir, { ids: ["agent_011CXXXXXXXXXXXXXXXXXXXX"] })).rejects.toThrow(/no agent with id/);
    expect(await filesUnder(dir)).toEqual(["reconcile.yaml"]);
  });
});

describe("bin/reconcile export", () => {
  const env = () => ({ ANTHROPIC_API_KEY: "k", ANTHROPIC_BASE_URL: source.url });

  it("with --json prints only the list of {address, id, file} on stdout", async () => {
    const dir = await tempRepo("cli-json");
    const run = await runCli(["export", "--dir", dir, "--json"], env());
    expect(run.stderr).toContain("write-only");
    expect(run.code).toBe(0);
    const entries = JSON.parse(run.stdout) as Array<{ address: string; id: string | null; file: string }>;
    expect(entries).toContainEqual({
      address: "agent.support-triage",
      id: ids.triage,
      file: "agents/support-triage.yaml",
    });
    expect(entries).toContainEqual({ address: "toolset.support-desk", id: null, file: "toolsets/support-desk.yaml" });
    for (const e of entries) expect(await stat(join(dir, e.file))).toBeTruthy();
  });

  it("prints one line per file, a summary and the variables to set; refuses to overwrite", async () => {
    const dir = await tempRepo("cli-text");
    const out = join(dir, "imported");
    const run = await runCli(
      ["export", "--dir", dir, "--out", out, "--id", ids.ops as string, ids.env as string],
      env(),
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^\+ imported\/agents\/ops-helper\.yaml {2}agent\.ops-helper \(agent_/m);
    expect(run.stdout).toMatch(/^\+ imported\/environments\/ci-sandbox\.yaml/m);
    expect(run.stdout).toContain("Exported 2 resources and 2 toolsets into 4 files.");
    expect(run.stdout).toContain("Added 2 adopt entries to reconcile.yaml");
    const skipped = await runCli(["export", "--dir", dir, "--out", out, "--id", ids.ops as string], env());
    expect(skipped.code).toBe(0);
    expect(skipped.stdout + skipped.stderr).toContain("skipped 1 resource that already has a spec (Agent/ops-helper)");
    const again = await runCli(
      ["export", "--dir", dir, "--out", out, "--id", ids.ops as string, "--include-existing"],
      env(),
    );
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("imported/agents/ops-helper.yaml already exists");
    expect(again.stderr).toContain("--force");
  });
});

// Last: adoption changes the source workspace (its resources then belong to stack "support").
describe("reconcile export, then apply on the same workspace", () => {
  it("round-trips on the same workspace: adoption changes nothing but ownership (and the secret fingerprint)", async () => {
    const project = await loadSpecs(dir);
    const secrets = secretsFor(result);
    const prepared = await preparePlan({ project, client, secrets });
    const actions = prepared.plan.actions;
    expect(actions.map((a) => a.action)).toEqual(Array(7).fill("adopt"));
    for (const action of actions) {
      // Secrets are write-only: adoption cannot know the value, so it writes it once (and its fingerprint).
      expect(action.changes.filter((c) => c.path !== "secret")).toEqual([]);
    }
    const applied = await applyPlan(client, prepared.plan, prepared.desired, prepared.live, prepared.ctx);
    expect(applied.failed + applied.skipped).toBe(0);
    const again = await preparePlan({ project: await loadSpecs(dir), client, secrets });
    expect(again.plan.actions).toEqual([]);
    expect((await listAll(client.beta.agents.list())).length).toBe(2);
  });

  it("never overwrites an existing file without --force, and names the file", async () => {
    const before = await readFile(join(dir, "agents/support-triage.yaml"), "utf8");
    await writeFile(join(dir, "agents/support-triage.yaml"), `${before}# edited by hand\n`);
    const error = await exportInto(dir, { includeExisting: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExportConflictError);
    expect((error as Error).message).toContain("agents/support-triage.yaml already exists");
    expect((error as Error).message).toContain("--force");
    expect(await readFile(join(dir, "agents/support-triage.yaml"), "utf8")).toContain("# edited by hand");
    // --force rewrites the files; everything is owned by now, so no new adopt entries are needed.
    const forced = await exportInto(dir, { force: true, includeExisting: true });
    expect(forced.adopted).toEqual([]);
    expect(await readFile(join(dir, "agents/support-triage.yaml"), "utf8")).toBe(before);
  });

  it("never printed or wrote a secret value", async () => {
    expect(outputs.length).toBeGreaterThan(5);
    for (const text of outputs) for (const canary of CANARIES) expect(text).not.toContain(canary);
    for (const dir of dirs) {
      for (const file of await filesUnder(dir)) {
        const text = await readFile(join(dir, file), "utf8");
        for (const canary of CANARIES) expect(text).not.toContain(canary);
      }
    }
  });
});
