/**
 * The package as a user gets it (issue 10, item 3): `npm pack` → install the tarball into an empty directory →
 * `npx reconcile init` → `npx reconcile apply --local --auto-approve`, with no network.
 *
 * No network: `npm install TARBALL --offline` cannot work from the npm cache that `npm ci` leaves, because that cache
 * holds the dependencies' tarballs but not every package's metadata, which a fresh resolution needs. So the empty
 * directory gets a lockfile instead: this repository's own (its non-dev entries, which are exactly the tarball's
 * dependency tree, with `resolved` URLs filled in where npm left them out), and `npm ci --offline` installs it from
 * the cache alone. That is the same tree a user's `npm install reconcile-agents` resolves today.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO, removeDir } from "../e2e/helpers.js";

const run = promisify(execFile);

interface LockEntry {
  version?: string;
  resolved?: string;
  dev?: boolean;
  devOptional?: boolean;
  [key: string]: unknown;
}

let dir: string;
let app: string;

/** Runs `cmd args` in `cwd` with a clean environment (no API key: `--local` must not need one). */
async function sh(cmd: string, args: string[], cwd: string) {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
    npm_config_cache: process.env.npm_config_cache ?? join(process.env.HOME ?? "", ".npm"),
    npm_config_update_notifier: "false",
    RECONCILE_CACHE_DIR: process.env.RECONCILE_CACHE_DIR ?? "",
  };
  try {
    const { stdout, stderr } = await run(cmd, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "reconcile-pack-"));
  app = join(dir, "app");
  await mkdir(app);
  const pkg = JSON.parse(await readFile(join(REPO, "package.json"), "utf8"));
  const packed = await sh("npm", ["pack", "--ignore-scripts", "--pack-destination", dir], REPO);
  expect(packed.code, packed.stderr).toBe(0);
  const tarball = `${pkg.name}-${pkg.version}.tgz`;
  expect(existsSync(join(dir, tarball))).toBe(true);
  const lock = JSON.parse(await readFile(join(REPO, "package-lock.json"), "utf8"));
  const spec = `file:../${tarball}`;
  const packages: Record<string, LockEntry> = {
    "": { name: "app", version: "1.0.0", dependencies: { [pkg.name]: spec } },
    [`node_modules/${pkg.name}`]: {
      version: pkg.version,
      resolved: spec,
      license: pkg.license,
      dependencies: pkg.dependencies,
      bin: pkg.bin,
      engines: pkg.engines,
    },
  };
  for (const [path, entry] of Object.entries(lock.packages as Record<string, LockEntry>)) {
    if (path === "" || entry.dev || entry.devOptional) continue;
    const name = path.split("node_modules/").at(-1) ?? "";
    const resolved =
      entry.resolved ?? `https://registry.npmjs.org/${name}/-/${name.split("/").at(-1)}-${entry.version}.tgz`;
    packages[path] = { ...entry, resolved };
  }
  await writeFile(
    join(app, "package.json"),
    JSON.stringify({ name: "app", version: "1.0.0", private: true, dependencies: { [pkg.name]: spec } }),
  );
  await writeFile(
    join(app, "package-lock.json"),
    JSON.stringify({ name: "app", version: "1.0.0", lockfileVersion: 3, requires: true, packages }),
  );
}, 240_000);

afterAll(async () => {
  if (dir) await removeDir(dir);
});

describe("npm pack → install → init → apply --local", () => {
  it("installs offline, scaffolds a repository whose modelines resolve, and applies it with no API key", async () => {
    const installed = await sh("npm", ["ci", "--offline", "--no-audit", "--no-fund", "--ignore-scripts"], app);
    expect(installed.code, installed.stderr).toBe(0);
    const init = await sh("npx", ["--offline", "reconcile", "init"], app);
    expect(init.code, init.stderr).toBe(0);
    const spec = await readFile(join(app, "agents", "assistant.yaml"), "utf8");
    const schema = spec.match(/\$schema=(\S+)/)?.[1] ?? "";
    expect(schema).toBe("../node_modules/reconcile-agents/schemas/agent.schema.json");
    expect(existsSync(resolve(join(app, "agents"), schema))).toBe(true);
    expect(existsSync(resolve(dirname(join(app, "reconcile.yaml")), "node_modules/reconcile-agents/dist"))).toBe(true);
    const applied = await sh("npx", ["--offline", "reconcile", "apply", "--local", "--auto-approve"], app);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain("Apply complete: 8 resources changed.");
    const again = await sh("npx", ["--offline", "reconcile", "plan", "--local", "--detailed-exitcode"], app);
    expect(again.code, again.stdout + again.stderr).toBe(0);
  }, 300_000);
});
