import { describe, expect, it } from "vitest";
import { credentialProvider } from "../../src/providers/credential.js";
import { environmentProvider } from "../../src/providers/environment.js";
import type { DesiredResource, LiveResource, ProviderContext } from "../../src/providers/types.js";
import { vaultProvider } from "../../src/providers/vault.js";
import { settleDuplicates } from "../../src/reconcile/duplicates.js";
import type { LiveState } from "../../src/reconcile/observe.js";
import {
  actionKey,
  buildPlan,
  changedFields,
  type Plan,
  PlanRefused,
  planHasChanges,
  staleInputs,
} from "../../src/reconcile/plan.js";
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
  on_prune: "archive",
  previous_names: [],
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
      protected: false,
      deleteOnPrune: false,
      created_at: "2026-01-01T00:00:00Z",
    });
  });
  for (const r of extra) map.set(r.address, r);
  return { resources: map, duplicates: [], adoptions: new Map(), adoptionErrors: new Map() };
}

describe("buildPlan", () => {
  it("creates everything against an empty workspace, vault before its credential", () => {
    const plan = buildPlan(
      desired(specs(), ctx()),
      { resources: new Map(), duplicates: [], adoptions: new Map(), adoptionErrors: new Map() },
      { stack: "test", target: "default", now },
    );
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
    const plan = buildPlan(d, liveFrom(d), { stack: "test", target: "default", now });
    expect(plan.actions).toEqual([]);
    expect(plan.summary.unchanged).toBe(3);
    expect(planHasChanges(plan)).toBe(false);
  });

  it("shows a rotated secret as a masked update, never the value", () => {
    const applied = desired(specs(), ctx());
    const rotated = desired(specs(), ctx({ MAIL_TOKEN: `${CANARY}-rotated` }));
    const plan = buildPlan(rotated, liveFrom(applied), { stack: "test", target: "default", now });
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
    const plan = buildPlan(desired(specs(), ctx({})), liveFrom(applied), { stack: "test", target: "default", now });
    expect(plan.actions).toEqual([]);
    expect(plan.warnings).toEqual([
      "credential.mail/workspace: cannot tell whether its secret changed: ${env:MAIL_TOKEN} is not set here",
    ]);
  });

  it("replaces what cannot change in place and says why", () => {
    const applied = desired(specs(), ctx());
    const changed = desired(specs({ environments: [env({ type: "self_hosted" })] }), ctx());
    const plan = buildPlan(changed, liveFrom(applied), { stack: "test", target: "default", now });
    expect(plan.actions[0]).toMatchObject({ action: "replace", address: "environment.sandbox", id: "id_0" });
    expect(plan.actions[0]?.reason).toContain("config.type cannot change in place");
  });

  it("keeps undeclared resources unless pruning, and folds a vault's credentials into the vault", () => {
    const applied = desired(specs(), ctx());
    const remaining = desired(specs({ vaults: [] }), ctx());
    const kept = buildPlan(remaining, liveFrom(applied), { stack: "test", target: "default", now });
    expect(kept.actions.map((a) => `${a.action} ${a.address}`)).toEqual(["keep vault.mail"]);
    expect(planHasChanges(kept)).toBe(false);
    const pruned = buildPlan(remaining, liveFrom(applied), {
      stack: "test",
      target: "default",
      now,
      prune: true,
      allowMassPrune: true,
    });
    expect(pruned.actions.map((a) => `${a.action} ${a.address}`)).toEqual(["archive vault.mail"]);
  });
});

describe("protection and pruning", () => {
  const protectedEnv = (config: ResolvedEnvironment["config"]) => ({ ...env(config), protect: true });

  it("refuses to replace a protected resource and says how to proceed", () => {
    const applied = desired(specs({ environments: [protectedEnv({ type: "cloud" })] }), ctx());
    const live = liveFrom(applied);
    const sandbox = live.resources.get("environment.sandbox");
    if (sandbox) sandbox.protected = true;
    const changed = desired(specs({ environments: [protectedEnv({ type: "self_hosted" })] }), ctx());
    expect(() => buildPlan(changed, live, { stack: "test", target: "default", now })).toThrow(PlanRefused);
    try {
      buildPlan(changed, live, { stack: "test", target: "default", now });
    } catch (error) {
      expect((error as PlanRefused).reasons).toEqual([
        "environment.sandbox is protected, but the specs would replace it (config.type cannot change in place); change the spec back, or remove protect: true first",
      ]);
    }
  });

  it("refuses to prune a protected resource even after its spec is gone", () => {
    const applied = desired(specs(), ctx());
    const live = liveFrom(applied);
    const vault = live.resources.get("vault.mail");
    if (vault) vault.protected = true;
    const remaining = desired(specs({ vaults: [] }), ctx());
    expect(() => buildPlan(remaining, live, { stack: "test", target: "default", now, prune: true })).toThrow(
      /vault\.mail \(id_1\) is protected and no longer declared/,
    );
    // Without prune nothing is archived, so nothing is refused.
    expect(buildPlan(remaining, live, { stack: "test", target: "default", now }).actions[0]?.action).toBe("keep");
  });

  it("shows turning protection on as a change that writes the lifecycle key", () => {
    const applied = desired(specs(), ctx());
    const plan = buildPlan(
      desired(specs({ environments: [protectedEnv({ type: "cloud" })] }), ctx()),
      liveFrom(applied),
      {
        stack: "test",
        target: "default",
        now,
      },
    );
    expect(plan.actions).toMatchObject([
      {
        action: "update",
        address: "environment.sandbox",
        changes: [{ path: "protect", before: false, after: true }],
        ownership: { "reconcile/lifecycle": "protect" },
      },
    ]);
    expect(changedFields(plan.actions[0] as never)).toEqual([]);
  });

  it("refuses a plan that archives more than the allowed share unless told to", () => {
    const applied = desired(specs(), ctx());
    const nothing = desired(specs({ environments: [], vaults: [] }), ctx());
    expect(() => buildPlan(nothing, liveFrom(applied), { stack: "test", target: "default", now, prune: true })).toThrow(
      /removes \(archives or deletes\) 3 of the 3 resources stack "test" owns \(more than max_prune_share 50%\)/,
    );
    const allowed = buildPlan(nothing, liveFrom(applied), {
      stack: "test",
      target: "default",
      now,
      prune: true,
      allowMassPrune: true,
    });
    expect(allowed.actions.map((a) => `${a.action} ${a.address}`)).toEqual([
      "archive environment.sandbox",
      "archive vault.mail",
    ]);
    expect(allowed.options).toEqual({ prune: true, allow_mass_prune: true });
  });
});

describe("renames and adoption", () => {
  it("renames through previous_names instead of recreating, children included", () => {
    const applied = desired(specs(), ctx());
    const renamed = desired(specs({ vaults: [{ ...vaultSpec(), name: "mailbox", previous_names: ["mail"] }] }), ctx());
    const plan = buildPlan(renamed, liveFrom(applied), { stack: "test", target: "default", now });
    expect(plan.actions.map((a) => `${a.action} ${a.address} <- ${a.moved_from}`)).toEqual([
      "update vault.mailbox <- vault.mail",
      "update credential.mailbox/workspace <- credential.mail/workspace",
    ]);
    expect(plan.actions[0]?.ownership).toEqual({ "reconcile/name": "mailbox" });
    expect(plan.summary).toMatchObject({ create: 0, archive: 0, keep: 0 });
  });

  it("adopts an unowned object: full ownership written, only real differences shown", () => {
    const declared = desired(specs(), ctx());
    const sandbox = declared.find((d) => d.address === "environment.sandbox") as DesiredResource;
    const live: LiveState = {
      resources: new Map(),
      duplicates: [],
      adoptions: new Map([
        [
          "environment.sandbox",
          {
            type: "environment",
            name: "sandbox",
            address: "environment.sandbox",
            id: "env_console",
            state: { ...sandbox.state, description: "made in the console" },
            metadata: {},
            protected: false,
            deleteOnPrune: false,
            created_at: "2026-01-01T00:00:00Z",
          },
        ],
      ]),
      adoptionErrors: new Map(),
    };
    const plan = buildPlan(declared, live, { stack: "test", target: "default", now });
    expect(plan.actions[0]).toMatchObject({
      action: "adopt",
      id: "env_console",
      changes: [{ path: "description", before: "made in the console", after: null }],
      ownership: { "managed-by": "reconcile", "reconcile/stack": "test", "reconcile/name": "sandbox" },
    });
    expect(plan.summary.adopt).toBe(1);
  });

  it("refuses an adopt entry that cannot be honoured", () => {
    const live: LiveState = {
      resources: new Map(),
      duplicates: [],
      adoptions: new Map(),
      adoptionErrors: new Map([["environment.sandbox", "env_gone does not exist (or is not visible to this key)"]]),
    };
    expect(() => buildPlan(desired(specs(), ctx()), live, { stack: "test", target: "default", now })).toThrow(
      "adopt environment.sandbox: env_gone does not exist",
    );
  });
});

describe("saved plan inputs", () => {
  it("finds no stale input when nothing changed, and names each kind of change", () => {
    const applied = desired(specs(), ctx());
    const before = buildPlan(applied, liveFrom(applied), { stack: "test", target: "default", now });
    expect(
      staleInputs(
        before.inputs,
        buildPlan(applied, liveFrom(applied), { stack: "test", target: "default", now }).inputs,
      ),
    ).toEqual([]);

    const edited = desired(specs({ environments: [env({ type: "cloud", networking: { type: "limited" } })] }), ctx());
    const liveEdited = liveFrom(applied);
    const vault = liveEdited.resources.get("vault.mail");
    if (vault) vault.state = { ...vault.state, display_name: "renamed in the console" };
    liveEdited.resources.delete("credential.mail/workspace");
    const after = buildPlan(edited, liveEdited, { stack: "test", target: "default", now }).inputs;
    expect(staleInputs(before.inputs, after)).toEqual([
      { address: "credential.mail/workspace", reason: "it vanished from the workspace" },
      { address: "environment.sandbox", reason: "its spec changed" },
      { address: "vault.mail", reason: "the live resource changed (edited in the console, or another apply ran)" },
    ]);
  });

  it("computes the input digests when first read, the same through the property, JSON and a spread", () => {
    const applied = desired(specs(), ctx());
    const build = () => buildPlan(applied, liveFrom(applied), { stack: "test", target: "default", now });
    const plan = build();
    // Not computed yet: an accessor until read (a no-op `plan` never reads them).
    expect(typeof Object.getOwnPropertyDescriptor(plan, "inputs")?.get).toBe("function");
    const viaJson = (JSON.parse(JSON.stringify(build())) as Plan).inputs;
    const viaSpread = { ...build() }.inputs;
    const read = plan.inputs;
    expect(Object.getOwnPropertyDescriptor(plan, "inputs")?.value).toBe(read);
    expect(viaJson).toEqual(read);
    expect(viaSpread).toEqual(read);
    expect(Object.keys(read)).toEqual([...Object.keys(read)].sort((a, b) => a.localeCompare(b)));
    expect(read["environment.sandbox"]).toEqual({
      desired: expect.stringMatching(/^[0-9a-f]{32}$/),
      live: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    // The key keeps its place in the plan's JSON (after warnings), as before it was computed lazily.
    expect(Object.keys(build())).toEqual([
      "format_version",
      "stack",
      "target",
      "created_at",
      "options",
      "actions",
      "summary",
      "warnings",
      "inputs",
    ]);
  });

  it("keeps secrets out of the inputs but notices a different secret value", () => {
    const applied = desired(specs(), ctx());
    const plan = buildPlan(applied, liveFrom(applied), { stack: "test", target: "default", now });
    expect(JSON.stringify(plan)).not.toContain(CANARY);
    const rotated = buildPlan(desired(specs(), ctx({ MAIL_TOKEN: "other" })), liveFrom(applied), {
      stack: "test",
      target: "default",
      now,
    });
    expect(staleInputs(plan.inputs, rotated.inputs)).toEqual([
      { address: "credential.mail/workspace", reason: "its secret value is not the one planned" },
    ]);
  });
});

describe("on_prune: delete", () => {
  const deletable = (): ResolvedEnvironment => ({ ...env({ type: "cloud" }), on_prune: "delete" });

  it("records the choice on the live resource as a lifecycle change", () => {
    const applied = desired(specs(), ctx());
    const plan = buildPlan(desired(specs({ environments: [deletable()] }), ctx()), liveFrom(applied), {
      stack: "test",
      target: "default",
      now,
    });
    expect(plan.actions).toMatchObject([
      {
        action: "update",
        changes: [{ path: "on_prune", before: "archive", after: "delete" }],
        ownership: { "reconcile/lifecycle": "delete" },
      },
    ]);
    expect(changedFields(plan.actions[0] as never)).toEqual([]);
  });

  it("deletes instead of archiving under prune, and counts it against the mass-prune share", () => {
    const applied = desired(specs({ environments: [deletable()] }), ctx());
    const live = liveFrom(applied);
    const sandbox = live.resources.get("environment.sandbox");
    if (sandbox) sandbox.deleteOnPrune = true;
    const withoutEnv = desired(specs({ environments: [] }), ctx());
    const plan = buildPlan(withoutEnv, live, { stack: "test", target: "default", now, prune: true });
    expect(plan.actions.map((a) => `${a.action} ${a.address}`)).toEqual(["delete environment.sandbox"]);
    expect(plan.summary).toMatchObject({ archive: 0, delete: 1 });
    expect(() =>
      buildPlan(desired(specs({ environments: [], vaults: [] }), ctx()), live, {
        stack: "test",
        target: "default",
        now,
        prune: true,
      }),
    ).toThrow(/removes \(archives or deletes\) 3 of the 3 resources/);
  });
});

describe("adopt entries", () => {
  it("ignores an entry that is done, and warns about one naming another id or no spec", () => {
    const applied = desired(specs(), ctx());
    const plan = buildPlan(applied, liveFrom(applied), {
      stack: "test",
      target: "default",
      now,
      adopt: [
        { address: "environment.sandbox", id: "id_0" },
        { address: "vault.mail", id: "vlt_other" },
        { address: "agent.ghost", id: "agent_x" },
      ],
    });
    expect(plan.actions).toEqual([]);
    expect(plan.warnings).toEqual([
      "adopt entry vault.mail names vlt_other, but the stack already manages vault.mail as id_1; the entry is ignored: remove it from reconcile.yaml",
      "adopt entry agent.ghost has no spec with that name; it is ignored",
    ]);
  });
});

describe("duplicates", () => {
  /** Another owned object claiming `resource`'s address, as a crashed replace or a doubled create leaves it. */
  const twin = (resource: LiveResource, over: Partial<LiveResource>): LiveResource => ({ ...resource, ...over });
  const withDuplicates = (live: LiveState, duplicates: LiveResource[]): LiveState => ({ ...live, duplicates });
  const opts = { stack: "test", target: "default", now };

  it("keeps the one whose state the spec matches and archives the other, without --prune", () => {
    const d = desired(specs(), ctx());
    const live = liveFrom(d);
    const sandbox = live.resources.get("environment.sandbox") as LiveResource;
    // Observe put the newest in `resources`: here it is the one that drifted.
    live.resources.set(
      "environment.sandbox",
      twin(sandbox, {
        id: "env_new",
        created_at: "2026-02-01T00:00:00Z",
        state: { ...sandbox.state, description: "x" },
      }),
    );
    const plan = buildPlan(d, withDuplicates(live, [sandbox]), opts);
    expect(plan.actions).toEqual([
      {
        address: "environment.sandbox",
        type: "environment",
        name: "sandbox",
        action: "archive",
        id: "env_new",
        duplicate_of: "id_0",
        changes: [],
        reason: "duplicate of id_0",
        depends_on: [],
      },
    ]);
    expect(plan.summary).toMatchObject({ archive: 1, update: 0, unchanged: 3 });
    expect(planHasChanges(plan)).toBe(true);
    expect(plan.warnings).toEqual([]);
    expect(plan.inputs["environment.sandbox"]?.duplicates).toMatch(/^[0-9a-f]{32}$/);
  });

  it("keeps the newest when none matches (and updates it), and when both match", () => {
    const d = desired(specs(), ctx());
    const live = liveFrom(d);
    const sandbox = live.resources.get("environment.sandbox") as LiveResource;
    const drifted = { ...sandbox.state, description: "drift" };
    live.resources.set("environment.sandbox", twin(sandbox, { state: drifted }));
    const older = twin(sandbox, { id: "env_old", created_at: "2025-12-01T00:00:00Z", state: drifted });
    const plan = buildPlan(d, withDuplicates(live, [older]), opts);
    expect(plan.actions.map((a) => `${a.action} ${a.id} ${a.duplicate_of ?? ""}`)).toEqual([
      "update id_0 ",
      "archive env_old id_0",
    ]);
    const matching = liveFrom(d);
    const both = buildPlan(
      d,
      withDuplicates(matching, [twin(sandbox, { id: "env_old", created_at: "2025-12-01" })]),
      opts,
    );
    expect(both.actions.map((a) => `${a.action} ${a.id} ${a.duplicate_of ?? ""}`)).toEqual(["archive env_old id_0"]);
  });

  it("never archives a protected duplicate, and refuses when two are protected", () => {
    const d = desired(specs(), ctx());
    const live = liveFrom(d);
    const sandbox = live.resources.get("environment.sandbox") as LiveResource;
    const guarded = twin(sandbox, { id: "env_guarded", created_at: "2025-01-01T00:00:00Z", protected: true });
    const plan = buildPlan(d, withDuplicates(live, [guarded]), opts);
    expect(plan.actions.map((a) => `${a.action} ${a.id} ${a.duplicate_of ?? ""}`)).toEqual([
      "update env_guarded ",
      "archive id_0 env_guarded",
    ]);
    const second = twin(guarded, { id: "env_guarded2" });
    expect(() => buildPlan(d, withDuplicates(live, [guarded, second]), opts)).toThrow(
      /environment\.sandbox is claimed by 2 protected resources \(env_guarded2, env_guarded\)/,
    );
  });

  it("folds a duplicate vault's credentials into its archive, and creates what the kept vault lacks", () => {
    const d = desired(specs(), ctx());
    const live = liveFrom(d);
    const vault = live.resources.get("vault.mail") as LiveResource;
    const credential = live.resources.get("credential.mail/workspace") as LiveResource;
    // The kept vault (protected) has no credential; the newer duplicate holds it.
    live.resources.set("vault.mail", twin(vault, { id: "vlt_new", created_at: "2026-03-01T00:00:00Z" }));
    live.resources.set("credential.mail/workspace", twin(credential, { parentId: "vlt_new" }));
    const kept = twin(vault, { id: "vlt_kept", protected: true });
    const plan = buildPlan(d, withDuplicates(live, [kept]), opts);
    expect(plan.actions.map((a) => `${a.action} ${a.address} ${a.id ?? ""}`)).toEqual([
      "update vault.mail vlt_kept",
      "archive vault.mail vlt_new",
      "create credential.mail/workspace ",
    ]);
    expect(plan.actions[1]?.reason).toBe("duplicate of vlt_kept; the 1 resource under it go with it");
    expect(plan.inputs["credential.mail/workspace"]?.duplicates).toBeDefined();
  });

  it("refuses to archive a duplicate parent that holds a protected child", () => {
    const d = desired(specs(), ctx());
    const live = liveFrom(d);
    const vault = live.resources.get("vault.mail") as LiveResource;
    const credential = live.resources.get("credential.mail/workspace") as LiveResource;
    const extra = twin(vault, { id: "vlt_extra", created_at: "2025-01-01T00:00:00Z" });
    const child = twin(credential, { id: "cred_extra", parentId: "vlt_extra", protected: true });
    expect(() => buildPlan(d, withDuplicates(live, [extra, child]), opts)).toThrow(
      /credential\.mail\/workspace \(cred_extra\) is protected, but it belongs to a duplicate vlt_extra/,
    );
  });

  it("does not count duplicates against max_prune_share", () => {
    const d = desired(specs(), ctx());
    const live = liveFrom(d);
    const extras = [...live.resources.values()].map((r) => twin(r, { id: `${r.id}_dup`, created_at: "2025-01-01" }));
    // Children of duplicate parents are folded: only the top-level extras and the credential under id_1 remain.
    const plan = buildPlan(d, withDuplicates(live, extras), { ...opts, prune: true, maxPruneShare: 0.1 });
    expect(plan.actions.every((a) => a.action === "archive" && a.duplicate_of)).toBe(true);
    expect(plan.summary.archive).toBe(plan.actions.length);
  });

  it("archives the duplicates of a resource no longer declared, and keeps the newest (prune off)", () => {
    const applied = desired(specs(), ctx());
    const live = liveFrom(applied);
    const sandbox = live.resources.get("environment.sandbox") as LiveResource;
    const older = twin(sandbox, { id: "env_old", created_at: "2025-01-01" });
    const plan = buildPlan(desired(specs({ environments: [] }), ctx()), withDuplicates(live, [older]), opts);
    expect(plan.actions.map((a) => `${a.action} ${a.id} ${a.duplicate_of ?? ""}`)).toEqual([
      "keep id_0 ",
      "archive env_old id_0",
    ]);
  });

  it("makes a saved plan stale when a duplicate appears or vanishes", () => {
    const d = desired(specs(), ctx());
    const clean = buildPlan(d, liveFrom(d), opts);
    const sandbox = liveFrom(d).resources.get("environment.sandbox") as LiveResource;
    const extra = twin(sandbox, { id: "env_extra", created_at: "2025-01-01" });
    const doubled = buildPlan(d, withDuplicates(liveFrom(d), [extra]), opts);
    expect(staleInputs(clean.inputs, doubled.inputs)).toEqual([
      { address: "environment.sandbox", reason: "another live resource now claims it too (a duplicate appeared)" },
    ]);
    expect(staleInputs(doubled.inputs, clean.inputs)).toEqual([
      { address: "environment.sandbox", reason: "a duplicate the plan archives vanished" },
    ]);
  });

  it("settles the same way twice (apply sees the resource the plan kept)", () => {
    const d = desired(specs(), ctx());
    const live = liveFrom(d);
    const sandbox = live.resources.get("environment.sandbox") as LiveResource;
    const raw = withDuplicates(live, [twin(sandbox, { id: "env_guarded", created_at: "2025-01-01", protected: true })]);
    const once = settleDuplicates(d, raw).live;
    expect(once.resources.get("environment.sandbox")?.id).toBe("env_guarded");
    const twice = settleDuplicates(d, once).live;
    expect([...twice.resources.values()].map((r) => r.id)).toEqual([...once.resources.values()].map((r) => r.id));
    expect(twice.duplicates.map((r) => r.id)).toEqual(["id_0"]);
    expect(new Set(buildPlan(d, raw, opts).actions.map(actionKey)).size).toBe(2);
  });
});
