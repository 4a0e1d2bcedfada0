/**
 * The real App pipeline (`appPipeline`, src/github/app-wiring.ts) end to end on loopback: a signed
 * `pull_request.opened` delivery to the App's webhook server, @octokit/app authenticating against the GitHub double,
 * the fixture fleet checked out from a tarball, planned against the emulator through the CLI's host; the plan
 * comment lands on the pull request (by the App's `<slug>[bot]`, from `GET /app`) and the check run succeeds.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cliHost } from "../../src/cli/github-host.js";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { PLAN_CHECK_NAME, type RunningApp, startGitHubApp } from "../../src/github/app.js";
import { appBotLogin, appPipeline } from "../../src/github/app-wiring.js";
import { WEBHOOK_PATH } from "../../src/github/webhook-server.js";
import { planMarker } from "../../src/reconcile/render-markdown.js";
import { copyFleet, removeDir } from "../e2e/helpers.js";
import { appKeyPair, listFiles, repoTarball } from "./app-helpers.js";
import { type FakeGitHub, startFakeGitHub } from "./fake-github.js";
import { deliver, example } from "./webhook-examples.js";

const SECRET = "app-webhook-secret-0123456789abcdef";
const CANARY = "sk-ant-canary-wiring-0123456789";
const APP_ID = 5151;
const INSTALLATION = 88;
const BOT = "reconcile-wired[bot]";
const OWNER = "Codertocat";
const REPO = "Hello-World";
const SHA = "4444444444444444444444444444444444444444";
const MERGE = "5555555555555555555555555555555555555555";

let emulator: RunningEmulator;
let fake: FakeGitHub;
let running: RunningApp | undefined;
let fleet: string;
let tempRoot: string;
let logs: string[];
let stderr: string[];
let keys: ReturnType<typeof appKeyPair>;

beforeEach(async () => {
  emulator = await startEmulator({ port: 0 });
  keys = appKeyPair();
  fake = await startFakeGitHub({
    tokens: {},
    app: {
      id: APP_ID,
      publicKey: keys.publicKey,
      botLogin: BOT,
      installations: { [INSTALLATION]: [`${OWNER}/${REPO}`] },
    },
  });
  fleet = await copyFleet();
  tempRoot = await mkdtemp(join(tmpdir(), "reconcile-wiring-test-"));
  logs = [];
  stderr = [];
  vi.stubEnv("ANTHROPIC_BASE_URL", emulator.url);
  vi.stubEnv("ANTHROPIC_API_KEY", CANARY);
  vi.stubEnv("WORKSPACE_MCP_TOKEN", CANARY);
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await running?.close();
  running = undefined;
  await fake.close();
  await emulator.close();
  await removeDir(fleet);
  await rm(tempRoot, { recursive: true, force: true });
});

/** The agents live in the emulator (the apply created them). */
async function emulatorAgents(): Promise<unknown[]> {
  const client = new Anthropic({ apiKey: "test", baseURL: emulator.url, maxRetries: 0 });
  const page = await client.beta.agents.list();
  return page.data;
}

/** The fixture fleet as GitHub's tarball of `SHA`. */
async function fleetTarball(): Promise<Buffer> {
  const files = await listFiles(fleet);
  const entries = await Promise.all(
    files.map(async (path) => ({ path, content: await readFile(join(fleet, path), "utf8") })),
  );
  return repoTarball(`${OWNER}-${REPO}-${SHA.slice(0, 7)}`, entries);
}

/** Starts the App server with the real pipeline over the CLI host, serving the fleet tarball at `SHA`. */
async function start(): Promise<RunningApp> {
  fake.tarballs.set(`${OWNER}/${REPO}@${SHA}`, await fleetTarball());
  fake.tarballs.set(`${OWNER}/${REPO}@${MERGE}`, await fleetTarball());
  const output = { out: (t: string) => void stderr.push(t), err: (t: string) => void stderr.push(t), color: false };
  const pipeline = appPipeline({
    host: cliHost({}, output),
    botLogin: appBotLogin(() => {
      if (!running) throw new Error("not running");
      return running.app;
    }),
  });
  running = await startGitHubApp({
    config: { appId: APP_ID, privateKey: keys.privateKey, webhookSecret: SECRET },
    pipeline,
    baseUrl: fake.url,
    throttle: false,
    retries: 0,
    checkout: { tempRoot },
    write: (line) => logs.push(line),
  });
  return running;
}

function pullRequestOpened() {
  const payload = example("pull_request", "opened") as {
    installation: { id: number };
    number: number;
    pull_request: { number: number; head: { sha: string } };
  };
  payload.installation.id = INSTALLATION;
  payload.pull_request.head.sha = SHA;
  return payload;
}

describe("the App with the real pipeline", () => {
  it("plans a pull request: a plan comment by the App's bot and a successful check run", async () => {
    await start();
    const payload = pullRequestOpened();
    const issue = `${OWNER}/${REPO}#${payload.pull_request.number}`;
    // A comment by someone else with the plan marker is never taken as ours (it stays, and ours is a new one).
    const marker = planMarker("example-fleet", "default");
    const forged = fake.addComment(issue, `${marker}\nforged`, "mallory");
    const response = await deliver(`${running?.url}${WEBHOOK_PATH}`, "pull_request", payload, {
      secret: SECRET,
      delivery: "wired-1",
    });
    expect(response.status).toBeLessThan(300);
    await vi.waitFor(
      () => {
        const run = [...fake.checkRuns.values()].find((r) => r.head_sha === SHA);
        expect(run?.status).toBe("completed");
      },
      { timeout: 60_000, interval: 50 },
    );
    const run = [...fake.checkRuns.values()].find((r) => r.head_sha === SHA);
    expect(run?.name).toBe(PLAN_CHECK_NAME);
    expect(run?.conclusion, JSON.stringify(run?.output) + stderr.join("")).toBe("success");
    expect(run?.output.title).toMatch(/: /);
    expect(run?.output.summary).toContain("reconcile plan");
    const comments = fake.comments.get(issue) ?? [];
    const ours = comments.filter((c) => c.user?.login === BOT);
    expect(ours.length).toBeGreaterThan(0);
    expect(ours[0]?.body?.split("\n")[0]).toBe(marker);
    expect(ours[0]?.body).toContain(SHA);
    expect(comments.find((c) => c.id === forged.id)?.body).toContain("forged");
    // GET /app was asked with the App's JWT to learn the bot login.
    expect(fake.requests.some((r) => r.method === "GET" && r.url === "/app")).toBe(true);
    const everything = logs.join("") + stderr.join("") + comments.map((c) => c.body).join("");
    expect(everything).not.toContain(CANARY);
  }, 90_000);

  it("applies the merge of the reviewed plan, and comments the result by the App's bot", async () => {
    await start();
    const payload = pullRequestOpened();
    const number = payload.pull_request.number;
    const issue = `${OWNER}/${REPO}#${number}`;
    const hook = `${running?.url}${WEBHOOK_PATH}`;
    await deliver(hook, "pull_request", payload, { secret: SECRET, delivery: "wired-plan" });
    await vi.waitFor(
      () => expect([...fake.checkRuns.values()].find((r) => r.head_sha === SHA)?.status).toBe("completed"),
      { timeout: 60_000, interval: 50 },
    );
    const push = example("push") as {
      ref: string;
      after: string;
      deleted: boolean;
      installation: { id: number };
      repository: { default_branch: string };
    };
    push.installation.id = INSTALLATION;
    push.ref = `refs/heads/${push.repository.default_branch}`;
    push.after = MERGE;
    push.deleted = false;
    fake.addPullRequest({
      repo: `${OWNER}/${REPO}`,
      number,
      head_sha: SHA,
      merge_commit_sha: MERGE,
      merged: true,
      base: push.repository.default_branch,
    });
    await deliver(hook, "push", push, { secret: SECRET, delivery: "wired-push" });
    await vi.waitFor(
      () =>
        expect((fake.comments.get(issue) ?? []).some((c) => c.body?.startsWith("<!-- reconcile-apply "))).toBe(true),
      { timeout: 60_000, interval: 50 },
    );
    const applied = (fake.comments.get(issue) ?? []).find((c) => c.body?.startsWith("<!-- reconcile-apply "));
    expect(applied?.user?.login).toBe(BOT);
    expect((fake.comments.get(issue) ?? []).some((c) => c.body?.startsWith("<!-- reconcile-merge-plan "))).toBe(false);
    const agents = await emulatorAgents();
    expect(agents.length).toBeGreaterThan(0);
    expect(logs.join("") + stderr.join("")).not.toContain(CANARY);
  }, 120_000);
});
