/**
 * The scheduled rotation workflow (.github/workflows/rotate-secrets.yml) fits the example fleet: it runs on a
 * schedule and on workflow_dispatch with `target` and `only`, maps every variable reconcile.yaml declares under
 * `secret_env` into the rotate step, runs `reconcile secrets rotate` so that its exit code fails the job, and never
 * maps a secret into a step that does not need it.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { loadProjectConfig } from "../../src/spec/index.js";
import { REPO_ROOT } from "./helpers.js";

interface Step {
  name?: string;
  run?: string;
  env?: Record<string, string>;
}

describe("rotate-secrets workflow", () => {
  test("schedule and dispatch inputs; every declared variable reaches the rotate step", async () => {
    const text = await readFile(join(REPO_ROOT, ".github", "workflows", "rotate-secrets.yml"), "utf8");
    const workflow = parse(text) as {
      on: { schedule: Array<{ cron: string }>; workflow_dispatch: { inputs: Record<string, unknown> } };
      jobs: Record<string, { steps: Step[] }>;
    };
    expect(workflow.on.schedule[0]?.cron).toMatch(/^\S+ \S+ \S+ \S+ \S+$/);
    expect(Object.keys(workflow.on.workflow_dispatch.inputs).sort()).toEqual(["only", "target"]);
    const steps = Object.values(workflow.jobs).flatMap((job) => job.steps);
    const rotate = steps.find((s) => s.name === "Rotate");
    expect(rotate?.run).toContain("./bin/reconcile");
    expect(rotate?.run).toContain("secrets rotate");
    expect(rotate?.run).toContain("set -euo pipefail"); // a failed rotation fails the job, through the tee
    const { config } = await loadProjectConfig(REPO_ROOT);
    expect(config.secret_env.length).toBeGreaterThan(0);
    for (const name of config.secret_env) expect(Object.keys(rotate?.env ?? {})).toContain(name);
    // Inputs reach the shell through env only, never interpolated into the script (no injection).
    for (const step of steps) expect(step.run ?? "").not.toContain("inputs.");
    // Secrets are mapped only where they are used.
    for (const step of steps.filter((s) => s !== rotate && s.name !== "Health")) {
      expect(JSON.stringify(step.env ?? {})).not.toContain("secrets.");
    }
  });
});
