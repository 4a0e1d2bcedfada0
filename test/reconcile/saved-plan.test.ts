/**
 * A saved plan is a proposal, not a script: the file's digest is checked on read, and its actions are compared with
 * a fresh plan's, action by action, naming the first difference.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { environmentProvider } from "../../src/providers/environment.js";
import type { DesiredResource, LiveResource } from "../../src/providers/types.js";
import type { LiveState } from "../../src/reconcile/observe.js";
import { buildPlan, firstActionDifference, type Plan, type PlannedAction } from "../../src/reconcile/plan.js";
import { planDigest } from "../../src/reconcile/plan-digest.js";
import { readPlanFile, renderPlanJson, writePlanFile } from "../../src/reconcile/plan-file.js";
import type { ResolvedEnvironment } from "../../src/spec/types.js";

const now = () => new Date("2026-11-21T00:00:00Z");
const sandbox = (description: string | null): ResolvedEnvironment => ({
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
const desired = (description: string | null): DesiredResource[] =>
  environmentProvider.desired(
    { agents: [], environments: [sandbox(description)], vaults: [], toolsets: [] },
    { stack: "test", secrets: () => undefined },
  );

function live(): LiveState {
  const [applied] = desired(null) as [DesiredResource];
  const resource: LiveResource = {
    type: "environment",
    name: "sandbox",
    address: "environment.sandbox",
    id: "env_1",
    state: applied.state,
    metadata: {},
    protected: false,
    deleteOnPrune: false,
    created_at: "2026-01-01T00:00:00Z",
  };
  return {
    resources: new Map([[resource.address, resource]]),
    duplicates: [],
    adoptions: new Map(),
    adoptionErrors: new Map(),
  };
}

const fresh = () => buildPlan(desired("new"), live(), { stack: "test", target: "default", now });
const update = () => fresh().actions[0] as PlannedAction;

describe("firstActionDifference", () => {
  it("finds none between two plans from the same inputs", () => {
    expect(firstActionDifference(fresh().actions, fresh().actions)).toBeUndefined();
  });

  it("names an added archive of another resource", () => {
    const added: PlannedAction = {
      address: "environment.other",
      type: "environment",
      name: "other",
      action: "archive",
      id: "env_9",
      changes: [],
      depends_on: [],
    };
    expect(firstActionDifference([...fresh().actions, added], fresh().actions)).toBe(
      "environment.other: the file plans archive of env_9, which a fresh plan does not contain",
    );
  });

  it("names an update changed into an archive", () => {
    expect(firstActionDifference([{ ...update(), action: "archive", changes: [] }], fresh().actions)).toBe(
      "environment.sandbox: the file plans archive of env_1, a fresh plan update of env_1",
    );
  });

  it("names a changed field value inside a change, and a changed id", () => {
    const edited = { ...update(), changes: [{ path: "description", before: null, after: "evil" }] };
    expect(firstActionDifference([edited], fresh().actions)).toBe(
      "environment.sandbox: the change of description differs from a fresh plan's",
    );
    expect(firstActionDifference([{ ...update(), id: "env_2" }], fresh().actions)).toBe(
      'environment.sandbox: id is "env_2" in the file, "env_1" in a fresh plan',
    );
  });

  it("prints what a hand-edited file holds inert (no terminal escapes)", () => {
    const evil = { ...update(), id: "env_1\u001b[2J\u0007", changes: [{ path: "x\u001b]0;pwned\u0007", after: 1 }] };
    const message = firstActionDifference([{ ...evil, action: "archive" }], fresh().actions) ?? "";
    expect(message).toContain("env_1\\u001b[2J\\u0007");
    expect(message).not.toContain("\u001b");
    expect(message).not.toContain("\u0007");
    const path = firstActionDifference([{ ...update(), changes: evil.changes }], fresh().actions) ?? "";
    expect(path).not.toContain("\u001b");
    expect(path).not.toContain("\u0007");
  });

  it("names an action removed from the file, and one listed twice", () => {
    expect(firstActionDifference([], fresh().actions)).toBe(
      "environment.sandbox: a fresh plan contains update of env_1, which the file does not",
    );
    expect(firstActionDifference([update(), update()], fresh().actions)).toBe(
      "environment.sandbox: the file lists it more than once",
    );
  });
});

describe("plan files", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "reconcile-planfile-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const save = async (name: string, plan: Plan = fresh()) => {
    const file = join(dir, name);
    await writePlanFile(file, plan);
    return file;
  };
  const edit = async (file: string, change: (data: Plan) => void) => {
    const data = JSON.parse(await readFile(file, "utf8")) as Plan;
    change(data);
    await writeFile(file, JSON.stringify(data));
  };

  it("records the digest and reads back a plan that was not edited", async () => {
    const file = await save("ok.json");
    const read = await readPlanFile(file);
    expect(read.digest).toBe(planDigest(fresh()));
    expect(JSON.parse(renderPlanJson(fresh())).digest).toBe(read.digest);
  });

  it("refuses an edited action, a flipped option, an edited digest and a missing one", async () => {
    const edits: Array<(data: Plan) => void> = [
      (d) => {
        (d.actions[0] as PlannedAction).action = "archive";
      },
      (d) => {
        d.options.prune = true;
      },
      (d) => {
        d.digest = "0".repeat(32);
      },
      (d) => {
        ((d.actions[0] as PlannedAction).changes[0] as { after: unknown }).after = "evil";
      },
    ];
    for (const [i, change] of edits.entries()) {
      const file = await save(`edited-${i}.json`);
      await edit(file, change);
      await expect(readPlanFile(file)).rejects.toThrow(/its digest does not match its actions or options/);
    }
    const file = await save("no-digest.json");
    await edit(file, (d) => {
      delete d.digest;
    });
    await expect(readPlanFile(file)).rejects.toThrow(/it has no digest/);
  });
});
