/**
 * Drift end to end, the CLI against the emulator and the GitHub double: apply stamps what it writes and a no-op stays
 * a no-op; a spec edit not applied is "not applied"; an out-of-band SDK update of an agent (version) and of a
 * credential's secret (updated_at; fingerprint untouched) is "changed outside reconcile" in plan and drift (exit 2);
 * `drift --json` matches its schema; `drift --github-issue` opens, keeps, updates and closes one issue.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { isLockAgent } from "../../src/providers/lock.js";
import { APPLIED_KEY, parseAppliedStamp } from "../../src/providers/ownership.js";
import { schemaProblems } from "../../src/spec/validate.js";
import { type FakeGitHub, startFakeGitHub } from "../github/fake-github.js";
import { copyFleet, removeDir, runCli } from "./helpers.js";

const CANARY = "canary-drift-e2e-77b1";
const CONSOLE_SECRET = "canary-console-token-3c9d";
const GH_TOKEN = "ghs_canary_drift_token_5e2a";
const SHA = "0123456789abcdef0123456789abcdef01234567";
/** Tolerance between the stamp (client clock) and `updated_at` (emulator clock); the tests wait past it. */
const SKEW_MS = 3000;

let emulator: RunningEmulator;
let github: FakeGitHub;
let dir: string;
let env: Record<string, string>;
let client: Anthropic;
const outputs: string[] = [];

async function cli(args: string[], extra: Record<string, string> = {}) {
  const result = await runCli([...args, "--dir", dir], { ...env, ...extra });
  outputs.push(result.stdout, result.stderr);
  return result;
}

async function agentByName(name: string) {
  for await (const agent of client.beta.agents.list()) if (agent.name === name) return agent;
  throw new Error(`no agent ${name}`);
}

async function theCredential() {
  for await (const vault of client.beta.vaults.list()) {
    for await (const credential of client.beta.vaults.credentials.list(vault.id)) return { vault, credential };
  }
  throw new Error("no credential");
}

/** Resolves once this machine's clock is past `stamp.at` plus the tolerance (a clock condition, not a race). */
async function pastTolerance(metadata: Record<string, string> | undefined): Promise<void> {
  const stamp = parseAppliedStamp(metadata?.[APPLIED_KEY]);
  if (!stamp) throw new Error("no stamp");
  const due = Date.parse(stamp.at) + SKEW_MS + 500;
  while (Date.now() < due) await new Promise((r) => setTimeout(r, due - Date.now()));
}

/** `updated_at` of every resource of the fleet (not the apply lock, which apply itself writes), by id. */
async function lastWrites(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const a of client.beta.agents.list()) if (!isLockAgent(a.metadata)) out[a.id] = a.updated_at;
  for await (const e of client.beta.environments.list()) out[e.id] = e.updated_at;
  for await (const v of client.beta.vaults.list()) {
    out[v.id] = v.updated_at;
    for await (const c of client.beta.vaults.credentials.list(v.id)) out[c.id] = c.updated_at;
  }
  return out;
}

const promptFile = () => join(dir, "prompts", "export-support.md");

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  github = await startFakeGitHub({ tokens: { [GH_TOKEN]: "reconcile-bot" } });
  dir = await copyFleet();
  env = {
    ANTHROPIC_API_KEY: "k",
    ANTHROPIC_BASE_URL: emulator.url,
    WORKSPACE_MCP_TOKEN: CANARY,
    GITHUB_SHA: SHA,
    RECONCILE_CLOCK_SKEW: `${SKEW_MS}ms`,
  };
  client = new Anthropic({ apiKey: "k", baseURL: emulator.url, maxRetries: 0 });
  expect((await cli(["apply", "--auto-approve"])).code).toBe(0);
}, 60_000);

afterAll(async () => {
  await emulator.close();
  await github.close();
  await removeDir(dir);
  // No secret in any output of the run: the spec's, the one set in the console, the GitHub token.
  const all = [...outputs, ...[...github.issues.values()].map((i) => `${i.title}\n${i.body}`)];
  for (const comments of github.comments.values()) all.push(...comments.map((c) => c.body ?? ""));
  for (const text of all) {
    expect(text).not.toContain(CANARY);
    expect(text).not.toContain(CONSOLE_SECRET);
    expect(text).not.toContain(GH_TOKEN);
  }
});

const githubEnv = {
  GITHUB_REPOSITORY: "acme/agents",
  GITHUB_TOKEN: GH_TOKEN,
  get GITHUB_API_URL() {
    return github.url;
  },
};
const openIssues = () => [...github.issues.values()].filter((i) => i.state === "open");

describe("drift", { timeout: 120_000 }, () => {
  it("apply stamps every write with the time and commit; a no-op plans clean, applies nothing, drifts nothing", async () => {
    const agent = await agentByName("export-support");
    expect(parseAppliedStamp(agent.metadata?.[APPLIED_KEY])).toMatchObject({ commit: SHA });
    const { credential } = await theCredential();
    expect(parseAppliedStamp(credential.metadata?.[APPLIED_KEY])).toMatchObject({ commit: SHA });

    const noop = await cli(["plan", "--detailed-exitcode"]);
    expect(noop.code, noop.stdout + noop.stderr).toBe(0);
    const before = await lastWrites();
    const applied = await cli(["apply", "--auto-approve"]);
    expect(applied.code).toBe(0);
    expect(await lastWrites()).toEqual(before);
    const drift = await cli(["drift", "--json"]);
    expect(drift.code).toBe(0);
    const report = JSON.parse(drift.stdout);
    expect(schemaProblems("drift.schema.json", report)).toEqual([]);
    expect(report).toMatchObject({ drifted: false, resources: [], commit: SHA });
  });

  it("a spec edit that was never applied is reported as not applied", async () => {
    await writeFile(promptFile(), `${await readFile(promptFile(), "utf8")}\nBe concise.\n`);
    const drift = await cli(["drift", "--json"]);
    expect(drift.code).toBe(2);
    const report = JSON.parse(drift.stdout);
    expect(schemaProblems("drift.schema.json", report)).toEqual([]);
    expect(report.resources).toEqual([
      expect.objectContaining({ address: "agent.export-support", cause: "not_applied", fields: ["system"] }),
    ]);
    const text = await cli(["drift"]);
    expect(text.code).toBe(2);
    expect(text.stdout).toContain("agent.export-support: not applied yet");
    expect((await cli(["apply", "--auto-approve"])).code).toBe(0);
    const agent = await agentByName("export-support");
    // The update recorded the version it produced, in the same request.
    expect(parseAppliedStamp(agent.metadata?.[APPLIED_KEY])).toMatchObject({ version: agent.version, commit: SHA });
    expect((await cli(["drift"])).code).toBe(0);
  });

  it("an agent edited through the API is changed outside reconcile in plan (text, JSON, Markdown) and drift", async () => {
    const agent = await agentByName("export-support");
    await client.beta.agents.update(agent.id, { version: agent.version, system: "Edited in the console." });

    const text = await cli(["plan"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/~ agent\.export-support {2}\(changed outside reconcile: version \d+ is past version/);
    const json = await cli(["plan", "--json"]);
    const plan = JSON.parse(json.stdout);
    expect(schemaProblems("plan.schema.json", plan)).toEqual([]);
    expect(plan.actions).toEqual([
      expect.objectContaining({ address: "agent.export-support", changed_outside: expect.stringMatching(/^version/) }),
    ]);
    expect((await cli(["plan", "--markdown"])).stdout).toContain("changed outside reconcile: version");

    const drift = await cli(["drift", "--json"]);
    expect(drift.code).toBe(2);
    expect(JSON.parse(drift.stdout).resources).toEqual([
      expect.objectContaining({ address: "agent.export-support", cause: "changed_outside", fields: ["system"] }),
    ]);
  });

  it("a credential's secret replaced through the API is changed outside reconcile; apply writes the spec's back", async () => {
    expect((await cli(["apply", "--auto-approve"])).code).toBe(0);
    const { vault, credential } = await theCredential();
    await pastTolerance(credential.metadata);
    // The console changes the token; reconcile's fingerprint in the metadata still matches the spec.
    await client.beta.vaults.credentials.update(credential.id, {
      vault_id: vault.id,
      auth: { type: "static_bearer", token: CONSOLE_SECRET },
    });

    const plan = await cli(["plan", "--detailed-exitcode"]);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toMatch(
      /credential\.email-meeting-manager\/workspace-mcp {2}\(changed outside reconcile: updated at/,
    );
    expect(plan.stdout).toMatch(/~ secret: "\(sensitive\)" → "\(sensitive\)"/);
    const drift = await cli(["drift", "--json"]);
    expect(drift.code).toBe(2);
    expect(JSON.parse(drift.stdout).resources).toEqual([
      expect.objectContaining({
        address: "credential.email-meeting-manager/workspace-mcp",
        cause: "changed_outside",
        fields: ["secret"],
      }),
    ]);

    emulator.resetStats();
    expect((await cli(["apply", "--auto-approve"])).code).toBe(0);
    expect(emulator.stats().byRoute).toMatchObject({ "POST /v1/vaults/:vault_id/credentials/:credential_id": 1 });
    expect((await cli(["drift"])).code).toBe(0);
  });

  it("drift --github-issue opens one issue, leaves it for the same drift, updates it on change, closes it when clean", async () => {
    const clean = await cli(["drift", "--github-issue"], githubEnv);
    expect(clean.code).toBe(0);
    expect(github.issues.size).toBe(0);

    const agent = await agentByName("ops-agent");
    await client.beta.agents.update(agent.id, { version: agent.version, description: "@octocat see #1 </details>" });
    const opened = await cli(["drift", "--github-issue"], githubEnv);
    expect(opened.code).toBe(2);
    expect(opened.stderr).toContain("Drift issue: opened");
    expect(openIssues()).toHaveLength(1);
    const issue = openIssues()[0];
    expect(issue?.title).toBe("Drift: stack example-fleet, target default");
    expect(issue?.body).toContain("agent.ops-agent");
    expect(issue?.body).toContain("changed outside reconcile");
    expect(issue?.body).not.toMatch(/@octocat|#1\b|<\/details>/);

    const same = await cli(["drift", "--github-issue"], githubEnv);
    expect(same.code).toBe(2);
    expect(same.stderr).toContain("Drift issue: unchanged");

    await writeFile(promptFile(), `${await readFile(promptFile(), "utf8")}\nAnd polite.\n`);
    const changed = await cli(["drift", "--github-issue"], githubEnv);
    expect(changed.code).toBe(2);
    expect(changed.stderr).toContain("Drift issue: updated");
    expect(openIssues()).toHaveLength(1);
    expect(openIssues()[0]?.body).toContain("agent.export-support");

    expect((await cli(["apply", "--auto-approve"])).code).toBe(0);
    const closed = await cli(["drift", "--github-issue"], githubEnv);
    expect(closed.code).toBe(0);
    expect(closed.stderr).toContain("Drift issue: closed");
    expect(openIssues()).toHaveLength(0);
    expect(github.issues.size).toBe(1);
  });

  it("a resource without a stamp (written before reconcile recorded its writes) drifts as unknown", async () => {
    const agent = await agentByName("ops-agent");
    await client.beta.agents.update(agent.id, {
      version: agent.version,
      description: "old-style edit",
      metadata: { [APPLIED_KEY]: null } as unknown as Record<string, string>,
    });
    const drift = await cli(["drift", "--json"]);
    expect(drift.code).toBe(2);
    expect(JSON.parse(drift.stdout).resources).toEqual([
      expect.objectContaining({ address: "agent.ops-agent", cause: "unknown", fields: ["description"] }),
    ]);
  });

  it("drift --github-issue without GITHUB_REPOSITORY is a clear error (exit 1) that names the variable", async () => {
    const result = await cli(["drift", "--github-issue"], { GITHUB_TOKEN: GH_TOKEN });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("GITHUB_REPOSITORY");
  });
});
