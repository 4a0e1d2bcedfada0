/**
 * `reconcile github serve` as a user runs it (bin/reconcile, built dist/): a missing or malformed App id, key or
 * secret is a clear startup error naming the variable and never printing the value; a good configuration serves
 * /healthz, refuses an unsigned delivery with 401, logs JSON lines without secrets, and stops on SIGTERM.
 * Also the config checks themselves (`loadAppConfig`) and the log redaction.
 */
import { spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDriftInterval } from "../../src/cli/commands/github-serve.js";
import { AppConfigError, loadAppConfig } from "../../src/github/app-config.js";
import { jsonLog, redact } from "../../src/github/app-log.js";
import { REPO, runCli } from "../e2e/helpers.js";
import { appKeyPair } from "./app-helpers.js";
import { deliver, example } from "./webhook-examples.js";

const SECRET = "cli-webhook-secret-CANARY-0123456789";
let dir: string;
let keys: ReturnType<typeof appKeyPair>;
let keyPath: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "reconcile-app-cli-"));
  keys = appKeyPair();
  keyPath = join(dir, "app.pem");
  await writeFile(keyPath, keys.privateKey);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const keyLine = () => keys.privateKey.split("\n")[1] as string;

describe("loadAppConfig", () => {
  it("reads a good configuration from a key file or an inline key (also with literal \\n)", async () => {
    const fromFile = await loadAppConfig({
      GITHUB_APP_ID: "123",
      GITHUB_APP_PRIVATE_KEY_PATH: keyPath,
      GITHUB_WEBHOOK_SECRET: SECRET,
    });
    expect(fromFile).toEqual({ appId: 123, privateKey: keys.privateKey, webhookSecret: SECRET });
    const oneLine = keys.privateKey.trim().replace(/\n/g, "\\n");
    const inline = await loadAppConfig({
      GITHUB_APP_ID: "123",
      GITHUB_APP_PRIVATE_KEY: oneLine,
      GITHUB_WEBHOOK_SECRET: SECRET,
    });
    expect(inline.privateKey).toBe(keys.privateKey);
  });

  const bad: Array<[string, Record<string, string>, RegExp]> = [
    ["nothing set", {}, /GITHUB_APP_ID is not set[\s\S]*private key is missing[\s\S]*GITHUB_WEBHOOK_SECRET is not set/],
    ["a slug as id", { GITHUB_APP_ID: "my-app" }, /GITHUB_APP_ID is not a positive integer/],
    ["both key variables", { GITHUB_APP_PRIVATE_KEY: "x", GITHUB_APP_PRIVATE_KEY_PATH: "y" }, /set only one/],
    ["a key that is not PEM", { GITHUB_APP_PRIVATE_KEY: "CANARY-not-a-key" }, /is not a PEM private key/],
    [
      "a broken PEM",
      { GITHUB_APP_PRIVATE_KEY: "-----BEGIN RSA PRIVATE KEY-----\nQ0FOQVJZ\n-----END RSA PRIVATE KEY-----\n" },
      /does not parse as a private key/,
    ],
    ["an unreadable key file", { GITHUB_APP_PRIVATE_KEY_PATH: "/nonexistent/app.pem" }, /cannot be read \(ENOENT\)/],
    ["a short secret", { GITHUB_WEBHOOK_SECRET: "CANARY" }, /shorter than 16 characters/],
  ];
  for (const [name, env, message] of bad) {
    it(`refuses ${name}, naming the variable and not its value`, async () => {
      const error = await loadAppConfig(env).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppConfigError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toMatch(/CANARY|Q0FOQVJZ/);
    });
  }

  it("refuses an EC key (GitHub App keys are RSA)", async () => {
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" });
    const error = await loadAppConfig({
      GITHUB_APP_ID: "1",
      GITHUB_APP_PRIVATE_KEY: ec.toString(),
      GITHUB_WEBHOOK_SECRET: SECRET,
    }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/is a ec key; GitHub App keys are RSA/);
  });
});

describe("log redaction", () => {
  it("removes the secret, the key, tokens, JWTs and token query parameters from every line", () => {
    const lines: string[] = [];
    const log = jsonLog((l) => lines.push(l), [SECRET, keys.privateKey]);
    log("x", {
      error: new Error(`failed with ${SECRET} at https://codeload.example/a?token=AAAABBBBCCCC&x=1`),
      key: keys.privateKey,
      token: "ghs_0123456789abcdefABCDEF0123",
      jwt: "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOjF9.c2lnbmF0dXJl",
      auth: "token v1.0123456789abcdef0123456789abcdef01234567",
    });
    const text = lines.join("");
    for (const leaked of [SECRET, keyLine(), "AAAABBBBCCCC", "ghs_0123", "eyJhbGci", "v1.0123"]) {
      expect(text).not.toContain(leaked);
    }
    expect(JSON.parse(text)).toMatchObject({ event: "x", level: "error" });
    expect(redact("a-----BEGIN PRIVATE KEY-----\nabc")).toBe("a[redacted]");
  });

  it("parses --drift-interval with a unit, within 1m..7d", () => {
    expect(parseDriftInterval("1h")).toBe(3_600_000);
    for (const bad of ["60", "10s", "8d", "soon"]) expect(() => parseDriftInterval(bad)).toThrow(/1m to 7d/);
  });
});

describe("reconcile github serve", () => {
  it("refuses to start without a valid configuration, printing no value", async () => {
    const result = await runCli(["github", "serve", "--port", "0"], {
      GITHUB_APP_ID: "12",
      GITHUB_APP_PRIVATE_KEY: "CANARY-not-a-key",
      GITHUB_WEBHOOK_SECRET: "CANARY-short",
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("cannot start");
    expect(result.stderr).toContain("GITHUB_APP_PRIVATE_KEY is not a PEM private key");
    expect(result.stderr).toContain("GITHUB_WEBHOOK_SECRET is shorter than 16 characters");
    expect(result.stderr + result.stdout).not.toContain("CANARY");
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const missing = await runCli(["github", "serve"], {});
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("GITHUB_APP_ID is not set");
  });

  it("serves /healthz, refuses an unsigned delivery, logs JSON lines without secrets, stops on SIGTERM", async () => {
    const child = spawn(process.execPath, [join(REPO, "bin", "reconcile"), "github", "serve", "--port", "0"], {
      cwd: REPO,
      env: {
        PATH: process.env.PATH ?? "",
        GITHUB_APP_ID: "4242",
        GITHUB_APP_PRIVATE_KEY_PATH: keyPath,
        GITHUB_WEBHOOK_SECRET: SECRET,
        GITHUB_API_URL: "http://127.0.0.1:9",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
        for (const line of stderr.split("\n")) {
          const parsed = line.startsWith("{") && line.endsWith("}") ? JSON.parse(line) : undefined;
          if (parsed?.event === "listening") resolve(parsed.url);
        }
      });
      child.on("close", () => reject(new Error(`exited early: ${stderr}`)));
    });
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const unsigned = await deliver(`${url}/api/github/webhooks`, "push", example("push"), {
      secret: SECRET,
      delivery: "d-1",
      signature: null,
    });
    expect(unsigned.status).toBe(401);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(stdout).toBe("");
    const lines = stderr.trim().split("\n");
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(lines.map((l) => JSON.parse(l).event)).toEqual(["listening", "delivery missing signature", "shutting down"]);
    expect(stderr).not.toContain(SECRET);
    expect(stderr).not.toContain(keyLine());
  }, 60_000);
});
