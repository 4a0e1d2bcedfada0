/**
 * Tunnels end to end (issue 11 item 4): the real CLI against an emulator server with a state file and a request log.
 * The test fleet routes ops-agent's `internal-db` toolset through tunnel `corp`: a fresh workspace plans its URL as
 * `(known after apply)`, apply creates the tunnel first and the agent with `https://db-mcp.<domain>/mcp`, and the next
 * plan is empty. `tunnel token` prints the connector token on stdout only; `secrets rotate --tunnels` rotates it and
 * prints only the new token id (the old token is refused afterwards). A display-name change replaces the tunnel and
 * repoints the agent in the same apply. The revealed tokens serve as canaries: no plan, apply, log, saved plan or
 * state file holds one.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { TUNNELS_BETA } from "../../src/emulator/tunnels.js";
import { type CliResult, copyFleet, removeDir, runCli } from "./helpers.js";

const ENV = { WORKSPACE_MCP_TOKEN: "canary-ws-tunnel-3b9e" };

let emulator: RunningEmulator;
let client: Anthropic;
let dir: string;
const log: string[] = [];
/** Everything any run printed except the token commands' stdout, for the canary search at the end. */
const outputs: string[] = [];
/** Every token value seen (revealed or rotated away): none may appear anywhere but the token command's stdout. */
const tokens = new Set<string>();

async function cli(args: string[], options: { keepStdout?: boolean } = {}): Promise<CliResult> {
  const result = await runCli([...args, "--dir", dir], {
    ANTHROPIC_BASE_URL: emulator.url,
    ANTHROPIC_API_KEY: "test",
    ...ENV,
  });
  outputs.push(result.stderr);
  if (!options.keepStdout) outputs.push(result.stdout);
  return result;
}

/** The live tunnels and ops-agent's MCP server URL, through the SDK. */
async function live(): Promise<{
  tunnels: Array<{ id: string; domain: string; display_name: string | null }>;
  url: string;
}> {
  const tunnels = [];
  for await (const t of client.beta.tunnels.list()) tunnels.push(t);
  const agents = [];
  for await (const a of client.beta.agents.list()) agents.push(a);
  const ops = agents.find((a) => a.metadata?.["reconcile/name"] === "ops-agent");
  const server = ops?.mcp_servers.find((s) => s.name === "internal-db");
  return { tunnels, url: server?.url ?? "" };
}

/** The emulator's test hook: would a connector presenting `token` be let into tunnel `id` now? */
async function tokenValid(id: string, token: string): Promise<boolean> {
  const response = await fetch(`${emulator.url}/_emulator/tunnels/${id}/token_valid`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": "test", "anthropic-beta": TUNNELS_BETA },
    body: JSON.stringify({ tunnel_token: token }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { valid: boolean }).valid;
}

beforeAll(async () => {
  dir = await copyFleet();
  emulator = await startEmulator({ port: 0, stateFile: join(dir, "emulator-state.json"), log: (l) => log.push(l) });
  client = new Anthropic({ apiKey: "test", baseURL: emulator.url, maxRetries: 0 });
}, 60_000);

afterAll(async () => {
  await emulator.close();
  await removeDir(dir);
});

describe("a toolset behind a tunnel", () => {
  it("plans (known after apply) on a fresh workspace, applies the tunnel first, then plans zero changes", async () => {
    const plan = await cli(["plan", "--no-color", "--out", join(dir, "fresh.plan.json")]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain("+ tunnel.corp");
    expect(plan.stdout).toMatch(/internal-db: \(known after apply\)/);
    const json = await cli(["plan", "--json"]);
    const doc = JSON.parse(json.stdout) as {
      actions: Array<{ address: string; changes: Array<Record<string, unknown>> }>;
    };
    const agent = doc.actions.find((a) => a.address === "agent.ops-agent");
    expect(agent?.changes).toContainEqual(
      expect.objectContaining({ path: "mcp_servers", unknown: true, after: { "internal-db": "(known after apply)" } }),
    );
    expect(doc.actions.find((a) => a.address === "tunnel.corp")).toBeDefined();

    const apply = await cli(["apply", "--auto-approve", "--no-color"]);
    expect(apply.code).toBe(0);
    expect(apply.stdout.indexOf("tunnel.corp: created")).toBeGreaterThan(-1);
    expect(apply.stdout.indexOf("tunnel.corp: created")).toBeLessThan(apply.stdout.indexOf("agent.ops-agent: created"));

    const state = await live();
    expect(state.tunnels).toHaveLength(1);
    const [tunnel] = state.tunnels;
    expect(tunnel?.display_name).toBe("Corporate network [reconcile:example-fleet/corp]");
    expect(state.url).toBe(`https://db-mcp.${tunnel?.domain}/mcp`);

    const again = await cli(["plan", "--no-color", "--detailed-exitcode"]);
    expect(again.stdout).toContain("No changes.");
    expect(again.code).toBe(0);
    const outputsRun = await cli(["outputs", "--json"]);
    expect(JSON.parse(outputsRun.stdout).tunnels).toEqual({ corp: { id: tunnel?.id, domain: tunnel?.domain } });
  }, 120_000);

  it("tunnel token prints the connector token on stdout only, with a warning on stderr", async () => {
    const [tunnel] = (await live()).tunnels;
    const expected = await client.beta.tunnels.revealToken(tunnel?.id ?? "");
    tokens.add(expected.tunnel_token);
    const result = await cli(["tunnel", "token", "corp"], { keepStdout: true });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${expected.tunnel_token}\n`);
    expect(result.stderr).toContain("Warning: this is the connector token of tunnel.corp");
    expect(result.stderr).not.toContain(expected.tunnel_token);

    const json = await cli(["tunnel", "token", "corp", "--json"], { keepStdout: true });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ tunnel: "corp", token_id: expected.id, token: expected.tunnel_token });

    const unknown = await cli(["tunnel", "token", "crop"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toBe("");
    expect(unknown.stderr).toContain('no Tunnel spec named "crop" (did you mean "corp"?)');
  }, 60_000);

  it("secrets rotate --tunnels rotates through the API and prints only the new token id", async () => {
    const [tunnel] = (await live()).tunnels;
    const id = tunnel?.id ?? "";
    const before = await client.beta.tunnels.revealToken(id);
    tokens.add(before.tunnel_token);
    expect(await tokenValid(id, before.tunnel_token)).toBe(true);

    const rotated = await cli(["secrets", "rotate", "--tunnels", "corp", "--no-color"]);
    expect(rotated.code).toBe(0);
    const after = await client.beta.tunnels.revealToken(id);
    tokens.add(after.tunnel_token);
    expect(after.id).not.toBe(before.id);
    expect(rotated.stdout).toContain(`~ tunnel.corp: rotated, new token id ${after.id}`);
    expect(await tokenValid(id, before.tunnel_token)).toBe(false);
    expect(await tokenValid(id, after.tunnel_token)).toBe(true);

    const json = await cli(["secrets", "rotate", "--tunnels", "--json"]);
    expect(json.code).toBe(0);
    const latest = await client.beta.tunnels.revealToken(id);
    tokens.add(latest.tunnel_token);
    expect(JSON.parse(json.stdout)).toEqual({
      stack: "example-fleet",
      target: "default",
      tunnels: [{ address: "tunnel.corp", status: "rotated", token_id: latest.id, duration_ms: expect.any(Number) }],
    });
    expect(await tokenValid(id, after.tunnel_token)).toBe(false);

    const mixed = await cli(["secrets", "rotate", "--tunnels", "--only", "email-meeting-manager/workspace-mcp"]);
    expect(mixed.code).toBe(1);
    expect(mixed.stderr).toContain("--tunnels rotates tunnel tokens only");
    const unknown = await cli(["secrets", "rotate", "--tunnels", "nope"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no Tunnel spec named "nope"');
    // Rotation changes no spec-visible state: the fleet still plans nothing.
    const plan = await cli(["plan", "--no-color"]);
    expect(plan.stdout).toContain("No changes.");
  }, 120_000);

  it("a display-name change replaces the tunnel (once unprotected) and repoints the agent in the same apply", async () => {
    const file = join(dir, "tunnels", "corp.yaml");
    const original = await readFile(file, "utf8");
    const renamed = original.replace("display_name: Corporate network", "display_name: Corp network");
    await writeFile(file, renamed);
    const refused = await cli(["plan", "--no-color"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("tunnel.corp is protected, but the specs would replace it");

    await writeFile(file, renamed.replace("protect: true\n", ""));
    const [old] = (await live()).tunnels;
    const plan = await cli(["plan", "--no-color"]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain("-/+ tunnel.corp");
    expect(plan.stdout).toMatch(
      /~ mcp_servers\.internal-db: "https:\/\/db-mcp\.[^"]+\/mcp" → "?\(known after apply\)"?/,
    );
    const apply = await cli(["apply", "--auto-approve", "--no-color"]);
    expect(apply.code).toBe(0);
    const state = await live();
    expect(state.tunnels).toHaveLength(1);
    const [fresh] = state.tunnels;
    expect(fresh?.id).not.toBe(old?.id);
    expect(fresh?.display_name).toBe("Corp network [reconcile:example-fleet/corp]");
    expect(state.url).toBe(`https://db-mcp.${fresh?.domain}/mcp`);
    const again = await cli(["plan", "--no-color"]);
    expect(again.stdout).toContain("No changes.");
  }, 120_000);

  it("never prints a token in plans, applies, logs, saved plans or the state file", async () => {
    const saved = await readFile(join(dir, "fresh.plan.json"), "utf8");
    const state = await readFile(join(dir, "emulator-state.json"), "utf8");
    expect(tokens.size).toBeGreaterThanOrEqual(3);
    for (const token of tokens) {
      for (const text of [...outputs, ...log, saved, state]) expect(text).not.toContain(token);
    }
  });
});

describe("toolset errors", () => {
  it("a toolset with both url and tunnel, or an unknown tunnel, is a located error and nothing is planned", async () => {
    const file = join(dir, "toolsets", "internal-db.yaml");
    const original = await readFile(file, "utf8");
    try {
      await writeFile(file, original.replace("tunnel: corp\n", "url: https://db.example.com/mcp\ntunnel: corp\n"));
      const both = await cli(["validate", "--no-color"]);
      expect(both.code).toBe(1);
      expect(both.stderr).toMatch(
        /toolsets\/internal-db\.yaml:\d+:1: McpToolset\/internal-db: give either `url` or `tunnel` \(with `host`\), not both/,
      );
      const requests = log.length;
      await writeFile(file, original.replace("tunnel: corp\n", "tunnel: crop\n"));
      const unknown = await cli(["plan", "--no-color"]);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(
        /toolsets\/internal-db\.yaml:\d+:9: McpToolset\/internal-db: tunnel: unknown Tunnel "crop" \(did you mean "corp"\?\)/,
      );
      expect(log.length).toBe(requests);
    } finally {
      await writeFile(file, original);
    }
  }, 60_000);
});

describe("adopting a tunnel made in the console", () => {
  it("the adopt entry is the record: no create, the agent uses its domain, then zero changes", async () => {
    const own = await copyFleet();
    const other = await startEmulator({ port: 0 });
    try {
      const sdk = new Anthropic({ apiKey: "test", baseURL: other.url, maxRetries: 0 });
      const consoleTunnel = await sdk.beta.tunnels.create({ display_name: "Corporate network" });
      const config = await readFile(join(own, "reconcile.yaml"), "utf8");
      await writeFile(
        join(own, "reconcile.yaml"),
        `${config}adopt:\n  - address: tunnel.corp\n    id: ${consoleTunnel.id}\n`,
      );
      const run = (args: string[]) =>
        runCli([...args, "--dir", own], { ANTHROPIC_BASE_URL: other.url, ANTHROPIC_API_KEY: "test", ...ENV });
      const plan = await run(["plan", "--no-color"]);
      expect(plan.code, plan.stderr).toBe(0);
      expect(plan.stdout).not.toContain("tunnel.corp");
      expect(plan.stdout).toContain(`internal-db: https://db-mcp.${consoleTunnel.domain}/mcp`);
      expect((await run(["apply", "--auto-approve"])).code).toBe(0);
      const again = await run(["plan", "--no-color", "--detailed-exitcode"]);
      expect(again.stdout).toContain("No changes.");
      expect(again.code).toBe(0);
      const tunnels = [];
      for await (const t of sdk.beta.tunnels.list()) tunnels.push(t);
      expect(tunnels).toEqual([consoleTunnel]);
      const token = await run(["tunnel", "token", "corp"]);
      expect(token.code).toBe(0);
      expect(token.stdout).toBe(`${(await sdk.beta.tunnels.revealToken(consoleTunnel.id)).tunnel_token}\n`);
    } finally {
      await other.close();
      await removeDir(own);
    }
  }, 120_000);
});
