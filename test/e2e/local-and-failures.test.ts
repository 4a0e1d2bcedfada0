/**
 * The CLI end to end for the paths around the happy one: the embedded emulator (`--local`, the quick start),
 * a failed resource that does not stop independent ones and converges on re-run, a missing API key, and
 * validation errors with their locations.
 */
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { copyFleet, removeDir, runCli } from "./helpers.js";

const CANARY = "canary-local-9e2f4a61";

describe("--local (the quick start)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await copyFleet();
  });
  afterAll(() => removeDir(dir));

  it("applies on a fresh copy with no key and no server, then plans zero changes", async () => {
    const first = await runCli(["apply", "--local", "--auto-approve", "--dir", dir], { WORKSPACE_MCP_TOKEN: CANARY });
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("Apply complete:");
    expect(existsSync(join(dir, ".reconcile", "local-state.json"))).toBe(true);
    const second = await runCli(["plan", "--local", "--detailed-exitcode", "--dir", dir], {
      WORKSPACE_MCP_TOKEN: CANARY,
    });
    expect(second.stdout).toContain("No changes. Live state matches the specs.");
    expect(second.code).toBe(0);
    for (const text of [first.stdout, first.stderr, second.stdout, second.stderr]) expect(text).not.toContain(CANARY);
    expect(await readFile(join(dir, ".reconcile", "local-state.json"), "utf8")).not.toContain(CANARY);
  });

  it("uses a visible placeholder for an unset secret, and stays at zero changes", async () => {
    const other = await copyFleet();
    try {
      const first = await runCli(["apply", "--local", "--auto-approve", "--dir", other]);
      expect(first.code).toBe(0);
      expect(first.stderr).toContain("${env:WORKSPACE_MCP_TOKEN} is not set; the local emulator gets a placeholder");
      const again = await runCli(["plan", "--local", "--detailed-exitcode", "--dir", other]);
      expect(again.code).toBe(0);
    } finally {
      await removeDir(other);
    }
  });
});

describe("failures", () => {
  let emulator: RunningEmulator;
  let dir: string;
  beforeAll(async () => {
    emulator = await startEmulator({ port: 0 });
    dir = await copyFleet();
  });
  afterAll(async () => {
    await emulator.close();
    await removeDir(dir);
  });

  it("writes nothing when one resource is not ready; --skip-unready applies the rest; converges on re-run", async () => {
    const env = { ANTHROPIC_API_KEY: "k", ANTHROPIC_BASE_URL: emulator.url };
    const refused = await runCli(["apply", "--auto-approve", "--dir", dir], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /credential\.email-meeting-manager\/[a-z0-9-]+: this create sends \$\{env:WORKSPACE_MCP_TOKEN\}, which is not set/,
    );
    expect(refused.stdout).not.toContain("✓");
    const failed = await runCli(["apply", "--auto-approve", "--skip-unready", "--dir", dir], env);
    expect(failed.code).toBe(0);
    expect(failed.stdout).toMatch(/- credential\.email-meeting-manager\/[a-z0-9-]+: skipped \(--skip-unready\)/);
    expect(failed.stdout).toMatch(/✓ agent\.ops-agent: created/);
    expect(failed.stdout).toMatch(/✓ vault\.email-meeting-manager: created/);

    const plan = await runCli(["plan", "--dir", dir], { ...env, WORKSPACE_MCP_TOKEN: CANARY });
    expect(plan.stdout).toContain("Plan: 1 to create, 0 to update, 0 to replace, 0 to archive.");
    const rerun = await runCli(["apply", "--auto-approve", "--dir", dir], { ...env, WORKSPACE_MCP_TOKEN: CANARY });
    expect(rerun.code).toBe(0);
    expect(
      (await runCli(["plan", "--detailed-exitcode", "--dir", dir], { ...env, WORKSPACE_MCP_TOKEN: CANARY })).code,
    ).toBe(0);
  });

  it("says how to provide a key when there is none", async () => {
    const result = await runCli(["plan", "--dir", dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("set ANTHROPIC_API_KEY");
    expect(result.stderr).toContain("--local");
  });

  it("reports spec errors with file:line:col and plans nothing", async () => {
    const bad = await copyFleet();
    try {
      const file = join(bad, "agents", "ops-agent.yaml");
      await writeFile(file, (await readFile(file, "utf8")).replace(/^model:/m, "modle:"));
      const validate = await runCli(["validate", "--dir", bad]);
      expect(validate.code).toBe(1);
      expect(validate.stderr).toMatch(/^agents\/ops-agent\.yaml:\d+:\d+: Agent\/ops-agent: .*modle/m);
      const plan = await runCli(["plan", "--local", "--dir", bad]);
      expect(plan.code).toBe(1);
      expect(plan.stderr).toContain("nothing was planned or changed");
      expect(existsSync(join(bad, ".reconcile", "local-state.json"))).toBe(false);
    } finally {
      await removeDir(bad);
    }
  });
});
