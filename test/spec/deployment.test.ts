import { describe, expect, test } from "vitest";
import { loadProject } from "../../src/spec/index.js";
import { cronExpressionProblem, formatInZone, nextRunTimes, timeZoneProblem } from "../../src/spec/schedule.js";
import type { ResolvedDeployment } from "../../src/spec/types.js";
import { errorLines, writeRepo, yaml } from "./helpers.js";

const BASE = {
  "agents/ops.yaml": yaml("apiVersion: reconcile/v1", "kind: Agent", "name: ops-agent", "model: claude-sonnet-4-6"),
  "environments/ops.yaml": yaml(
    "apiVersion: reconcile/v1",
    "kind: Environment",
    "name: ops",
    "config: { type: cloud }",
  ),
  "vaults/ops.yaml": yaml("apiVersion: reconcile/v1", "kind: Vault", "name: ops-vault"),
};

/** A deployment file with `lines` after the header (name nightly). */
const deployment = (...lines: string[]) =>
  yaml("apiVersion: reconcile/v1", "kind: Deployment", "name: nightly", ...lines);

describe("Deployment specs", () => {
  test("resolve: names kept, message turned into initial_events, defaults filled, lists sorted", async () => {
    const root = await writeRepo({
      ...BASE,
      "vaults/b.yaml": yaml("apiVersion: reconcile/v1", "kind: Vault", "name: a-vault"),
      "deployments/nightly.yaml": deployment(
        "agent: ops-agent",
        "environment: ops",
        "vaults: [ops-vault, a-vault]",
        "message: Check the overnight alerts.",
        "schedule: { cron: '0 2 * * *', timezone: Europe/Paris }",
        "budget: { max_list_cost: { amount: '2500', currency: USD } }",
      ),
    });
    const { specs, errors } = await loadProject(root);
    expect(errors).toEqual([]);
    expect(specs.deployments).toHaveLength(1);
    const { source, ...rest } = (specs.deployments ?? [])[0] as ResolvedDeployment;
    expect(source).toEqual({ file: "deployments/nightly.yaml", line: 1, col: 1 });
    expect(rest).toEqual({
      kind: "Deployment",
      name: "nightly",
      description: null,
      agent: "ops-agent",
      agent_version: "pinned",
      environment: "ops",
      vaults: ["a-vault", "ops-vault"],
      memory_stores: [],
      initial_events: [{ type: "user.message", content: [{ type: "text", text: "Check the overnight alerts." }] }],
      budget: { type: "limit", max_list_cost: { amount: "2500", currency: "USD" } },
      schedule: { expression: "0 2 * * *", timezone: "Europe/Paris" },
      paused: false,
      metadata: {},
      protect: false,
      previous_names: [],
    });
  });

  test("an invalid cron expression and an invalid time zone are errors at their own fields", async () => {
    expect(
      await errorLines({
        ...BASE,
        "deployments/nightly.yaml": deployment(
          "agent: ops-agent",
          "environment: ops",
          "message: go",
          "schedule:",
          "  cron: 0 0 2 * * *",
          "  timezone: Europe/Pariss",
        ),
      }),
    ).toEqual([
      "deployments/nightly.yaml:8:9: Deployment/nightly: schedule.cron: must have exactly 5 fields (minute hour day-of-month month day-of-week), not 6 (seconds and year fields are not supported); e.g. 0 9 * * 1-5 for weekdays at 9:00",
      'deployments/nightly.yaml:9:13: Deployment/nightly: schedule.timezone: "Europe/Pariss" is not in the IANA time zone database: use an IANA time zone name such as "Europe/Paris", "America/Los_Angeles" or "UTC"',
    ]);
  });

  test("unknown references are located errors with a hint; message and initial_events exclude each other", async () => {
    const lines = await errorLines({
      ...BASE,
      "deployments/nightly.yaml": deployment(
        "agent: ops-agnet",
        "environment: opz",
        "vaults: [ops-vault, nope]",
        "message: go",
      ),
      "deployments/both.yaml": yaml(
        "apiVersion: reconcile/v1",
        "kind: Deployment",
        "name: both",
        "agent: ops-agent",
        "environment: ops",
        "message: go",
        "initial_events: [{ type: user.message, content: [{ type: text, text: go }] }]",
      ),
      "deployments/none.yaml": yaml(
        "apiVersion: reconcile/v1",
        "kind: Deployment",
        "name: none",
        "agent: ops-agent",
        "environment: ops",
      ),
    });
    expect(lines).toEqual([
      expect.stringMatching(
        /^deployments\/both\.yaml:\d+:\d+: Deployment\/both: .*either `message` or `initial_events`/,
      ),
      'deployments/nightly.yaml:4:8: Deployment/nightly: agent: unknown Agent "ops-agnet" (did you mean "ops-agent"?)',
      'deployments/nightly.yaml:5:14: Deployment/nightly: environment: unknown Environment "opz" (did you mean "ops"?)',
      'deployments/nightly.yaml:6:21: Deployment/nightly: vaults[1]: unknown Vault "nope"',
      expect.stringMatching(/^deployments\/none\.yaml:1:1: Deployment\/none: set `message` .* or `initial_events`/),
    ]);
  });

  test("a reference to a spec with errors of its own is not reported twice", async () => {
    const lines = await errorLines({
      ...BASE,
      "agents/broken.yaml": yaml("apiVersion: reconcile/v1", "kind: Agent", "name: broken", "model: 3"),
      "deployments/nightly.yaml": deployment("agent: broken", "environment: ops", "message: go"),
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^agents\/broken\.yaml/);
  });

  test("agent_version takes pinned, latest or a version number; on_prune only archive", async () => {
    const lines = await errorLines({
      ...BASE,
      "deployments/a.yaml": deployment("agent: ops-agent", "environment: ops", "message: go", "agent_version: 0"),
      "deployments/b.yaml": yaml(
        "apiVersion: reconcile/v1",
        "kind: Deployment",
        "name: b",
        "agent: ops-agent",
        "environment: ops",
        "message: go",
        "on_prune: delete",
      ),
    });
    expect(lines).toEqual([
      expect.stringMatching(/^deployments\/a\.yaml:7:\d+: Deployment\/nightly: agent_version/),
      expect.stringMatching(/^deployments\/b\.yaml:7:\d+: Deployment\/b: on_prune/),
    ]);
    const root = await writeRepo({
      ...BASE,
      "deployments/a.yaml": deployment("agent: ops-agent", "environment: ops", "message: go", "agent_version: 3"),
    });
    expect((await loadProject(root)).specs.deployments?.[0]?.agent_version).toBe(3);
  });
});

describe("schedule rules (src/spec/schedule.ts)", () => {
  test("the API's 5-field POSIX cron: extended syntax and shortcuts are refused", () => {
    for (const ok of ["0 2 * * *", "*/15 9-17 * * 1-5", "0 0 1,15 * *", "0 0 * * 7", "0 9 * JAN,JUL MON-FRI"]) {
      expect(cronExpressionProblem(ok), ok).toBeUndefined();
    }
    expect(cronExpressionProblem("@daily")).toMatch(/shortcuts/);
    expect(cronExpressionProblem("0 0 0 * * *")).toMatch(/exactly 5 fields.*not 6/);
    expect(cronExpressionProblem("* * * *")).toMatch(/not 4/);
    expect(cronExpressionProblem("")).toMatch(/not 0/);
    for (const extended of ["0 0 L * *", "0 0 15W * *", "0 0 * * 5L", "0 0 * * 1#2", "0 0 ? * *"]) {
      expect(cronExpressionProblem(extended), extended).toMatch(/L, W, # and \? are not supported/);
    }
    expect(cronExpressionProblem("61 * * * *")).toMatch(/minute/);
    expect(cronExpressionProblem("0 0 * * FOO")).toMatch(/not a cron field/);
    expect(cronExpressionProblem("*/0 * * * *")).toMatch(/not a valid cron expression/);
    expect(cronExpressionProblem("0 0 30 2 *")).toMatch(/never fires/);
    expect(cronExpressionProblem("0 0 29 2 *")).toBeUndefined();
    expect(cronExpressionProblem(`${"1,".repeat(200)}1 * * * *`)).toMatch(/longer than/);
  });

  test("IANA zone names only, case-sensitive; offsets and unknown names are refused", () => {
    for (const ok of ["UTC", "Europe/Paris", "America/Argentina/Buenos_Aires", "Etc/GMT+5"]) {
      expect(timeZoneProblem(ok), ok).toBeUndefined();
    }
    expect(timeZoneProblem("europe/paris")).toBe('time zone names are case-sensitive: did you mean "Europe/Paris"?');
    expect(timeZoneProblem("+01:00")).toMatch(/must be an IANA time zone name/);
    expect(timeZoneProblem("Mars/Olympus")).toMatch(/not in the IANA time zone database/);
    expect(timeZoneProblem("Europe/Paris\u001b[31m")).toMatch(/must be an IANA/);
  });

  test("run times given again within their window are the ones computed afresh, on a run, a second before and after", () => {
    // Forward in time, an answer is reused while `from` is before its first run; backward, every answer is computed
    // afresh (the window starts at the instant it was computed from). Both orders must give the same runs.
    const schedules: Array<[string, string]> = [
      ["*/15 * * * *", "UTC"],
      ["30 2 * * *", "Europe/Paris"],
      ["0 9 * * 1-5", "America/New_York"],
      ["0 0 1 * *", "Asia/Tokyo"],
    ];
    const start = Date.parse("2026-10-24T23:40:00Z");
    const instants: number[] = [];
    for (let i = 0; i < 400; i++) instants.push(start + i * 7_919_000); // about 2 h 12 min apart, odd seconds
    for (const [expression, zone] of schedules) {
      const at = (ms: number) => nextRunTimes(expression, zone, 5, new Date(ms)).map((d) => d.getTime());
      // Each run itself, and the millisecond before and after it, are window edges.
      const edges = at(start).flatMap((run) => [run - 1000, run - 1, run, run + 1]);
      const froms = [...instants, ...edges].sort((a, b) => a - b);
      const forward = froms.map(at);
      const backward = [...froms].reverse().map(at).reverse();
      expect(forward, `${expression} ${zone}`).toEqual(backward);
      for (const [i, runs] of forward.entries())
        expect(runs[0], `${expression} from ${froms[i]}`).toBeGreaterThan(froms[i] as number);
    }
  });

  test("next run times are wall-clock times in the zone, across a daylight-saving change", () => {
    // Europe/Paris leaves summer time on 2026-10-25 (02:30 happens twice: first at 00:30 UTC) and enters it on
    // 2026-03-29 (02:30 does not exist: fires right after the gap, 03:00 local = 01:00 UTC).
    const autumn = nextRunTimes("30 2 * * *", "Europe/Paris", 3, new Date("2026-10-24T12:00:00Z"));
    expect(autumn.map((d) => d.toISOString())).toEqual([
      "2026-10-25T00:30:00.000Z",
      "2026-10-26T01:30:00.000Z",
      "2026-10-27T01:30:00.000Z",
    ]);
    const spring = nextRunTimes("30 2 * * *", "Europe/Paris", 2, new Date("2026-03-28T12:00:00Z"));
    expect(spring.map((d) => d.toISOString())).toEqual(["2026-03-29T01:00:00.000Z", "2026-03-30T00:30:00.000Z"]);
    expect(formatInZone(new Date("2026-10-24T00:00:00Z"), "Europe/Paris")).toBe(
      "2026-10-24 02:00 Europe/Paris (00:00 UTC)",
    );
    expect(formatInZone(new Date("2026-11-27T14:30:00Z"), "America/Los_Angeles")).toBe(
      "2026-11-27 06:30 America/Los_Angeles (14:30 UTC)",
    );
    expect(formatInZone(new Date("2026-11-27T20:30:00Z"), "Asia/Tokyo")).toBe(
      "2026-11-28 05:30 Asia/Tokyo (20:30 UTC on 2026-11-27)",
    );
    expect(formatInZone(new Date("2026-11-27T00:00:00Z"), "UTC")).toBe("2026-11-27 00:00 UTC");
  });
});
