import { describe, expect, it } from "vitest";
import { credentialProvider } from "../../src/providers/credential.js";
import { environmentProvider } from "../../src/providers/environment.js";
import type { DesiredResource, LiveResource, ProviderContext } from "../../src/providers/types.js";
import { vaultProvider } from "../../src/providers/vault.js";
import type { LiveState } from "../../src/reconcile/observe.js";
import { buildPlan, changedFields, planHasChanges } from "../../src/reconcile/plan.js";
import type { DesiredSpecs, ResolvedEnvironment } from "../../src/spec/types.js";
import { vaultSpec } from "../providers/fixtures.js";

const CANARY = "canary-token-5f1d8e2b";
const now = () => new Date("2026-11-21T00:00:00Z");

function ctx(env: Record<string, string> = { MAIL_TOKEN: CANARY }): ProviderContext {
  return { stack: "test", secrets: (ref) => env[ref.name] };
}

const env = (config: ResolvedEnvironment["config"]): ResolvedEnvironment => ({
  kind: "Environment",
  name: "sandbox",
  description: null,
  config,
  metadata: {},
  protect: false,
  source: { file: "environments/sandbox.yaml", line: 1, col: 1 },
});

function specs(overrides: Partial<DesiredSpecs> = {}): DesiredSpecs {
  return { agents: [], environments: [env({ type: "cloud" })], vaults: [vaultSpec()], toolsets: [], ...overrides };
}

function desired(s: DesiredSpecs, c: ProviderContext): DesiredResource[] {
  return [environmentProvider, vaultProvider, credentialProvider].flatMap((p) => p.desired(s, c));
}

/** Live state as if `resources` had been applied and read back. */
function liveFrom(resources: DesiredResource[], extra: LiveResource[] = []): LiveState {
  const map = new Map<string, LiveResource>();
  resources.forEach((r, i) => {
    const parentId = r.dependsOn[0] ? map.get(r.dependsOn[0])?.id : undefined;
    map.set(r.address, {
      type: r.type,
      name: r.name,
      address: r.address,
      id: `id_${i}`,
      ...(parentId ? { parentId } : {}),
      state: r.state,
      metadata: {},
      created_at: "2026-01-01T00:00:00Z",
    });
  });
  for (const r of extra) map.set(r.address, r);
  return { resources: map, duplicates: [] };
}

describe("buildPlan", () => {
  it("creates everything against an empty workspace, vault before its credential", () => {
    const plan = buildPlan(desired(specs(), ctx()), { resources: new Map(), duplicates: [] }, { stack: "test", now });
    expect(plan.actions.map((a) => `${a.action} ${a.address}`)).toEqual([
      "create environment.sandbox",
      "create vault.mail",
      "create credential.mail/workspace",
    ]);
    expect(plan.actions[2]?.depends_on).toEqual(["vault.mail"]);
    expect(plan.summary).toMatchObject({ create: 3, update: 0, unchanged: 0 });
    expect(JSON.stringify(plan)).not.toContain(CANARY);
  });

  it("plans nothing when live matches", () => {
    const d = desired(specs(), ctx());
    const plan = buildPlan(d, liveFrom(d), { stack: "test", now });
    expect(plan.actions).toEqual([]);
    expect(plan.summary.unchanged).toBe(3);
    expect(planHasChanges(plan)).toBe(false);
  });

  it("shows a rotated secret as a masked update, never the value", () => {
    const applied = desired(specs(), ctx());
    const rotated = desired(specs(), ctx({ MAIL_TOKEN: `${CANARY}-rotated` }));
    const plan = buildPlan(rotated, liveFrom(applied), { stack: "test", now });
    expect(plan.actions).toHaveLength(1);
    expect(plan.actions[0]).toMatchObject({
      action: "update",
      address: "credential.mail/workspace",
      changes: [{ path: "secret", before: "(sensitive)", after: "(sensitive)", sensitive: true }],
    });
    expect(changedFields(plan.actions[0] as never)).toEqual(["secret"]);
    expect(JSON.stringify(plan)).not.toContain(CANARY);
  });

  it("does not guess about a secret it cannot read, and says so", () => {
    const applied = desired(specs(), ctx());
    const plan = buildPlan(desired(specs(), ctx({})), liveFrom(applied), { stack: "test", now });
    expect(plan.actions).toEqual([]);
    expect(plan.warnings).toEqual([
      "credential.mail/workspace: cannot tell whether its secret changed: ${env:MAIL_TOKEN} is not set here",
    ]);
  });

  it("replaces what cannot change in place and says why", () => {
    const applied = desired(specs(), ctx());
    const changed = desired(specs({ environments: [env({ type: "self_hosted" })] }), ctx());
    const plan = buildPlan(changed, liveFrom(applied), { stack: "test", now });
    expect(plan.actions[0]).toMatchObject({ action: "replace", address: "environment.sandbox", id: "id_0" });
    expect(plan.actions[0]?.reason).toContain("config.type cannot change in place");
  });

  it("keeps undeclared resources unless pruning, and folds a vault's credentials into the vault", () => {
    const applied = desired(specs(), ctx());
    const remaining = desired(specs({ vaults: [] }), ctx());
    const kept = buildPlan(remaining, liveFrom(applied), { stack: "test", now });
    expect(kept.actions.map((a) => `${a.action} ${a.address}`)).toEqual(["keep vault.mail"]);
    expect(planHasChanges(kept)).toBe(false);
    const pruned = buildPlan(remaining, liveFrom(applied), { stack: "test", now, prune: true });
    expect(pruned.actions.map((a) => `${a.action} ${a.address}`)).toEqual(["archive vault.mail"]);
  });
});
