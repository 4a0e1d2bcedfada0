/**
 * `reconcile secrets rotate | status | check` end to end (issue 9): the real CLI against an emulator server with a
 * state file and a request log. Rotation writes exactly the changed credentials (request counts) and leaves agent
 * drift alone; the emulator's test-only view shows the new secret took effect; a missing variable skips that
 * credential only (exit 1); a failed write (a proxy that refuses it and echoes the request body) leaves the old
 * fingerprint and the next run rotates; `max_age` and `expires_at` make "due" in plan and status; `secrets check`
 * reports valid / invalid / unknown. Every output, the saved plan, the state file and the log are searched for the
 * canary values at the end.
 */

import { readdir, readFile, writeFile } from "node:fs/promises";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { type CliResult, copyFleet, removeDir, runCli } from "./helpers.js";

const CANARIES = {
  WORKSPACE_MCP_TOKEN: "canary-ws-7c1f0a",
  DESK_TOKEN: "canary-desk-v1-41b2",
  CAL_ACCESS_TOKEN: "canary-cal-v1-93de",
  CRM_ACCESS_TOKEN: "canary-crm-v1-0f57",
  ENV_SECRET: "canary-env-v1-6a88",
};
const DESK_V2 = "canary-desk-v2-c3a9";
const DESK_V3 = "canary-desk-v3-e1d4";
const CAL_V2 = "canary-cal-v2-58bb";
const ALL_CANARIES = [...Object.values(CANARIES), DESK_V2, DESK_V3, CAL_V2];

const CRED_WRITE = "POST /v1/vaults/:vault_id/credentials/:credential_id";
const CRED_CREATE = "POST /v1/vaults/:vault_id/credentials";

let emulator: RunningEmulator;
let client: Anthropic;
let dir: string;
let stateDir: string;
const log: string[] = [];
/** Everything any run printed, for the canary search at the end. */
const outputs: string[] = [];

async function cli(
  args: string[],
  env: Record<string, string | undefined>,
  baseUrl = emulator.url,
): Promise<CliResult> {
  const clean = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<string, string>;
  const result = await runCli([...args, "--dir", dir], {
    ANTHROPIC_BASE_URL: baseUrl,
    ANTHROPIC_API_KEY: "test",
    ...clean,
  });
  outputs.push(result.stdout, result.stderr);
  return result;
}

const inHours = (h: number) => new Date(Date.now() + h * 3_600_000).toISOString().replace(/\.\d+Z$/, "Z");

/** The rotation vault: a static bearer with max_age, two mcp_oauth credentials, an environment variable. */
const rotationVault = () =>
  [
    "apiVersion: reconcile/v1",
    "kind: Vault",
    "name: rotation",
    "credentials:",
    "  - name: desk",
    "    rotation: { max_age: 30d }",
    "    auth:",
    "      type: static_bearer",
    "      mcp_server_url: https://desk.example.com/mcp",
    "      token: ${env:DESK_TOKEN}",
    "  - name: calendar",
    "    auth:",
    "      type: mcp_oauth",
    "      mcp_server_url: https://calendar.example.com/mcp",
    "      access_token: ${env:CAL_ACCESS_TOKEN}",
    `      expires_at: "${inHours(72)}"`,
    "  - name: crm",
    "    auth:",
    "      type: mcp_oauth",
    "      mcp_server_url: https://crm.example.com/mcp",
    "      access_token: ${env:CRM_ACCESS_TOKEN}",
    `      expires_at: "${inHours(2)}"`,
    "  - name: env",
    "    auth:",
    "      type: environment_variable",
    "      secret_name: API_TOKEN",
    "      secret_value: ${env:ENV_SECRET}",
    "      networking: { type: unrestricted }",
    "",
  ].join("\n");

/** Live credentials of the rotation vault by spec name. */
async function credentials(): Promise<Map<string, Record<string, unknown>>> {
  const vaults = [];
  for await (const v of client.beta.vaults.list()) vaults.push(v);
  const vault = vaults.find((v) => v.metadata?.["reconcile/name"] === "rotation");
  if (!vault) throw new Error("no rotation vault");
  const out = new Map<string, Record<string, unknown>>();
  for await (const c of client.beta.vaults.credentials.list(vault.id)) {
    out.set(String(c.metadata?.["reconcile/name"]).split("/")[1] ?? "", c as unknown as Record<string, unknown>);
  }
  return out;
}

/** The emulator's test-only view: does the stored secret `field` equal `value` (keyed digest comparison)? */
async function secretMatches(cred: Record<string, unknown>, field: string, value: string): Promise<boolean> {
  const response = await fetch(
    `${emulator.url}/_emulator/vaults/${cred.vault_id}/credentials/${cred.id}/secret_matches`,
    {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-api-key": "test",
        "anthropic-beta": "managed-agents-2026-04-01",
      },
      body: JSON.stringify({ field, value }),
    },
  );
  expect(response.status).toBe(200);
  const body = (await response.json()) as { matches: boolean };
  expect(Object.keys(body)).toEqual(["matches"]);
  return body.matches;
}

/** The emulator-only test hook: the verdict `mcp_oauth_validate` gives for the credential's current access token. */
async function setProbe(cred: Record<string, unknown>, status: string): Promise<void> {
  const response = await fetch(`${emulator.url}/_emulator/vaults/${cred.vault_id}/credentials/${cred.id}/probe`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": "test", "anthropic-beta": "managed-agents-2026-04-01" },
    body: JSON.stringify({ status }),
  });
  expect(response.status).toBe(200);
}

/**
 * A loopback proxy in front of the emulator that refuses writes to one credential with a 403 whose message echoes
 * the request body (a hostile or careless server: the secret must still never print).
 */
async function refusingProxy(credentialId: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      if (req.method === "POST" && (req.url ?? "").split("?")[0]?.endsWith(`/credentials/${credentialId}`)) {
        res.writeHead(403, { "content-type": "application/json", "request-id": "req_proxy" });
        res.end(
          JSON.stringify({
            type: "error",
            error: { type: "permission_error", message: `refused: ${body.toString()}` },
          }),
        );
        return;
      }
      const upstream = request(
        new URL(req.url ?? "/", emulator.url),
        { method: req.method, headers: req.headers },
        (a) => {
          res.writeHead(a.statusCode ?? 502, a.headers);
          a.pipe(res);
        },
      );
      upstream.on("error", () => res.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

beforeAll(async () => {
  dir = await copyFleet();
  stateDir = dir;
  emulator = await startEmulator({
    port: 0,
    stateFile: join(stateDir, "emulator-state.json"),
    log: (l) => log.push(l),
  });
  client = new Anthropic({ apiKey: "test", baseURL: emulator.url, maxRetries: 0 });
  await writeFile(join(dir, "vaults", "rotation.yaml"), rotationVault());
  const config = await readFile(join(dir, "reconcile.yaml"), "utf8");
  await writeFile(
    join(dir, "reconcile.yaml"),
    `${config}  - DESK_TOKEN\n  - CAL_ACCESS_TOKEN\n  - CRM_ACCESS_TOKEN\n  - ENV_SECRET\n`,
  );
  const applied = await cli(["apply", "--auto-approve"], CANARIES);
  expect(applied.stderr).toBe("");
  expect(applied.code).toBe(0);
}, 120_000);

afterAll(async () => {
  await emulator.close();
  await removeDir(dir);
});

describe("reconcile secrets", () => {
  it("rotates exactly the changed credential, in one request, and leaves agent drift alone", async () => {
    // Someone edits an agent in the console: drift that rotation must not touch.
    const agents = [];
    for await (const a of client.beta.agents.list()) agents.push(a);
    const agent = agents.find((a) => a.metadata?.["reconcile/name"] === "export-support");
    if (!agent) throw new Error("no agent");
    await client.beta.agents.update(agent.id, { version: agent.version, system: "edited in the console" });
    const before = await credentials();

    emulator.resetStats();
    const rotated = await cli(["secrets", "rotate"], { ...CANARIES, DESK_TOKEN: DESK_V2 });
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toMatch(/^~ credential\.rotation\/desk: rotated \[\d+\.\ds\]$/m);
    for (const name of ["calendar", "crm", "env"]) {
      expect(rotated.stdout).toContain(`= credential.rotation/${name}: unchanged`);
    }
    expect(rotated.stdout).toContain("= credential.email-meeting-manager/workspace-mcp: unchanged");
    expect(rotated.stdout).toContain("1 other change pending, not made by rotate: run `reconcile plan`.");
    const stats = emulator.stats().byRoute;
    expect(stats[CRED_WRITE]).toBe(1);
    expect(stats[CRED_CREATE] ?? 0).toBe(0);

    // The agent keeps its out-of-band edit; only the desk credential changed, its secret with its fingerprint.
    expect((await client.beta.agents.retrieve(agent.id)).system).toBe("edited in the console");
    const after = await credentials();
    const desk = after.get("desk") ?? {};
    const deskBefore = before.get("desk") ?? {};
    const meta = (c: Record<string, unknown>) => c.metadata as Record<string, string>;
    expect(meta(desk)["reconcile/secret-fingerprint"]).not.toBe(meta(deskBefore)["reconcile/secret-fingerprint"]);
    expect(meta(desk)["reconcile/secret-written-at"]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    for (const name of ["calendar", "crm", "env"])
      expect(after.get(name)?.updated_at).toBe(before.get(name)?.updated_at);

    // The test-only view shows the new secret took effect; the public shape never carries it.
    expect(await secretMatches(desk, "token", DESK_V2)).toBe(true);
    expect(await secretMatches(desk, "token", CANARIES.DESK_TOKEN)).toBe(false);
    expect(
      JSON.stringify(
        await client.beta.vaults.credentials.retrieve(String(desk.id), { vault_id: String(desk.vault_id) }),
      ),
    ).not.toContain(DESK_V2);

    // Again: nothing to write; --force rewrites the same value.
    emulator.resetStats();
    const again = await cli(["secrets", "rotate", "--json"], { ...CANARIES, DESK_TOKEN: DESK_V2 });
    expect(again.code).toBe(0);
    const json = JSON.parse(again.stdout) as {
      credentials: Array<{ address: string; status: string }>;
      other_changes: number;
    };
    expect(json.credentials.every((c) => c.status === "unchanged")).toBe(true);
    expect(json.other_changes).toBe(1);
    expect(emulator.stats().byRoute[CRED_WRITE] ?? 0).toBe(0);
    const forced = await cli(["secrets", "rotate", "--force", "--only", "rotation/desk"], {
      ...CANARIES,
      DESK_TOKEN: DESK_V2,
    });
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain("~ credential.rotation/desk: rotated");
    expect(forced.stdout).not.toContain("rotation/calendar");
    expect(emulator.stats().byRoute[CRED_WRITE]).toBe(1);
  }, 120_000);

  it("a missing variable skips that credential only, and exits 1", async () => {
    emulator.resetStats();
    const result = await cli(["secrets", "rotate"], { ...CANARIES, DESK_TOKEN: DESK_V3, CAL_ACCESS_TOKEN: undefined });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      "- credential.rotation/calendar: skipped: ${env:CAL_ACCESS_TOKEN} not set; set it in the environment that runs rotate",
    );
    expect(result.stdout).toContain("~ credential.rotation/desk: rotated");
    expect(emulator.stats().byRoute[CRED_WRITE]).toBe(1);
    expect(await secretMatches((await credentials()).get("desk") ?? {}, "token", DESK_V3)).toBe(true);
  }, 120_000);

  it("a refused write leaves the old fingerprint; the next run rotates", async () => {
    const before = (await credentials()).get("calendar") ?? {};
    const proxy = await refusingProxy(String(before.id));
    try {
      const env = { ...CANARIES, DESK_TOKEN: DESK_V3, CAL_ACCESS_TOKEN: CAL_V2 };
      const failed = await cli(["secrets", "rotate"], env, proxy.url);
      expect(failed.code).toBe(1);
      expect(failed.stdout).toMatch(/✗ credential\.rotation\/calendar: failed: 403 permission_error: refused: /);
      expect(failed.stdout).toContain("(sensitive)"); // the echoed body, scrubbed
      const after = (await credentials()).get("calendar") ?? {};
      expect(after.metadata).toEqual(before.metadata);
      expect(await secretMatches(after, "access_token", CANARIES.CAL_ACCESS_TOKEN)).toBe(true);

      const next = await cli(["secrets", "rotate"], env);
      expect(next.code).toBe(0);
      expect(next.stdout).toContain("~ credential.rotation/calendar: rotated");
      expect(await secretMatches((await credentials()).get("calendar") ?? {}, "access_token", CAL_V2)).toBe(true);
    } finally {
      proxy.server.closeAllConnections();
      await new Promise((resolve) => proxy.server.close(resolve));
    }
  }, 120_000);

  it("max_age and expires_at make credentials due in plan and status", async () => {
    const env = { ...CANARIES, DESK_TOKEN: DESK_V3, CAL_ACCESS_TOKEN: CAL_V2 };
    const clean = await cli(["secrets", "status"], env);
    expect(clean.stdout).toMatch(/credential\.rotation\/desk: ok: last written \d{4}-/);
    expect(clean.stdout).toMatch(/credential\.rotation\/crm: expiring: expires at .*, within 1d/);
    expect(clean.code).toBe(2);

    // The desk secret was last written long ago (as recorded on the credential).
    const desk = (await credentials()).get("desk") ?? {};
    await client.beta.vaults.credentials.update(String(desk.id), {
      vault_id: String(desk.vault_id),
      metadata: { "reconcile/secret-written-at": "2020-01-01T00:00:00Z" },
    });
    const status = await cli(["secrets", "status", "--json"], env);
    expect(status.code).toBe(2);
    const health = (
      JSON.parse(status.stdout) as { credentials: Array<{ address: string; status: string; reason: string }> }
    ).credentials;
    expect(health.find((h) => h.address === "credential.rotation/desk")).toMatchObject({
      status: "due",
      reason: "last written 2020-01-01T00:00:00Z, more than max_age 30d ago",
    });
    expect(health.find((h) => h.address === "credential.rotation/crm")?.status).toBe("expiring");
    expect(health.find((h) => h.address === "credential.rotation/calendar")?.status).toBe("ok");

    const plan = await cli(["plan", "--no-color"], env);
    expect(plan.stdout).toContain(
      "! credential.rotation/desk: secret due: last written 2020-01-01T00:00:00Z, more than max_age 30d ago; run `reconcile secrets rotate`",
    );
    expect(plan.stdout).toContain("! credential.rotation/crm: secret expiring: expires at");
    expect(plan.stdout).toContain("  credential.rotation/desk: DESK_TOKEN");
    const markdown = await cli(["plan", "--markdown"], env);
    // Markdown escapes every punctuation character of a warning (ADR 12).
    expect(markdown.stdout).toContain("desk\\: secret due\\: last written 2020\\-01\\-01T00\\:00\\:00Z");
    expect(markdown.stdout).toContain("`credential.rotation/env` reads `ENV_SECRET`");
    const json = await cli(["plan", "--json"], env);
    const parsed = JSON.parse(json.stdout) as { secret_variables: Record<string, string[]>; warnings: string[] };
    expect(parsed.secret_variables["credential.rotation/calendar"]).toEqual(["CAL_ACCESS_TOKEN"]);
    expect(parsed.warnings.some((w) => w.startsWith("credential.rotation/desk: secret due"))).toBe(true);
    const out = join(dir, "saved.plan.json");
    expect((await cli(["plan", "--out", out], env)).code).toBe(0);
    outputs.push(await readFile(out, "utf8"));

    // A rotation starts the clock again.
    const rotated = await cli(["secrets", "rotate", "--force", "--only", "rotation/desk"], env);
    expect(rotated.code).toBe(0);
    const again = JSON.parse((await cli(["secrets", "status", "--json"], env)).stdout) as {
      credentials: Array<{ address: string; status: string }>;
    };
    expect(again.credentials.find((h) => h.address === "credential.rotation/desk")?.status).toBe("ok");
  }, 120_000);

  it("secrets check reports valid, invalid and unknown with the API's reason", async () => {
    const env = { ...CANARIES, DESK_TOKEN: DESK_V3, CAL_ACCESS_TOKEN: CAL_V2 };
    const unknown = await cli(["secrets", "check"], env);
    expect(unknown.stdout).toContain(
      "credential.rotation/calendar: unknown: the probe could not tell whether it works; no refresh token",
    );
    expect(unknown.code).toBe(2);

    const live = await credentials();
    await setProbe(live.get("calendar") ?? {}, "valid");
    await setProbe(live.get("crm") ?? {}, "invalid");
    const checked = await cli(["secrets", "check", "--json"], env);
    expect(checked.code).toBe(2);
    const { checks } = JSON.parse(checked.stdout) as {
      checks: Array<{ address: string; status: string; reason: string }>;
    };
    expect(checks).toEqual([
      {
        address: "credential.rotation/calendar",
        status: "valid",
        reason: "authenticated against its MCP server; no refresh token",
      },
      {
        address: "credential.rotation/crm",
        status: "invalid",
        reason: "rejected; MCP initialize answered 401; refresh no_refresh_token",
      },
    ]);

    // A new access token (a rotation) makes the old verdict stale: the probe knows nothing of the new one yet.
    const rotated = await cli(["secrets", "rotate", "--only", "rotation/crm"], {
      ...env,
      CRM_ACCESS_TOKEN: "canary-crm-v2-aa01",
    });
    ALL_CANARIES.push("canary-crm-v2-aa01");
    expect(rotated.code).toBe(0);
    const after = await cli(["secrets", "check"], env);
    expect(after.stdout).toContain("credential.rotation/crm: unknown");
  }, 120_000);

  it("no canary in any output, the saved plan, the emulator's state file or its log", async () => {
    const state = await readdir(stateDir);
    const files = state.filter((f) => f.startsWith("emulator-state")).map((f) => join(stateDir, f));
    const texts = [...outputs, log.join("\n"), ...(await Promise.all(files.map((f) => readFile(f, "utf8"))))];
    expect(files.length).toBeGreaterThan(0);
    expect(log.length).toBeGreaterThan(0);
    for (const canary of ALL_CANARIES) {
      for (const text of texts) expect(text).not.toContain(canary);
    }
  });
});
