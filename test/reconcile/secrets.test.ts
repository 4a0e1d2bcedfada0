/** The pure stages of secret rotation and health: `secretHealth`, `secretVariables`, `rotationPlan`. */
import { describe, expect, test } from "vitest";
import { credentialProvider } from "../../src/providers/credential.js";
import type { DesiredResource, LiveResource } from "../../src/providers/types.js";
import type { LiveState } from "../../src/reconcile/observe.js";
import { buildPlan } from "../../src/reconcile/plan.js";
import { rotationPlan } from "../../src/reconcile/secrets.js";
import { healthWarnings, secretHealth, secretVariables } from "../../src/reconcile/secrets-health.js";
import type { DesiredSpecs, ResolvedVault } from "../../src/spec/types.js";
import { vaultSpec } from "../providers/fixtures.js";

const NOW = new Date("2026-06-01T12:00:00Z");
const DAY = 86_400_000;

function vault(maxAge: number | null, oauthExpires?: string): ResolvedVault {
  const v = vaultSpec();
  const first = v.credentials[0];
  if (first) first.max_age_ms = maxAge;
  v.credentials.push({
    name: "oauth",
    display_name: null,
    metadata: {},
    previous_names: [],
    source: { file: "vaults/mail.yaml", line: 9, col: 5 },
    auth: {
      type: "mcp_oauth",
      mcp_server_url: "https://mcp.example.com/oauth",
      access_token: { source: "env", name: "OAUTH_TOKEN" },
      ...(oauthExpires ? { expires_at: oauthExpires } : {}),
    },
  });
  return v;
}

function desired(v: ResolvedVault, env: Record<string, string>): DesiredResource[] {
  const specs: DesiredSpecs = { agents: [], environments: [], vaults: [v], toolsets: [] };
  return credentialProvider.desired(specs, { stack: "s", secrets: (ref) => env[ref.name] });
}

function liveOf(resources: DesiredResource[], metadata: Record<string, Record<string, string>> = {}): LiveState {
  const live: LiveState = { resources: new Map(), duplicates: [], adoptions: new Map(), adoptionErrors: new Map() };
  live.resources.set("vault.mail", {
    type: "vault",
    name: "mail",
    address: "vault.mail",
    id: "vlt_1",
    state: {},
    metadata: {},
    protected: false,
    deleteOnPrune: false,
    created_at: "2026-01-01T00:00:00Z",
  } as LiveResource);
  for (const r of resources) {
    live.resources.set(r.address, {
      type: r.type,
      name: r.name,
      address: r.address,
      id: `vcrd_${r.name.replace(/\W/g, "")}`,
      parentId: "vlt_1",
      state: structuredClone(r.state),
      metadata: metadata[r.address] ?? {},
      protected: false,
      deleteOnPrune: false,
      created_at: "2026-01-01T00:00:00Z",
    });
  }
  return live;
}

describe("secretHealth", () => {
  test("due after max_age, or with no recorded write time; ok within it", () => {
    const d = desired(vault(30 * DAY), { MAIL_TOKEN: "a", OAUTH_TOKEN: "b" });
    const at = (iso: string) => ({ "credential.mail/workspace": { "reconcile/secret-written-at": iso } });
    const old = secretHealth(d, liveOf(d, at("2026-04-01T00:00:00Z")), { now: NOW });
    expect(old[1]).toMatchObject({
      address: "credential.mail/workspace",
      status: "due",
      reason: "last written 2026-04-01T00:00:00Z, more than max_age 30d ago",
    });
    expect(secretHealth(d, liveOf(d, at("2026-05-20T00:00:00Z")), { now: NOW })[1]?.status).toBe("ok");
    expect(secretHealth(d, liveOf(d), { now: NOW })[1]?.status).toBe("due");
    expect(healthWarnings(old)).toEqual([
      "credential.mail/workspace: secret due: last written 2026-04-01T00:00:00Z, more than max_age 30d ago; run `reconcile secrets rotate`",
    ]);
  });

  test("mcp_oauth expires_at: expiring within the window, expired when past", () => {
    const soon = desired(vault(null, "2026-06-01T20:00:00Z"), { MAIL_TOKEN: "a", OAUTH_TOKEN: "b" });
    expect(secretHealth(soon, liveOf(soon), { now: NOW })[0]).toMatchObject({
      address: "credential.mail/oauth",
      status: "expiring",
    });
    expect(secretHealth(soon, liveOf(soon), { now: NOW, expiryWarningMs: 3_600_000 })[0]?.status).toBe("ok");
    const past = desired(vault(null, "2026-06-01T11:00:00Z"), { MAIL_TOKEN: "a", OAUTH_TOKEN: "b" });
    expect(secretHealth(past, liveOf(past), { now: NOW })[0]?.status).toBe("expired");
  });

  test("a credential not live yet is missing", () => {
    const d = desired(vault(DAY), { MAIL_TOKEN: "a", OAUTH_TOKEN: "b" });
    const live = liveOf([]);
    expect(secretHealth(d, live, { now: NOW }).map((h) => h.status)).toEqual(["missing", "missing"]);
  });

  test("secretVariables names the variables, never values", () => {
    const d = desired(vault(null), { MAIL_TOKEN: "canary-1", OAUTH_TOKEN: "canary-2" });
    expect(secretVariables(d)).toEqual({
      "credential.mail/oauth": ["OAUTH_TOKEN"],
      "credential.mail/workspace": ["MAIL_TOKEN"],
    });
  });
});

describe("rotationPlan", () => {
  const opts = { stack: "s", target: "default" };

  test("only the changed secret is written; unchanged and unset ones are reported", () => {
    const applied = desired(vault(null), { MAIL_TOKEN: "a", OAUTH_TOKEN: "b" });
    const live = liveOf(applied);
    const now = desired(vault(null), { MAIL_TOKEN: "a2" });
    const plan = buildPlan(now, live, opts);
    const rotation = rotationPlan(plan, now, live);
    expect(rotation.entries).toEqual([
      {
        address: "credential.mail/oauth",
        status: "skipped",
        reason: "${env:OAUTH_TOKEN} not set; set it in the environment that runs rotate (in CI: the job's secrets)",
      },
      { address: "credential.mail/workspace", status: "rotate" },
    ]);
    expect(rotation.plan.actions.map((a) => [a.address, a.action, a.changes.map((c) => c.path)])).toEqual([
      ["credential.mail/workspace", "update", ["secret"]],
    ]);
    expect(rotation.otherChanges).toBe(0);
  });

  test("non-secret changes stay pending; --force rewrites an unchanged secret; --only narrows", () => {
    const applied = desired(vault(null), { MAIL_TOKEN: "a", OAUTH_TOKEN: "b" });
    const live = liveOf(applied);
    const edited = vault(null);
    const first = edited.credentials[0];
    if (first) first.display_name = "renamed";
    const now = desired(edited, { MAIL_TOKEN: "a", OAUTH_TOKEN: "b" });
    const plan = buildPlan(now, live, opts);
    const rotation = rotationPlan(plan, now, live);
    expect(rotation.plan.actions).toEqual([]);
    expect(rotation.otherChanges).toBe(1);
    const forced = rotationPlan(plan, now, live, { force: true, only: ["mail/oauth"] });
    expect(forced.entries).toEqual([{ address: "credential.mail/oauth", status: "rotate" }]);
    expect(forced.plan.actions[0]).toMatchObject({
      action: "update",
      id: "vcrd_mailoauth",
      changes: [{ path: "secret" }],
    });
    expect(() => rotationPlan(plan, now, live, { only: ["mail/nope"] })).toThrow(
      /--only names no declared credential: mail\/nope/,
    );
  });

  test("a credential whose vault is not live is skipped, not created", () => {
    const now = desired(vault(null), { MAIL_TOKEN: "a", OAUTH_TOKEN: "b" });
    const live = liveOf([]);
    live.resources.delete("vault.mail");
    const rotation = rotationPlan(buildPlan(now, live, opts), now, live);
    expect(rotation.entries.map((e) => e.status)).toEqual(["skipped", "skipped"]);
    expect(rotation.entries[0]?.reason).toContain("its vault vault.mail does not exist yet");
    expect(rotation.plan.actions).toEqual([]);
  });
});

describe("redactSecretValues", () => {
  test("an API error that echoes a sent secret prints (sensitive) instead; other errors are untouched", async () => {
    const { redactSecretValues } = await import("../../src/providers/secrets.js");
    const Anthropic = (await import("@anthropic-ai/sdk")).default;
    const echoed = Anthropic.APIError.generate(
      403,
      { type: "error", error: { type: "permission_error", message: 'refused: {"token":"canary-echo-55"}' } },
      undefined,
      new Headers(),
    );
    const scrubbed = redactSecretValues(echoed, ["canary-echo-55"]) as InstanceType<typeof Anthropic.APIError>;
    expect(scrubbed).toBeInstanceOf(Anthropic.APIError);
    expect(scrubbed.status).toBe(403);
    expect(scrubbed.apiMessage ?? scrubbed.message).toBe('refused: {"token":"(sensitive)"}');
    expect(scrubbed.message).not.toContain("canary-echo-55");
    const plain = new Error("timed out");
    expect(redactSecretValues(plain, ["canary-echo-55"])).toBe(plain);
    expect((redactSecretValues(new Error("x canary-echo-55"), ["canary-echo-55"]) as Error).message).toBe(
      "x (sensitive)",
    );
  });
});
