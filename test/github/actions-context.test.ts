/** The Actions context from real pull_request event payloads (@octokit/webhooks-examples) and runner variables. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NotInActionsError, readActionsContext } from "../../src/github/actions-context.js";
import { example } from "./webhook-examples.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "reconcile-actions-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function env(event: unknown, extra: Record<string, string> = {}) {
  const file = join(dir, "event.json");
  await writeFile(file, JSON.stringify(event));
  return {
    GITHUB_REPOSITORY: "Codertocat/Hello-World",
    GITHUB_EVENT_NAME: "pull_request",
    GITHUB_EVENT_PATH: file,
    GITHUB_SHA: "f".repeat(40),
    GITHUB_REF: "refs/pull/2/merge",
    ...extra,
  };
}

describe("readActionsContext", () => {
  it("reads the pull request of a same-repository pull_request event", async () => {
    const payload = example("pull_request", "opened") as {
      pull_request: { number: number; head: { sha: string; repo: { full_name: string } } };
    };
    payload.pull_request.head.repo.full_name = "Codertocat/Hello-World";
    const context = await readActionsContext(
      await env({ ...payload }, { GITHUB_STEP_SUMMARY: join(dir, "summary.md") }),
    );
    expect(context).toMatchObject({
      owner: "Codertocat",
      repo: "Hello-World",
      apiUrl: "https://api.github.com",
      event: "pull_request",
      pullRequest: { number: payload.pull_request.number, head_sha: payload.pull_request.head.sha, fork: false },
      stepSummary: join(dir, "summary.md"),
    });
  });

  it("marks a fork's pull request, and one whose head repository was deleted, as a fork", async () => {
    const payload = example("pull_request", "opened") as { pull_request: { head: { repo: unknown } } };
    (payload.pull_request.head.repo as { full_name: string }).full_name = "mallory/Hello-World";
    expect((await readActionsContext(await env(payload))).pullRequest?.fork).toBe(true);
    payload.pull_request.head.repo = null;
    expect((await readActionsContext(await env(payload))).pullRequest?.fork).toBe(true);
  });

  it("says how to proceed outside Actions, and refuses an event file without a pull request", async () => {
    await expect(readActionsContext({})).rejects.toBeInstanceOf(NotInActionsError);
    await expect(readActionsContext(await env({ ref: "refs/heads/main" }))).rejects.toThrow(/no pull request/);
    const push = await readActionsContext({ GITHUB_REPOSITORY: "a/b", GITHUB_EVENT_NAME: "push", GITHUB_SHA: "abc" });
    expect(push.pullRequest).toBeUndefined();
  });
});
