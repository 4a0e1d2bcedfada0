/**
 * The drift issue through octokit against the local GitHub API double: opened once, updated only when the drift
 * changes, closed with a comment when clean, duplicates closed, other markers and authors left alone.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DRIFT_LABEL, syncDriftIssue } from "../../src/github/drift-issue.js";
import { createGitHub, type GitHub } from "../../src/github/octokit.js";
import { type FakeGitHub, startFakeGitHub } from "./fake-github.js";

const BOT = "github-actions[bot]";
const TOKEN = "ghs_drift_token";
const REPO = { owner: "acme", repo: "agents" };
const MARKER = "<!-- reconcile-drift stack=fleet target=prod -->";

let fake: FakeGitHub;
let github: GitHub;
beforeEach(async () => {
  fake = await startFakeGitHub({ tokens: { [TOKEN]: BOT, other: "mallory" }, maxPerPage: 2 });
  github = createGitHub({ token: TOKEN, baseUrl: fake.url, throttle: false, retries: 0 });
});
afterEach(() => fake.close());

const report = (fingerprint: string, text: string | null) => ({
  marker: MARKER,
  title: "Drift: stack fleet, target prod",
  body: text === null ? null : `${MARKER}\n${text}`,
  fingerprint,
  author: BOT,
});
const openIssues = () => [...fake.issues.values()].filter((i) => i.state === "open");
const commentsOn = (n: number) => (fake.comments.get(`acme/agents#${n}`) ?? []).map((c) => c.body);

describe("syncDriftIssue", () => {
  it("opens one issue, leaves it alone while the drift is the same, updates it when it changes, closes it when clean", async () => {
    const opened = await syncDriftIssue(github, REPO, report("d1", "~ agent.a: system"));
    expect(opened.action).toBe("opened");
    expect(openIssues()).toHaveLength(1);
    expect(openIssues()[0]?.labels).toEqual([expect.objectContaining({ name: DRIFT_LABEL })]);

    const same = await syncDriftIssue(github, REPO, report("d1", "~ agent.a: system"));
    expect(same).toMatchObject({ action: "unchanged", number: opened.number });
    expect(commentsOn(opened.number as number)).toHaveLength(0);

    const changed = await syncDriftIssue(github, REPO, report("d2", "~ agent.a: system\n~ agent.b: model"));
    expect(changed).toMatchObject({ action: "updated", number: opened.number });
    expect(openIssues()).toHaveLength(1);
    expect(openIssues()[0]?.body).toContain("agent.b: model");
    expect(commentsOn(opened.number as number)).toHaveLength(1);

    const clean = await syncDriftIssue(github, REPO, { ...report("none", null), resolvedNote: "Clean at abc123." });
    expect(clean).toMatchObject({ action: "closed", number: opened.number });
    expect(openIssues()).toHaveLength(0);
    expect(commentsOn(opened.number as number).at(-1)).toBe("Clean at abc123.");

    expect((await syncDriftIssue(github, REPO, report("none", null))).action).toBe("none");
    const again = await syncDriftIssue(github, REPO, report("d3", "~ agent.c: tools"));
    expect(again.action).toBe("opened");
    expect(again.number).not.toBe(opened.number);
  });

  it("ignores issues with another marker or by another author, and closes duplicates of its own", async () => {
    const forged = await new (await import("../../src/github/octokit.js")).GitHubClient({
      auth: "other",
      baseUrl: fake.url,
      throttle: { enabled: false, onRateLimit: () => false, onSecondaryRateLimit: () => false },
    }).rest.issues.create({ ...REPO, title: "forged", body: `${MARKER}\nforged`, labels: [DRIFT_LABEL] });
    await github.rest.issues.create({
      ...REPO,
      title: "staging",
      body: "<!-- reconcile-drift stack=fleet target=staging -->",
      labels: [DRIFT_LABEL],
    });
    const first = await github.rest.issues.create({ ...REPO, title: "a", body: `${MARKER}\na`, labels: [DRIFT_LABEL] });
    const second = await github.rest.issues.create({
      ...REPO,
      title: "b",
      body: `${MARKER}\nb`,
      labels: [DRIFT_LABEL],
    });
    const result = await syncDriftIssue(github, REPO, report("d9", "~ agent.z: system"));
    expect(result).toMatchObject({ action: "updated", number: first.data.number });
    const state = (n: number) => fake.issues.get(`acme/agents#${n}`)?.state;
    expect(state(second.data.number)).toBe("closed");
    expect(state(forged.data.number)).toBe("open");
    expect(
      openIssues()
        .map((i) => i.title)
        .sort(),
    ).toEqual(["Drift: stack fleet, target prod", "forged", "staging"]);
  });

  it("refuses a body without the marker and a fingerprint that could break out of its comment", async () => {
    await expect(syncDriftIssue(github, REPO, { ...report("d1", "x"), body: "no marker" })).rejects.toThrow(/marker/);
    await expect(syncDriftIssue(github, REPO, report("a --> <b>", "x"))).rejects.toThrow(/fingerprint/);
    expect(fake.requests).toHaveLength(0);
  });
});
