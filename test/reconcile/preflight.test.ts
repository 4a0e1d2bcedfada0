/**
 * Preflight as a pure function: what apply checks before its first write, and what `--skip-unready` would skip.
 */
import { describe, expect, it } from "vitest";
import { credentialProvider } from "../../src/providers/credential.js";
import type { DesiredResource, LiveResource, ProviderContext } from "../../src/providers/types.js";
import { vaultProvider } from "../../src/providers/vault.js";
import type { LiveState } from "../../src/reconcile/observe.js";
import { buildPlan, type Plan } from "../../src/reconcile/plan.js";
import { preflight } from "../../src/reconcile/preflight.js";
import type { DesiredSpecs, ResolvedVault } from "../../src/spec/types.js";
import { vaultSpec } from "../providers/fixtures.js";

const now = () => new Date("2026-11-21T00:00:00Z");
const opts = { stack: "test", target: "default", now };
const ctx = (env: Record<string, string>): ProviderContext => ({ stack: "test", secrets: (ref) => env[ref.name] });
const specs = (vault: ResolvedVault = vaultSpec()): DesiredSpecs => ({
  agents: [],
  environments: [],
  vaults: [vault],
  toolsets: [],
});
const desired = (s: DesiredSpecs, c: ProviderContext): DesiredResource[] =>
  [vaultProvider, credentialProvider].flatMap((p) => p.desired(s, c));
const empty = (): LiveState => ({
  resources: new Map(),
  duplicates: [],
  adoptions: new Map(),
  adoptionErrors: new Map(),
});

/** Live state as if `resources` had been applied and read back. */
function liveFrom(resources: DesiredResource[]): LiveState {
  const live = empty();
  resources.forEach((r, i) => {
    const parentId = r.dependsOn[0] ? live.resources.get(r.dependsOn[0])?.id : undefined;
    const resource: LiveResource = {
      type: r.type,
      name: r.name,
      address: r.address,
      id: `id_${i}`,
      ...(parentId ? { parentId } : {}),
      state: r.state,
      metadata: {},
      protected: false,
      deleteOnPrune: false,
      created_at: "2026-01-01T00:00:00Z",
    };
    live.resources.set(r.address, resource);
  });
  return live;
}

const check = (plan: Plan, d: DesiredResource[], live: LiveState) => {
  const result = preflight(plan, d, live);
  return { problems: result.problems.map((p) => `${p.address}: ${p.problem}`), unready: [...result.unready.keys()] };
};

describe("preflight", () => {
  it("passes a plan whose secrets are set", () => {
    const d = desired(specs(), ctx({ MAIL_TOKEN: "t" }));
    const plan = buildPlan(d, empty(), opts);
    expect(preflight(plan, d, empty())).toEqual({ problems: [], unready: new Map() });
  });

  it("stops a create that needs an unset secret, and nothing else", () => {
    const d = desired(specs(), ctx({}));
    const result = check(buildPlan(d, empty(), opts), d, empty());
    expect(result.problems).toEqual([
      "credential.mail/workspace: this create sends ${env:MAIL_TOKEN}, which is not set; set it (in CI: the job's secrets) and apply again",
    ]);
    expect(result.unready).toEqual(["credential.mail/workspace"]);
  });

  it("stops an archive-first replace whose create would need an unset secret", () => {
    const applied = desired(specs(), ctx({ MAIL_TOKEN: "t" }));
    const moved = vaultSpec();
    const credential = moved.credentials[0] as ResolvedVault["credentials"][number];
    const auth = { ...credential.auth, mcp_server_url: "https://mcp.example.com/v2" } as typeof credential.auth;
    moved.credentials = [{ ...credential, auth }];
    const d = desired(specs(moved), ctx({}));
    const live = liveFrom(applied);
    const plan = buildPlan(d, live, opts);
    expect(plan.actions.map((a) => a.action)).toEqual(["replace"]);
    expect(check(plan, d, live).problems).toEqual([
      "credential.mail/workspace: this replace sends ${env:MAIL_TOKEN}, which is not set; set it (in CI: the job's secrets) and apply again",
    ]);
  });

  it("holds back an update of a resource with an unset secret, but not a lifecycle-only change", () => {
    const applied = desired(specs(), ctx({ MAIL_TOKEN: "t" }));
    const renamed = vaultSpec();
    const credential = renamed.credentials[0] as ResolvedVault["credentials"][number];
    renamed.credentials = [{ ...credential, display_name: "Mail" }];
    const d = desired(specs(renamed), ctx({}));
    const live = liveFrom(applied);
    expect(check(buildPlan(d, live, opts), d, live).problems).toEqual([
      "credential.mail/workspace: this write may resend ${env:MAIL_TOKEN}, which is not set; set it (in CI: the job's secrets) and apply again",
    ]);
    const protectedOnly = desired(specs({ ...vaultSpec(), protect: true }), ctx({}));
    const plan = buildPlan(protectedOnly, live, opts);
    expect(plan.actions.map((a) => `${a.action} ${a.address}`)).toEqual([
      "update vault.mail",
      "update credential.mail/workspace",
    ]);
    expect(check(plan, protectedOnly, live).problems).toEqual([]);
  });

  it("stops a child whose parent neither exists nor is created", () => {
    const d = desired(specs(), ctx({ MAIL_TOKEN: "t" }));
    const plan = buildPlan(d, empty(), opts);
    const withoutVault = { ...plan, actions: plan.actions.filter((a) => a.address !== "vault.mail") };
    expect(check(withoutVault, d, empty()).problems).toEqual([
      "credential.mail/workspace: its parent vault.mail does not exist and this plan does not create it; declare vault.mail, or remove this resource from its spec",
    ]);
  });

  it("checks metadata against the API's limits, reserved keys included, and skips dependents too", () => {
    const many = Object.fromEntries(Array.from({ length: 13 }, (_, i) => [`k${i}`, "v"]));
    const d = desired(specs({ ...vaultSpec(), metadata: many }), ctx({ MAIL_TOKEN: "t" }));
    const result = check(buildPlan(d, empty(), opts), d, empty());
    expect(result.problems).toEqual([
      "vault.mail: metadata would hold 17 keys (13 of its own and 4 reserved by reconcile), more than the API's 16; remove 1 from the spec",
    ]);
    expect(result.unready).toEqual(["vault.mail", "credential.mail/workspace"]);
    const long = desired(
      specs({ ...vaultSpec(), metadata: { ["k".repeat(65)]: "v", team: "x".repeat(513) } }),
      ctx({ MAIL_TOKEN: "t" }),
    );
    expect(check(buildPlan(long, empty(), opts), long, empty()).problems).toEqual([
      'vault.mail: metadata key "kkkkkkkkkkkkkkkkkkkk"… has 65 characters, more than the API\'s 64; shorten it',
      "vault.mail: metadata.team has 513 characters, more than the API's 512; shorten it",
    ]);
  });

  it("ignores actions that write nothing of a spec (archives of duplicates, keeps)", () => {
    const applied = desired(specs(), ctx({ MAIL_TOKEN: "t" }));
    const live = liveFrom(applied);
    const vault = live.resources.get("vault.mail") as LiveResource;
    live.duplicates.push({ ...vault, id: "vlt_extra", created_at: "2025-01-01" });
    const d = desired(specs(), ctx({}));
    const plan = buildPlan(d, live, opts);
    expect(plan.actions.map((a) => `${a.action} ${a.id}`)).toEqual(["archive vlt_extra"]);
    expect(check(plan, d, live).problems).toEqual([]);
  });
});
