/**
 * The scheduled drift workflow runs exactly `reconcile drift --github-issue` per target, with the permissions it
 * needs and no more, and fails only on an error (exit 1), not on drift (exit 2).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { REPO } from "../e2e/helpers.js";

describe(".github/workflows/drift.yml", () => {
  it("is scheduled and dispatchable, reads contents, writes issues, and runs drift --github-issue per target", async () => {
    const workflow = parse(await readFile(join(REPO, ".github", "workflows", "drift.yml"), "utf8"));
    expect(Object.keys(workflow.on).sort()).toEqual(["schedule", "workflow_dispatch"]);
    expect(workflow.on.schedule[0].cron).toMatch(/^\S+ \S+ \S+ \S+ \S+$/);
    expect(workflow.permissions).toEqual({ contents: "read", issues: "write" });
    const job = workflow.jobs.drift;
    expect(job.concurrency.group).toContain("${{ matrix.target }}");
    const run = job.steps.map((s: { run?: string }) => s.run ?? "").join("\n");
    expect(run).toContain('./bin/reconcile drift --github-issue --target "$TARGET"');
    expect(run).toMatch(/if \[ "\$code" -eq 2 \]; then[\s\S]*exit 0/);
  });
});
