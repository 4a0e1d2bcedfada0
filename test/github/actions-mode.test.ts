/**
 * The GitHub Actions mode end to end: the real CLI (`reconcile github plan|apply`) run as a workflow step would run
 * it (GITHUB_* variables, an event file from @octokit/webhooks-examples), its real octokit client pointed at the local
 * GitHub API double, and the Managed Agents SDK pointed at an emulator. Covers the sticky plan comment, the job
 * summary, the reviewed-plan rule on merge (refuse on a different plan, apply on the same), `--plan-digest` in a
 * workflow_dispatch run, forks, direct pushes, and a canary secret that must appear in no comment, summary or log.
 * The CLI runs dist/: `npm run build` first (npm test does).
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { parsePlanMeta } from "../../src/reconcile/render-markdown.js";
import { type CliResult, copyFleet, removeDir, runCli } from "../e2e/helpers.js";
import { ownedCounts } from "../e2e/lock-helpers.js";
import { type FakeGitHub, startFakeGitHub } from "./fake-github.js";
import { anyExample } from "./webhook-examples.js";

const BOT = "github-actions[bot]";
const TOKEN = "ghs_actions_token_4f1c";
const CANARY = "canary-actions-secret-93d7";
const REPOSITORY = "Codertocat/Hello-World";
const PR = `${REPOSITORY}#7`;
const HEAD_1 = "1".repeat(40);
const HEAD_2 = "2".repeat(40);
const MERGE = "3".repeat(40);

let emulator: RunningEmulator;
let fake: FakeGitHub;
let client: Anthropic;
let dir: string;
let work: string;
let summary: string;

beforeEach(async () => {
  emulator = await startEmulator({ port: 0 });
  fake = await startFakeGitHub({ tokens: { [TOKEN]: BOT, mallory: "mallory" } });
  client = new Anthropic({ apiKey: "test", baseURL: emulator.url, maxRetries: 0 });
  dir = await copyFleet();
  work = await mkdtemp(join(tmpdir(), "reconcile-actions-"));
  summary = join(work, "summary.md");
  await writeFile(summary, "");
});
afterEach(async () => {
  await emulator.close();
  await fake.close();
  await removeDir(dir);
  await rm(work, { recursive: true, force: true });
});

/** The variables of a run, with `event` written as its event file. */
async function runEnv(name: string, event: unknown, extra: Record<string, string> = {}) {
  const file = join(work, `${name}-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(file, JSON.stringify(event));
  return {
    GITHUB_ACTIONS: "true",
    GITHUB_REPOSITORY: REPOSITORY,
    GITHUB_API_URL: fake.url,
    GITHUB_TOKEN: TOKEN,
    GITHUB_EVENT_NAME: name,
    GITHUB_EVENT_PATH: file,
    GITHUB_STEP_SUMMARY: summary,
    ANTHROPIC_BASE_URL: emulator.url,
    ANTHROPIC_API_KEY: CANARY,
    WORKSPACE_MCP_TOKEN: CANARY,
    ...extra,
  };
}

/** A `pull_request` event (webhooks-examples) for PR 7 with head `head`, from this repository or from a fork. */
function pullRequestEvent(head: string, fork = false) {
  const event = anyExample("pull_request", (e) => e.action === "synchronize" || e.action === "opened") as {
    number: number;
    pull_request: {
      number: number;
      head: { sha: string; repo: { full_name: string } };
      base: { repo: { full_name: string } };
    };
  };
  event.number = 7;
  event.pull_request.number = 7;
  event.pull_request.head.sha = head;
  event.pull_request.base.repo.full_name = REPOSITORY;
  event.pull_request.head.repo.full_name = fork ? "mallory/Hello-World" : REPOSITORY;
  return event;
}

const pushEvent = () =>
  anyExample("push", (e) => e.ref === "refs/heads/master") as { ref: string; repository: { default_branch: string } };

const plan = async (head: string, args: string[] = [], fork = false) =>
  runCli(["github", "plan", "--dir", dir, "--plan-dir", join(work, "plans"), ...args], {
    ...(await runEnv("pull_request", pullRequestEvent(head, fork), {
      GITHUB_SHA: "f".repeat(40),
      GITHUB_REF: "refs/pull/7/merge",
    })),
  });

const applyPush = async (args: string[] = []) =>
  runCli(["github", "apply", "--dir", dir, ...args], {
    ...(await runEnv("push", pushEvent(), { GITHUB_SHA: MERGE, GITHUB_REF: "refs/heads/master" })),
  });

const dispatch = async (args: string[]) =>
  runCli(["github", "apply", "--dir", dir, ...args], {
    ...(await runEnv(
      "workflow_dispatch",
      anyExample("workflow_dispatch", (e) => e.ref === "refs/heads/master"),
      {
        GITHUB_SHA: MERGE,
        GITHUB_REF: "refs/heads/master",
      },
    )),
  });

const comments = () => fake.comments.get(PR) ?? [];
const bodies = () => comments().map((c) => c.body ?? "");
const writes = () => fake.requests.filter((r) => r.method !== "GET");
const owned = async () => [...(await ownedCounts(client)).values()].reduce((a, b) => a + b, 0);

/** No canary anywhere a person or a log could see it. */
async function expectNoCanary(...results: CliResult[]) {
  for (const r of results) {
    expect(r.stdout).not.toContain(CANARY);
    expect(r.stderr).not.toContain(CANARY);
  }
  for (const body of bodies()) expect(body).not.toContain(CANARY);
  expect(await readFile(summary, "utf8")).not.toContain(CANARY);
  for (const request of fake.requests) expect(request.url).not.toContain(CANARY);
}

describe("reconcile github plan (pull_request)", { timeout: 240_000 }, () => {
  it("first push creates one comment with the digest and head SHA; a second push edits it (still one); the job summary gets the Markdown", async () => {
    const first = await plan(HEAD_1);
    expect(first.stderr).toContain("plan comment https://github.example/");
    expect(first.code).toBe(0);
    expect(comments()).toHaveLength(1);
    const [comment] = comments();
    expect(comment?.user?.login).toBe(BOT);
    const meta = parsePlanMeta(comment?.body ?? "");
    expect(meta).toMatchObject({ part: 1, of: 1, head_sha: HEAD_1 });
    expect(comment?.body).toContain("Plan: 11 to create");
    expect(first.stderr).toContain(`Plan digest: ${meta?.digest}`);
    const summaryText = await readFile(summary, "utf8");
    expect(summaryText).toContain(comment?.body ?? "-");
    expect(await readdir(join(work, "plans"))).toEqual(["default.plan.json"]);
    const saved = JSON.parse(await readFile(join(work, "plans", "default.plan.json"), "utf8"));
    expect(saved.stack).toBe("example-fleet");

    const second = await plan(HEAD_2);
    expect(second.code).toBe(0);
    expect(comments()).toHaveLength(1);
    expect(comments()[0]?.id).toBe(comment?.id);
    expect(parsePlanMeta(bodies()[0] ?? "")).toMatchObject({ head_sha: HEAD_2, digest: meta?.digest });
    expect(writes().map((r) => r.method)).toEqual(["POST", "PATCH"]);
    expect(await owned()).toBe(0); // planning writes nothing
    await expectNoCanary(first, second);
  });

  it("invalid specs fail the check with located errors and replace the earlier plan (no digest left to apply)", async () => {
    expect((await plan(HEAD_1)).code).toBe(0);
    await writeFile(join(dir, "agents", "broken.yaml"), "apiVersion: reconcile/v1\nkind: Agent\nmetadata: {}\n");
    const result = await plan(HEAD_2);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/broken\.yaml:\d+:\d+/);
    expect(comments()).toHaveLength(1);
    expect(bodies()[0]).toContain("The specs are invalid; no plan was made.");
    expect(parsePlanMeta(bodies()[0] ?? "")).toBeUndefined();
  });

  it("a fork's pull request is validated only: no API request, no comment, and the log says how to get a plan", async () => {
    const result = await runCli(["github", "plan", "--dir", dir], {
      ...(await runEnv("pull_request", pullRequestEvent(HEAD_1, true), {
        GITHUB_SHA: "f".repeat(40),
        GITHUB_REF: "refs/pull/7/merge",
        // Any Managed Agents request would land on the double and be recorded.
        ANTHROPIC_BASE_URL: fake.url,
      })),
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("comes from a fork");
    expect(result.stderr).toContain("workflow_dispatch plan_digest");
    expect(fake.requests).toHaveLength(0);
    expect(comments()).toHaveLength(0);
    expect(await readFile(summary, "utf8")).toContain("comes from a fork");
    await expectNoCanary(result);
  });

  it("refuses to run in pull_request_target", async () => {
    const result = await runCli(["github", "plan", "--dir", dir], {
      ...(await runEnv("pull_request_target", pullRequestEvent(HEAD_1))),
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("does not plan in pull_request_target runs");
    expect(fake.requests).toHaveLength(0);
  });
});

describe("reconcile github apply (push to the default branch)", { timeout: 240_000 }, () => {
  const merged = () =>
    fake.addPullRequest({ repo: REPOSITORY, number: 7, head_sha: HEAD_1, merge_commit_sha: MERGE, merged: true });

  it("applies when the merge-commit plan equals the reviewed one, and comments the result with ids", async () => {
    expect((await plan(HEAD_1)).code).toBe(0);
    merged();
    const result = await applyPush();
    expect(result.stderr).toContain("the plan matches the reviewed one");
    expect(result.code).toBe(0);
    expect(await owned()).toBe(11);
    const resultComment = bodies().find((b) => b.startsWith("<!-- reconcile-apply "));
    expect(resultComment).toContain("Apply complete: 11 resources changed.");
    expect(resultComment).toMatch(/✓ `agent\.ops-agent`: created \(`agent_[A-Za-z0-9]+`\)/);
    await expectNoCanary(result);
    // A re-run (the job retried) has nothing to do and applies nothing twice.
    const again = await applyPush();
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("no changes; nothing to apply");
    expect(await owned()).toBe(11);
  });

  it("refuses when the merge-commit plan differs: nothing written, the new plan posted on the pull request, exit 1", async () => {
    expect((await plan(HEAD_1)).code).toBe(0);
    const reviewed = parsePlanMeta(bodies()[0] ?? "")?.digest;
    merged();
    // The default branch moved on after the review: the merge commit's specs differ from what was planned.
    const file = join(dir, "agents", "ops-agent.yaml");
    await writeFile(file, (await readFile(file, "utf8")).replace(/description: .*/, "description: changed on main"));
    const result = await applyPush();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`differs from the reviewed ${reviewed}`);
    expect(result.stderr).toMatch(/--plan-digest [0-9a-f]{32}/);
    expect(await owned()).toBe(0);
    const mergePlan = bodies().find((b) => b.startsWith("<!-- reconcile-merge-plan "));
    expect(mergePlan).toContain("Nothing was applied.");
    expect(mergePlan).toContain("changed on main");
    // The reviewed plan comment is untouched, so re-running the job cannot apply the unreviewed plan.
    expect(parsePlanMeta(bodies()[0] ?? "")?.digest).toBe(reviewed);
    expect((await applyPush()).code).toBe(1);
    expect(await owned()).toBe(0);
    await expectNoCanary(result);

    // A person looked: workflow_dispatch with another digest is refused, with the fresh one it applies.
    const fresh = /--plan-digest ([0-9a-f]{32})/.exec(result.stderr)?.[1] as string;
    const wrong = await dispatch(["--plan-digest", reviewed as string]);
    expect(wrong.code).toBe(1);
    expect(await owned()).toBe(0);
    const right = await dispatch(["--plan-digest", fresh]);
    expect(right.code).toBe(0);
    expect(await owned()).toBe(11);
    expect(bodies().find((b) => b.startsWith("<!-- reconcile-apply "))).toContain("Apply complete");
    await expectNoCanary(wrong, right);
  });

  it("ignores a plan comment forged by another user, and a hand-edited meta line: nothing applied", async () => {
    expect((await plan(HEAD_1)).code).toBe(0);
    const [real] = comments();
    // Someone else posts the very same body (a valid marker and the right digest); the bot's own comment is gone.
    fake.addComment(PR, real?.body ?? "", "mallory");
    fake.comments.set(
      PR,
      comments().filter((c) => c.id !== real?.id),
    );
    merged();
    const forged = await applyPush();
    expect(forged.code).toBe(1);
    expect(forged.stderr).toContain("No reviewed plan was found");
    expect(await owned()).toBe(0);
    // The bot's comment, with its meta line edited by hand into something that is not valid meta.
    fake.comments.set(PR, [
      { ...(real as NonNullable<typeof real>), body: (real?.body ?? "").replace('"of":1', '"of":"1"') },
    ]);
    const edited = await applyPush();
    expect(edited.code).toBe(1);
    expect(edited.stderr).toContain("No reviewed plan was found");
    expect(await owned()).toBe(0);
  });

  it("a direct push (no merged pull request) applies nothing and says so", async () => {
    const result = await applyPush();
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("not the merge of a pull request");
    expect(await owned()).toBe(0);
    expect(writes()).toHaveLength(0);
  });

  it("--plan-digest is refused outside workflow_dispatch, and apply refuses another branch", async () => {
    const push = await applyPush(["--plan-digest", "a".repeat(32)]);
    expect(push.code).toBe(1);
    expect(push.stderr).toContain("--plan-digest is for workflow_dispatch runs");
    const other = await runCli(["github", "apply", "--dir", dir], {
      ...(await runEnv("push", pushEvent(), { GITHUB_SHA: MERGE, GITHUB_REF: "refs/heads/feature" })),
    });
    expect(other.code).toBe(1);
    expect(other.stderr).toContain("runs on the default branch (master)");
    expect(await owned()).toBe(0);
  });
});
