/**
 * The GitHub App end to end on loopback: real example payloads (@octokit/webhooks-examples) signed with the real
 * secret, delivered to the App's webhook server; @octokit/app authenticating against the GitHub double with App
 * JWTs (an RSA key generated here) and installation tokens; tarballs built here; a recording fake pipeline.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { PLAN_CHECK_NAME, type RunningApp, startGitHubApp } from "../../src/github/app.js";
import { WEBHOOK_PATH } from "../../src/github/webhook-server.js";
import { appKeyPair, FAKE_MARKER, fakePipeline, repoTarball, type TarEntry } from "./app-helpers.js";
import { type FakeGitHub, startFakeGitHub } from "./fake-github.js";
import { deliver, example } from "./webhook-examples.js";

const SECRET = "app-webhook-secret-0123456789abcdef";
const APP_ID = 4242;
const INSTALLATION = 77;
const BOT = "reconcile-test[bot]";
const OWNER = "Codertocat";
const REPO = "Hello-World";
const SHA1 = "1111111111111111111111111111111111111111";
const SHA2 = "2222222222222222222222222222222222222222";
const SHA3 = "3333333333333333333333333333333333333333";
const FILES: TarEntry[] = [
  { path: "reconcile.yaml", content: "stack: fleet\n" },
  { path: "agents/" },
  { path: "agents/helper.yaml", content: "kind: Agent\nname: helper\n" },
];

let keys: ReturnType<typeof appKeyPair>;
let fake: FakeGitHub;
let running: RunningApp | undefined;
let tempRoot: string;
let logs: string[];

beforeAll(() => {
  keys = appKeyPair();
});
beforeEach(async () => {
  fake = await startFakeGitHub({
    tokens: {},
    app: {
      id: APP_ID,
      publicKey: keys.publicKey,
      botLogin: BOT,
      installations: { [INSTALLATION]: [`${OWNER}/${REPO}`] },
    },
  });
  tempRoot = await mkdtemp(join(tmpdir(), "reconcile-app-test-"));
  logs = [];
  for (const sha of [SHA1, SHA2, SHA3])
    fake.tarballs.set(`${OWNER}/${REPO}@${sha}`, repoTarball(`${OWNER}-${REPO}-${sha.slice(0, 7)}`, FILES));
});
afterEach(async () => {
  await running?.close();
  running = undefined;
  await fake.close();
  await rm(tempRoot, { recursive: true, force: true });
});
afterAll(() => {});

async function start(pipeline: ReturnType<typeof fakePipeline>["pipeline"], extra: { maxDownloadBytes?: number } = {}) {
  running = await startGitHubApp({
    config: { appId: APP_ID, privateKey: keys.privateKey, webhookSecret: SECRET },
    pipeline,
    baseUrl: fake.url,
    throttle: false,
    retries: 0,
    checkout: { tempRoot, ...extra },
    write: (line) => logs.push(line),
  });
  return running;
}

const url = () => `${running?.url}${WEBHOOK_PATH}`;

/** The pull_request example with `action`, our installation, head `sha`. */
function pullRequest(action: string, sha: string) {
  const payload = example("pull_request", action === "opened" ? "opened" : "synchronize") as {
    action: string;
    installation: { id: number };
    pull_request: { head: { sha: string } };
  };
  payload.action = action;
  payload.installation.id = INSTALLATION;
  payload.pull_request.head.sha = sha;
  return payload;
}

/** The push example turned into a push of `sha` to the default branch. */
function push(sha: string) {
  const payload = example("push") as {
    ref: string;
    after: string;
    deleted: boolean;
    installation: { id: number };
    repository: { default_branch: string };
  };
  payload.installation.id = INSTALLATION;
  payload.ref = `refs/heads/${payload.repository.default_branch}`;
  payload.after = sha;
  payload.deleted = false;
  return payload;
}

const send = (event: string, payload: unknown, delivery: string) =>
  deliver(url(), event, payload, { secret: SECRET, delivery });

const checkRunsFor = (sha: string) => [...fake.checkRuns.values()].filter((r) => r.head_sha === sha);
const prComments = () => fake.comments.get(`${OWNER}/${REPO}#2`) ?? [];
const wait = (check: () => void) => vi.waitFor(check, { timeout: 20_000, interval: 20 });

/** Every log line is JSON and holds no credential. */
function expectCleanLogs() {
  const text = logs.join("");
  for (const line of logs) expect(() => JSON.parse(line)).not.toThrow();
  expect(text).not.toContain(SECRET);
  expect(text).not.toContain(keys.privateKey.split("\n")[1]);
  for (const token of fake.issuedTokens) expect(text).not.toContain(token);
  expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]+\./);
}

describe("GitHub App: pull requests", () => {
  it("plans an opened pull request once from the extracted checkout, sets the check run, removes the temp folder", async () => {
    const fp = fakePipeline({ botLogin: BOT });
    await start(fp.pipeline);
    expect((await send("pull_request", pullRequest("opened", SHA1), "d-1")).status).toBe(202);
    await running?.idle();
    expect(fp.calls.map((c) => [c.kind, c.sha, c.files])).toEqual([
      ["plan", SHA1, ["agents/helper.yaml", "reconcile.yaml"]],
    ]);
    expect(fp.calls[0]?.dir.startsWith(tempRoot)).toBe(true);
    const [check] = checkRunsFor(SHA1);
    expect(check).toMatchObject({ name: PLAN_CHECK_NAME, status: "completed", conclusion: "success" });
    expect(check?.output).toMatchObject({ title: "Plan: 1 to create", summary: `Planned ${SHA1}` });
    expect(fake.checkRunWrites.map((w) => [w.method, w.body.status])).toEqual([
      ["POST", "in_progress"],
      ["PATCH", "completed"],
    ]);
    expect(prComments().map((c) => c.body)).toEqual([`${FAKE_MARKER}\nPlan for ${SHA1}`]);
    expect(await readdir(tempRoot)).toEqual([]);
    // Installation token for the repository calls, the App JWT only for the token exchange.
    const tarballRequest = fake.requests.find((r) => r.url.includes("/tarball/"));
    expect(fake.issuedTokens).toContain(tarballRequest?.token);
    expectCleanLogs();
  });

  it("refuses unsigned and wrongly signed deliveries with 401: no API call, no plan", async () => {
    const fp = fakePipeline();
    await start(fp.pipeline);
    const payload = pullRequest("opened", SHA1);
    expect(
      (await deliver(url(), "pull_request", payload, { secret: SECRET, delivery: "d-1", signature: null })).status,
    ).toBe(401);
    expect(
      (await deliver(url(), "pull_request", payload, { secret: "not-the-secret-0123456789", delivery: "d-2" })).status,
    ).toBe(401);
    await running?.idle();
    expect(fake.requests).toEqual([]);
    expect(fp.calls).toEqual([]);
    expectCleanLogs();
  });

  it("plans a redelivered webhook once, and another delivery for a head already planning once", async () => {
    const fp = fakePipeline({ botLogin: BOT });
    await start(fp.pipeline);
    const held = fp.hold(SHA1);
    expect((await send("pull_request", pullRequest("opened", SHA1), "d-1")).status).toBe(202);
    expect((await send("pull_request", pullRequest("opened", SHA1), "d-1")).status).toBe(200);
    await wait(() => expect(fp.calls).toHaveLength(1));
    expect((await send("pull_request", pullRequest("reopened", SHA1), "d-2")).status).toBe(202);
    await wait(() => expect(logs.some((l) => l.includes('"plan duplicate"') && l.includes('"d-2"'))).toBe(true));
    held.open();
    await running?.idle();
    expect(fp.calls.map((c) => c.sha)).toEqual([SHA1]);
    expect(checkRunsFor(SHA1)).toHaveLength(1);
  });

  for (const ignoreAbort of [false, true]) {
    it(`posts only the newest head when pushes arrive while a plan runs (pipeline ${ignoreAbort ? "ignoring" : "honouring"} the abort)`, async () => {
      const fp = fakePipeline({ botLogin: BOT, ignoreAbort });
      await start(fp.pipeline);
      const first = fp.hold(SHA1);
      expect((await send("pull_request", pullRequest("synchronize", SHA1), "d-1")).status).toBe(202);
      await wait(() => expect(fp.calls).toHaveLength(1));
      expect((await send("pull_request", pullRequest("synchronize", SHA2), "d-2")).status).toBe(202);
      expect((await send("pull_request", pullRequest("synchronize", SHA3), "d-3")).status).toBe(202);
      await wait(() => expect(logs.filter((l) => l.includes('"plan queued"'))).toHaveLength(2));
      first.open();
      await running?.idle();
      // SHA2 was superseded before it started: never planned. SHA1 ran but was aborted; SHA3 is the result.
      expect(fp.calls.map((c) => [c.sha, c.aborted])).toEqual([
        [SHA1, true],
        [SHA3, false],
      ]);
      expect(prComments().map((c) => c.body)).toEqual([`${FAKE_MARKER}\nPlan for ${SHA3}`]);
      expect(checkRunsFor(SHA1).map((r) => [r.conclusion, r.output.title])).toEqual([
        ["cancelled", "Superseded by a newer push"],
      ]);
      expect(checkRunsFor(SHA2)).toEqual([]);
      expect(checkRunsFor(SHA3).map((r) => r.conclusion)).toEqual(["success"]);
      expect(fp.maxActive.plan).toBe(1);
      expect(fake.issuedTokens).toHaveLength(1); // the installation token is cached across deliveries
      expect(await readdir(tempRoot)).toEqual([]);
    });
  }

  const hostile: Array<[string, TarEntry[], RegExp]> = [
    [
      "a symlink",
      [...FILES, { path: "agents/link.yaml", type: "SymbolicLink", linkpath: "/etc/passwd" }],
      /SymbolicLink/,
    ],
    ["a ../ path", [...FILES, { path: "../../escaped.yaml", content: "x" }], /leaves the repository/],
    ["an absolute path", [...FILES, { path: "!/tmp/reconcile-absolute.yaml", content: "x" }], /absolute entry path/],
  ];
  for (const [name, entries, reason] of hostile) {
    it(`refuses a tarball with ${name}: failed check run with the reason, no plan, nothing extracted`, async () => {
      fake.tarballs.set(`${OWNER}/${REPO}@${SHA1}`, repoTarball(`${OWNER}-${REPO}-1111111`, entries));
      const fp = fakePipeline({ botLogin: BOT });
      await start(fp.pipeline);
      await send("pull_request", pullRequest("opened", SHA1), "d-1");
      await running?.idle();
      expect(fp.calls).toEqual([]);
      const [check] = checkRunsFor(SHA1);
      expect(check).toMatchObject({ status: "completed", conclusion: "failure" });
      expect(check?.output.title).toBe("Refused the repository tarball");
      expect(check?.output.summary).toMatch(reason);
      expect(await readdir(tempRoot)).toEqual([]);
      expect(existsSync(join(tempRoot, "..", "escaped.yaml"))).toBe(false);
      expect(existsSync("/tmp/reconcile-absolute.yaml")).toBe(false);
      expect(prComments()).toEqual([]);
    });
  }

  it("refuses a download over the size cap before extracting", async () => {
    const fp = fakePipeline({ botLogin: BOT });
    await start(fp.pipeline, { maxDownloadBytes: 64 });
    await send("pull_request", pullRequest("opened", SHA1), "d-1");
    await running?.idle();
    expect(fp.calls).toEqual([]);
    expect(checkRunsFor(SHA1)[0]?.output.summary).toMatch(/larger than 64 bytes/);
    expect(await readdir(tempRoot)).toEqual([]);
  });

  it("shows a pipeline error as a failed check run, with no token in the log", async () => {
    const fp = fakePipeline({ botLogin: BOT });
    fp.pipeline.planPullRequest = async (_dir, ctx) => {
      const token = fake.issuedTokens.at(-1);
      throw new Error(`specs invalid near https://codeload.example/x?token=${token} (${ctx.head_sha})`);
    };
    await start(fp.pipeline);
    await send("pull_request", pullRequest("opened", SHA1), "d-1");
    await running?.idle();
    const [check] = checkRunsFor(SHA1);
    expect(check).toMatchObject({ conclusion: "failure" });
    expect(check?.output.title).toBe("The plan failed");
    expect(check?.output.summary).toContain("token=[redacted]");
    for (const token of fake.issuedTokens) expect(check?.output.summary).not.toContain(token);
    expect(logs.some((l) => l.includes('"plan failed"') && l.includes("token=[redacted]"))).toBe(true);
    expect(await readdir(tempRoot)).toEqual([]);
    expectCleanLogs();
  });
});

describe("GitHub App: pushes and drift", () => {
  it("applies pushes to the default branch one after the other, never overlapping, and ignores other refs", async () => {
    const fp = fakePipeline({ botLogin: BOT });
    await start(fp.pipeline);
    const first = fp.hold(SHA1);
    expect((await send("push", push(SHA1), "p-1")).status).toBe(202);
    await wait(() => expect(fp.calls).toHaveLength(1));
    expect((await send("push", push(SHA2), "p-2")).status).toBe(202);
    // Either the App queued it (correct) or it started a second apply at once (the overlap this test catches).
    await wait(() =>
      expect(logs.some((l) => l.includes('"apply queued"') && l.includes('"p-2"')) || fp.calls.length === 2).toBe(true),
    );
    const tag = { ...push(SHA3), ref: "refs/tags/v1" };
    expect((await send("push", tag, "p-3")).status).toBe(202);
    first.open();
    await running?.idle();
    expect(fp.calls.map((c) => [c.kind, c.sha, c.files.length])).toEqual([
      ["apply", SHA1, 2],
      ["apply", SHA2, 2],
    ]);
    expect(fp.maxActive.apply).toBe(1);
    expect(await readdir(tempRoot)).toEqual([]);
    expectCleanLogs();
  });

  it("checks drift for every installation repository at the default branch head, in the apply queue", async () => {
    fake.branches.set(`${OWNER}/${REPO}@main`, SHA3);
    const fp = fakePipeline({ botLogin: BOT });
    await start(fp.pipeline);
    const apply = fp.hold(SHA1);
    await send("push", push(SHA1), "p-1");
    await wait(() => expect(fp.calls).toHaveLength(1));
    const sweep = running?.driftSweep();
    expect(running?.driftSweep()).toBe(sweep); // a sweep still running is not doubled
    apply.open();
    await sweep;
    await running?.idle();
    expect(fp.calls.map((c) => [c.kind, c.sha, c.files])).toEqual([
      ["apply", SHA1, ["agents/helper.yaml", "reconcile.yaml"]],
      ["drift", SHA3, ["agents/helper.yaml", "reconcile.yaml"]],
    ]);
    expect(await readdir(tempRoot)).toEqual([]);
    expectCleanLogs();
  });
});
