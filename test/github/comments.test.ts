/**
 * Sticky plan comments through the real octokit client (retry and throttling plugins) against the local GitHub
 * API double: one comment per pull request and marker, edited in place, split parts kept in order, foreign comments
 * left alone, and a failure that names the request.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { COMMENT_MAX_CHARS, upsertStickyComments } from "../../src/github/comments.js";
import { createGitHub, type GitHub } from "../../src/github/octokit.js";
import { type FakeGitHub, startFakeGitHub } from "./fake-github.js";

const BOT = "github-actions[bot]";
const TOKEN = "ghs_test_token_0123456789";
const ISSUE = { owner: "acme", repo: "agents", issue_number: 7 };
const KEY = "acme/agents#7";
const MARKER = "<!-- reconcile-plan stack=fleet target=prod -->";

let fake: FakeGitHub;
let github: GitHub;

beforeEach(async () => {
  fake = await startFakeGitHub({ tokens: { [TOKEN]: BOT, other: "mallory" }, maxPerPage: 2 });
  github = createGitHub({ token: TOKEN, baseUrl: fake.url, throttle: false, retries: 0 });
});
afterEach(() => fake.close());

const bodies = () => (fake.comments.get(KEY) ?? []).map((c) => c.body);

describe("upsertStickyComments", () => {
  it("creates one comment on the first push and edits it on the second (still one comment)", async () => {
    const first = await upsertStickyComments(github, ISSUE, {
      marker: MARKER,
      parts: [`${MARKER}\nPlan: 1 to create`],
      author: BOT,
    });
    expect(first).toMatchObject({ created: 1, updated: 0, deleted: 0 });
    const second = await upsertStickyComments(github, ISSUE, {
      marker: MARKER,
      parts: [`${MARKER}\nPlan: 2 to create`],
      author: BOT,
    });
    expect(second).toMatchObject({ created: 0, updated: 1, deleted: 0, ids: first.ids });
    expect(bodies()).toEqual([`${MARKER}\nPlan: 2 to create`]);
    const third = await upsertStickyComments(github, ISSUE, {
      marker: MARKER,
      parts: [`${MARKER}\nPlan: 2 to create`],
      author: BOT,
    });
    expect(third).toMatchObject({ created: 0, updated: 0, unchanged: 1 });
    expect(fake.requests.filter((r) => r.method !== "GET")).toHaveLength(2);
  });

  it("finds its comments across pages and leaves other markers and other authors alone", async () => {
    for (let i = 0; i < 5; i++) fake.addComment(KEY, `looks good ${i}`, "alice");
    fake.addComment(KEY, `${MARKER}\nforged by someone else`, "mallory");
    fake.addComment(KEY, "<!-- reconcile-plan stack=fleet target=staging -->\nstaging plan", BOT);
    await upsertStickyComments(github, ISSUE, { marker: MARKER, parts: [`${MARKER}\nv1`], author: BOT });
    await upsertStickyComments(github, ISSUE, { marker: MARKER, parts: [`${MARKER}\nv2`], author: BOT });
    const all = bodies();
    expect(all.filter((b) => b === `${MARKER}\nv2`)).toHaveLength(1);
    expect(all).toContain(`${MARKER}\nforged by someone else`);
    expect(all).toContain("<!-- reconcile-plan stack=fleet target=staging -->\nstaging plan");
    expect(all).toHaveLength(8);
  });

  it("keeps split parts in order, and deletes the surplus parts of a longer earlier plan", async () => {
    const parts = (n: number, tag: string) =>
      Array.from({ length: n }, (_, i) => `${MARKER}\n${tag} part ${i + 1} of ${n}`);
    await upsertStickyComments(github, ISSUE, { marker: MARKER, parts: parts(3, "a"), author: BOT });
    expect(bodies()).toEqual(parts(3, "a"));
    const result = await upsertStickyComments(github, ISSUE, { marker: MARKER, parts: parts(2, "b"), author: BOT });
    expect(result).toMatchObject({ updated: 2, deleted: 1 });
    expect(bodies()).toEqual(parts(2, "b"));
    await upsertStickyComments(github, ISSUE, { marker: MARKER, parts: parts(4, "c"), author: BOT });
    expect(bodies()).toEqual(parts(4, "c"));
  });

  it("converges to one comment when another run creates its comment between our list and our create", async () => {
    fake.beforeNextCreate(() => fake.addComment(KEY, `${MARKER}\nfrom the other run`, BOT));
    const ours = `${MARKER}\nfrom this run`;
    const result = await upsertStickyComments(github, ISSUE, { marker: MARKER, parts: [ours], author: BOT });
    expect(result.created).toBe(1);
    expect(bodies()).toEqual([ours]);
    expect(result.ids).toEqual([(fake.comments.get(KEY) ?? [])[0]?.id]);
  });

  it("refuses parts that are empty, unmarked or too long before any request", async () => {
    const before = fake.requests.length;
    await expect(upsertStickyComments(github, ISSUE, { marker: MARKER, parts: [] })).rejects.toThrow(
      /no comment parts/,
    );
    await expect(upsertStickyComments(github, ISSUE, { marker: MARKER, parts: ["no marker"] })).rejects.toThrow(
      /marker/,
    );
    const huge = `${MARKER}\n${"x".repeat(COMMENT_MAX_CHARS)}`;
    await expect(upsertStickyComments(github, ISSUE, { marker: MARKER, parts: [huge] })).rejects.toThrow(/65536/);
    await expect(upsertStickyComments(github, ISSUE, { marker: "plan", parts: ["plan"] })).rejects.toThrow(
      /HTML comment/,
    );
    expect(fake.requests.length).toBe(before);
  });

  it("fails with GitHub's status on bad credentials, and never sends the token anywhere but the header", async () => {
    const bad = createGitHub({ token: "wrong", baseUrl: fake.url, throttle: false, retries: 0 });
    await expect(upsertStickyComments(bad, ISSUE, { marker: MARKER, parts: [`${MARKER}\nx`] })).rejects.toMatchObject({
      status: 401,
    });
    expect(fake.requests.every((r) => !r.url.includes(TOKEN))).toBe(true);
  });
});
