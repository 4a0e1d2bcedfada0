/**
 * Drift classification from synthetic live states: changed outside reconcile (version or updated_at past the
 * `reconcile/applied` stamp), not applied yet, unknown (no stamp); a stamped no-op stays a no-op; the stamp format.
 */
import { describe, expect, it } from "vitest";
import { credentialProvider } from "../../src/providers/credential.js";
import { environmentProvider } from "../../src/providers/environment.js";
import {
  APPLIED_KEY,
  formatAppliedStamp,
  isReservedKey,
  parseAppliedStamp,
  userMetadata,
} from "../../src/providers/ownership.js";
import type { DesiredResource, LiveResource, ProviderContext } from "../../src/providers/types.js";
import { vaultProvider } from "../../src/providers/vault.js";
import { buildDriftReport, driftMarker, renderDriftIssue } from "../../src/reconcile/drift.js";
import type { LiveState } from "../../src/reconcile/observe.js";
import { clockSkewMs, lastWriter } from "../../src/reconcile/origin.js";
import { buildPlan, planHasChanges } from "../../src/reconcile/plan.js";
import { renderPlanMarkdown } from "../../src/reconcile/render-markdown.js";
import { renderPlanText } from "../../src/reconcile/render-text.js";
import type { DesiredSpecs, ResolvedEnvironment } from "../../src/spec/types.js";
import { schemaProblems } from "../../src/spec/validate.js";
import { vaultSpec } from "../providers/fixtures.js";

const CANARY = "canary-drift-unit-9a3e";
const AT = "2026-11-21T10:00:00.000Z";
const SKEW = 120_000;
const ctx: ProviderContext = { stack: "test", secrets: (ref) => ({ MAIL_TOKEN: CANARY })[ref.name] };

const env = (description: string | null): ResolvedEnvironment => ({
  kind: "Environment",
  name: "sandbox",
  description,
  config: { type: "cloud" },
  metadata: {},
  protect: false,
  on_prune: "archive",
  previous_names: [],
  source: { file: "environments/sandbox.yaml", line: 1, col: 1 },
});

function desired(description: string | null = null): DesiredResource[] {
  const specs: DesiredSpecs = { agents: [], environments: [env(description)], vaults: [vaultSpec()], toolsets: [] };
  return [environmentProvider, vaultProvider, credentialProvider].flatMap((p) => p.desired(specs, ctx));
}

/** Live state as if `resources` had been applied (and stamped as `stamp` says), then `updated_at` later. */
function live(resources: DesiredResource[], stamp: string | undefined, updatedAt: string, version?: number): LiveState {
  const map = new Map<string, LiveResource>();
  resources.forEach((r, i) => {
    const parentId = r.dependsOn[0] ? map.get(r.dependsOn[0])?.id : undefined;
    const metadata: Record<string, string> = stamp ? { [APPLIED_KEY]: stamp } : {};
    const applied = parseAppliedStamp(stamp);
    map.set(r.address, {
      type: r.type,
      name: r.name,
      address: r.address,
      id: `id_${i}`,
      ...(parentId ? { parentId } : {}),
      ...(version !== undefined ? { version } : {}),
      state: r.state,
      metadata,
      protected: false,
      deleteOnPrune: false,
      created_at: "2026-01-01T00:00:00Z",
      updated_at: updatedAt,
      ...(applied ? { applied } : {}),
    });
  });
  return { resources: map, duplicates: [], adoptions: new Map(), adoptionErrors: new Map() };
}

const plan = (d: DesiredResource[], l: LiveState) =>
  buildPlan(d, l, { stack: "test", target: "prod", clockSkewMs: SKEW, now: () => new Date(AT) });

describe("the reconcile/applied stamp", () => {
  it("round-trips, is reserved, and is never user metadata", () => {
    const text = formatAppliedStamp({ at: AT, version: 3, commit: "a".repeat(40) });
    expect(text).toBe(`at=${AT} version=3 commit=${"a".repeat(40)}`);
    expect(parseAppliedStamp(text)).toEqual({ at: AT, version: 3, commit: "a".repeat(40) });
    expect(isReservedKey(APPLIED_KEY)).toBe(true);
    expect(userMetadata({ [APPLIED_KEY]: text, team: "x" })).toEqual({ team: "x" });
  });

  it("a hand-edited or hostile stamp reads as no stamp", () => {
    for (const bad of [
      "",
      "yesterday",
      "at=2026-13-45T99:00:00Z",
      `at=${AT} version=0`,
      `at=${AT} version=-1`,
      `at=${AT}  version=2`,
      `at=${AT} commit=<script>`,
      `at=${AT}\nversion=2`,
      `at=${AT} ${"x=y ".repeat(200)}`,
    ]) {
      expect(parseAppliedStamp(bad)).toBeNull();
    }
  });

  it("RECONCILE_CLOCK_SKEW sets the tolerance; garbage names the variable", () => {
    expect(clockSkewMs({})).toBe(120_000);
    expect(clockSkewMs({ RECONCILE_CLOCK_SKEW: "3s" })).toBe(3000);
    expect(() => clockSkewMs({ RECONCILE_CLOCK_SKEW: "soon" })).toThrow(/RECONCILE_CLOCK_SKEW/);
  });
});

describe("lastWriter", () => {
  const stamp = { at: AT, version: 3 };
  it("version past the stamped one is outside, exactly, even within the clock-skew tolerance", () => {
    expect(lastWriter({ applied: stamp, version: 4, updated_at: AT }, SKEW)).toMatchObject({ by: "outside" });
    expect(lastWriter({ applied: stamp, version: 3, updated_at: AT }, SKEW)).toMatchObject({ by: "reconcile" });
  });
  it("updated_at later than the stamp by more than the tolerance is outside; within it is reconcile's write", () => {
    const within = new Date(Date.parse(AT) + SKEW).toISOString();
    const past = new Date(Date.parse(AT) + SKEW + 1).toISOString();
    expect(lastWriter({ applied: { at: AT }, updated_at: within }, SKEW)).toMatchObject({ by: "reconcile" });
    expect(lastWriter({ applied: { at: AT }, updated_at: past }, SKEW)).toMatchObject({ by: "outside" });
    // A server clock behind ours is not an outside write.
    expect(lastWriter({ applied: { at: AT }, updated_at: "2026-11-21T09:00:00Z" }, SKEW)).toMatchObject({
      by: "reconcile",
    });
  });
  it("no stamp, or no updated_at to compare, is unknown", () => {
    expect(lastWriter({ updated_at: AT }, SKEW)).toMatchObject({ by: "unknown" });
    expect(lastWriter({ applied: { at: AT } }, SKEW)).toMatchObject({ by: "unknown" });
    expect(lastWriter({ applied: { at: AT }, updated_at: "not a date" }, SKEW)).toMatchObject({ by: "unknown" });
  });
});

describe("plan and drift with stamps", () => {
  const stamp = formatAppliedStamp({ at: AT, commit: "b".repeat(40) });

  it("a stamped, unchanged stack plans to no changes and no drift", () => {
    const d = desired();
    const p = plan(d, live(d, stamp, AT));
    expect(planHasChanges(p)).toBe(false);
    const report = buildDriftReport(p, live(d, stamp, AT), { clockSkewMs: SKEW });
    expect(report).toMatchObject({ drifted: false, resources: [] });
    expect(schemaProblems("drift.schema.json", report)).toEqual([]);
  });

  it("a resource changed in the console after the apply is changed outside reconcile, in plan and drift", () => {
    const d = desired();
    const later = "2026-11-21T11:00:00.000Z";
    const l = live(d, stamp, later);
    const edited = l.resources.get("environment.sandbox") as LiveResource;
    edited.state = { ...edited.state, description: "edited in the console" };
    const p = plan(d, l);
    const action = p.actions.find((a) => a.address === "environment.sandbox");
    expect(action?.changed_outside).toMatch(/updated at 2026-11-21T11:00:00.000Z, after reconcile's last apply/);
    expect(schemaProblems("plan.schema.json", p)).toEqual([]);
    expect(renderPlanText(p, { color: false })).toContain("changed outside reconcile: updated at");
    expect(renderPlanMarkdown(p).join("")).toContain("changed outside reconcile");
    const report = buildDriftReport(p, l, { clockSkewMs: SKEW });
    const entry = report.resources.find((r) => r.address === "environment.sandbox");
    expect(entry).toMatchObject({ cause: "changed_outside", fields: ["description"] });
    expect(schemaProblems("drift.schema.json", report)).toEqual([]);
  });

  it("a credential changed outside reconcile gets its secret rewritten though the fingerprint matches", () => {
    const d = desired();
    const l = live(d, stamp, "2026-11-21T12:00:00.000Z");
    const p = plan(d, l);
    const credential = p.actions.find((a) => a.type === "credential");
    expect(credential).toMatchObject({
      action: "update",
      changes: [{ path: "secret", before: "(sensitive)", after: "(sensitive)", sensitive: true }],
    });
    expect(credential?.changed_outside).toBeDefined();
    const report = buildDriftReport(p, l, { clockSkewMs: SKEW });
    expect(report.resources.find((r) => r.type === "credential")).toMatchObject({
      cause: "changed_outside",
      fields: ["secret"],
    });
    expect(JSON.stringify([p, report, renderDriftIssue(report, p)])).not.toContain(CANARY);
  });

  it("a changed credential whose secret is not set here warns instead of writing", () => {
    const bare: ProviderContext = { stack: "test", secrets: () => undefined };
    const specs: DesiredSpecs = { agents: [], environments: [env(null)], vaults: [vaultSpec()], toolsets: [] };
    const d = [environmentProvider, vaultProvider, credentialProvider].flatMap((p) => p.desired(specs, bare));
    const p = plan(d, live(d, stamp, "2026-11-21T12:00:00.000Z"));
    expect(p.actions.find((a) => a.type === "credential")).toBeUndefined();
    expect(p.warnings.join("\n")).toMatch(/changed outside reconcile .* set \$\{env:MAIL_TOKEN\} and apply/);
  });

  it("a spec change that was never applied is not applied; without a stamp the cause is unknown", () => {
    const edited = desired("new description");
    const applied = live(desired(), stamp, AT);
    const p = plan(edited, applied);
    const report = buildDriftReport(p, applied, { clockSkewMs: SKEW });
    expect(report.resources).toEqual([
      expect.objectContaining({
        address: "environment.sandbox",
        cause: "not_applied",
        fields: ["description"],
        last_applied: { at: AT, commit: "b".repeat(40) },
      }),
    ]);
    const unstamped = live(desired(), undefined, "2026-11-21T12:00:00.000Z");
    const unknown = buildDriftReport(plan(edited, unstamped), unstamped, { clockSkewMs: SKEW });
    expect(unknown.resources).toEqual([expect.objectContaining({ cause: "unknown", fields: ["description"] })]);
    // Unknown resources are never claimed as changed outside (no credential secret rewrite without a stamp).
    expect(unknown.resources.some((r) => r.type === "credential")).toBe(false);
  });

  it("the fingerprint ignores the time of the run and changes with the drift", () => {
    const applied = live(desired(), stamp, AT);
    const a = buildDriftReport(plan(desired("x"), applied), applied, { clockSkewMs: SKEW });
    const later = buildPlan(desired("x"), applied, { stack: "test", target: "prod", clockSkewMs: SKEW });
    const b = buildDriftReport(later, applied, { clockSkewMs: SKEW });
    const c = buildDriftReport(plan(desired("y"), applied), applied, { clockSkewMs: SKEW });
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(a.fingerprint).not.toBe(c.fingerprint);
  });

  it("the issue body escapes what comes from specs and live state", () => {
    const hostile = "@octocat #1 </details> ``` <img src=x>";
    const applied = live(desired(), stamp, AT);
    const p = plan(desired(hostile), applied);
    const { body } = renderDriftIssue(buildDriftReport(p, applied, { clockSkewMs: SKEW }), p);
    expect(body.split("\n")[0]).toBe(driftMarker("test", "prod"));
    expect(body).not.toMatch(/@octocat|#1|<img|<\/details>/);
    expect(driftMarker("a--b", "t")).not.toContain("--b");
  });
});
