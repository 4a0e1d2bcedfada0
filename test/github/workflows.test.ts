/**
 * `action.yml` and `.github/workflows/*.yml`: schema-valid (@action-validator/core, the SchemaStore schemas GitHub's
 * own editor uses), no `${{ }}` inside a `run:` script, third-party actions pinned by full commit SHA with the version
 * named, minimal permissions per job, one apply at a time per target. And the action's run script itself, executed
 * with bash as the runner would, drives the same `reconcile github plan` the other tests drive (against the GitHub
 * double and an emulator), and passes a hostile `target` input as an argument, never as shell code.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateAction, validateWorkflow } from "@action-validator/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { copyFleet, REPO, removeDir } from "../e2e/helpers.js";
import { type FakeGitHub, startFakeGitHub } from "./fake-github.js";
import { anyExample } from "./webhook-examples.js";

const WORKFLOWS = ["plan.yml", "apply.yml"].map((f) => join(REPO, ".github", "workflows", f));
const ACTION = join(REPO, "action.yml");

interface Step {
  uses?: string;
  run?: string;
  env?: Record<string, string>;
}
interface Job {
  permissions?: Record<string, string>;
  concurrency?: { group: string; "cancel-in-progress": boolean };
  steps: Step[];
}
interface Workflow {
  permissions: Record<string, string>;
  jobs: Record<string, Job>;
}
interface Action {
  runs: { using: string; steps: Step[] };
}

const load = async <T>(file: string) => parse(await readFile(file, "utf8")) as T;

describe("action.yml and the workflows", { timeout: 240_000 }, () => {
  it("pass the GitHub Actions schema check", async () => {
    expect(validateAction(await readFile(ACTION, "utf8")).errors).toEqual([]);
    for (const file of WORKFLOWS) expect(validateWorkflow(await readFile(file, "utf8")).errors, file).toEqual([]);
    // The validator is not a rubber stamp.
    expect(validateWorkflow("on: push\njobs:\n  a:\n    runs-on: 3\n").errors.length).toBeGreaterThan(0);
  });

  it("never expand ${{ }} inside a run script, and pin third-party actions by full SHA with the version", async () => {
    const steps = [
      ...(await load<Action>(ACTION)).runs.steps,
      ...(await Promise.all(WORKFLOWS.map((f) => load<Workflow>(f)))).flatMap((w) =>
        Object.values(w.jobs).flatMap((j) => j.steps),
      ),
    ];
    for (const step of steps) if (step.run) expect(step.run).not.toContain("${{");
    for (const file of [ACTION, ...WORKFLOWS]) {
      for (const line of (await readFile(file, "utf8")).split("\n")) {
        const uses = /^\s*(?:-\s*)?uses:\s*(\S+)(.*)$/.exec(line);
        if (!uses || uses[1]?.startsWith("./")) continue;
        expect(uses[1], line).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
        expect(uses[2], line).toMatch(/^\s+# v\d+\.\d+\.\d+$/);
      }
    }
  });

  it("grant no permission at the top and only contents: read, pull-requests: write per job; apply one at a time per target", async () => {
    for (const file of WORKFLOWS) {
      const workflow = await load<Workflow>(file);
      expect(workflow.permissions).toEqual({});
      for (const job of Object.values(workflow.jobs)) {
        expect(job.permissions).toEqual({ contents: "read", "pull-requests": "write" });
      }
    }
    const apply = await load<Workflow>(WORKFLOWS[1] as string);
    expect(apply.jobs.apply?.concurrency).toEqual({
      group: "reconcile-apply-${{ matrix.target }}",
      "cancel-in-progress": false,
    });
  });
});

describe("the action's run script", { timeout: 240_000 }, () => {
  let emulator: RunningEmulator;
  let fake: FakeGitHub;
  let dir: string;
  let work: string;
  beforeEach(async () => {
    emulator = await startEmulator({ port: 0 });
    fake = await startFakeGitHub({ tokens: { tok: "github-actions[bot]" } });
    dir = await copyFleet();
    work = await mkdtemp(join(tmpdir(), "reconcile-action-"));
  });
  afterEach(async () => {
    await emulator.close();
    await fake.close();
    await removeDir(dir);
    await rm(work, { recursive: true, force: true });
  });

  /** Runs the action's last step's script with bash, its `env:` filled in as the runner would from `inputs`. */
  async function runStep(inputs: Record<string, string>) {
    const step = (await load<Action>(ACTION)).runs.steps.at(-1) as Step;
    const event = anyExample("pull_request", (e) => e.action === "opened") as {
      pull_request: {
        number: number;
        head: { sha: string; repo: { full_name: string } };
        base: { repo: { full_name: string } };
      };
    };
    event.pull_request.number = 3;
    event.pull_request.head.repo.full_name = "acme/agents";
    event.pull_request.base.repo.full_name = "acme/agents";
    await writeFile(join(work, "event.json"), JSON.stringify(event));
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      RECONCILE_COMMAND: inputs.command ?? "",
      RECONCILE_TARGETS: inputs.target ?? "",
      RECONCILE_COMMENT: inputs.comment ?? "true",
      RECONCILE_PLAN_DIGEST: inputs["plan-digest"] ?? "",
      RECONCILE_ACTION_PATH: REPO,
      GITHUB_TOKEN: "tok",
      GITHUB_REPOSITORY: "acme/agents",
      GITHUB_EVENT_NAME: "pull_request",
      GITHUB_EVENT_PATH: join(work, "event.json"),
      GITHUB_API_URL: fake.url,
      GITHUB_STEP_SUMMARY: join(work, "summary.md"),
      ANTHROPIC_BASE_URL: emulator.url,
      ANTHROPIC_API_KEY: "test",
    };
    // Every variable the step declares is one the runner sets from an input or the context.
    expect(Object.keys(step.env ?? {}).every((k) => k in env)).toBe(true);
    return new Promise<{ code: number | null; out: string }>((done) => {
      const child = spawn("bash", ["-c", step.run as string], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d;
      });
      child.stderr.on("data", (d: Buffer) => {
        out += d;
      });
      child.on("close", (code) => done({ code, out }));
    });
  }

  it("runs `reconcile github plan`: one plan comment, the job summary written", async () => {
    const result = await runStep({ command: "plan" });
    expect(result.out).toContain("plan comment");
    expect(result.code).toBe(0);
    expect(fake.comments.get("acme/agents#3")).toHaveLength(1);
    expect(await readFile(join(work, "summary.md"), "utf8")).toContain("reconcile-plan stack=example-fleet");
  });

  it("passes a hostile target input as an argument, not as shell code; refuses an unknown command", async () => {
    const marker = join(work, "pwned");
    const result = await runStep({ command: "plan", target: `x;touch${"\t"}${marker} $(touch ${marker}) *` });
    expect(result.code).toBe(1);
    await expect(stat(marker)).rejects.toThrow();
    expect(fake.comments.get("acme/agents#3")).toBeUndefined();
    const bad = await runStep({ command: "plan; touch /tmp/x" });
    expect(bad.code).toBe(1);
    expect(bad.out).toContain("the command input must be plan or apply");
  });
});
