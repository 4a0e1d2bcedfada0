import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { CommanderError } from "commander";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { emulatorCommand } from "../../src/emulator/cli.js";
import { startEmulator } from "../../src/emulator/index.js";
import { runCli } from "../e2e/helpers.js";

afterEach(() => {
  vi.restoreAllMocks();
});

/** Parses `args` with errors thrown instead of exiting; returns the CommanderError and what was printed. */
async function usageError(args: string[]): Promise<{ err: CommanderError; printed: string }> {
  let printed = "";
  const cmd = emulatorCommand()
    .exitOverride()
    .configureOutput({ writeErr: (s) => (printed += s), writeOut: () => {} });
  try {
    await cmd.parseAsync(args, { from: "user" });
  } catch (err) {
    expect(err).toBeInstanceOf(CommanderError);
    return { err: err as CommanderError, printed };
  }
  throw new Error(`expected ${args.join(" ")} to be rejected`);
}

describe("reconcile emulator", () => {
  it("declares its options with defaults", () => {
    const cmd = emulatorCommand();
    expect(cmd.name()).toBe("emulator");
    expect(cmd.description()).toMatch(/local Managed Agents API/);
    const flags = cmd.options.map((o) => o.long);
    expect(flags).toEqual([
      "--port",
      "--host",
      "--state",
      "--latency",
      "--fault-rate",
      "--seed",
      "--session-step",
      "--workspace",
      "--log",
    ]);
    expect(cmd.options.find((o) => o.long === "--port")?.defaultValue).toBe(4010);
  });

  it("rejects bad flag values with a clear message", async () => {
    const cases: [string[], string][] = [
      [["--port", "abc"], "port must be an integer from 0 to 65535"],
      [["--port", "70000"], "port must be an integer"],
      [["--latency", "-5"], "latency must be an integer"],
      [["--fault-rate", "2"], "fault rate must be a number from 0 to 1"],
      [["--fault-rate", "lots"], "fault rate"],
      [["--seed", "1.5"], "seed must be an integer"],
      [["--session-step", "0"], "session step must be an integer from 1 to 60000"],
    ];
    for (const [args, fragment] of cases) {
      const { err, printed } = await usageError(args);
      expect(err.code).toBe("commander.invalidArgument");
      expect(printed).toContain(fragment);
      expect(printed).toContain(args[0]);
    }
  });

  it("starts, prints how to connect, serves the SDK, persists, and stops on SIGTERM", async () => {
    const dir = await mkdtemp(join(tmpdir(), "emulator-cli-"));
    const file = join(dir, "state.json");
    const lines: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const running = emulatorCommand().parseAsync(["--port", "0", "--state", file], { from: "user" });
    await vi.waitFor(() => expect(lines.join("")).toContain("listening"), { timeout: 5000 });
    const banner = lines.join("");
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(banner)?.[1];
    expect(url).toBeDefined();
    expect(banner).toContain(`(state: ${file})`);
    expect(banner).toContain(`ANTHROPIC_BASE_URL=${url} ANTHROPIC_API_KEY=any-non-empty-key`);
    expect(banner.trim().split("\n")).toHaveLength(1);

    const client = new Anthropic({ apiKey: "k", baseURL: url, maxRetries: 0 });
    const vault = await client.beta.vaults.create({ display_name: "from-cli" });
    expect(JSON.parse(await readFile(file, "utf8")).workspaces[""].vaults[0].id).toBe(vault.id);

    expect(process.listenerCount("SIGTERM")).toBe(1);
    process.emit("SIGTERM", "SIGTERM");
    await running;
    expect(lines.join("")).toContain("Emulator stopped (SIGTERM)");
    expect(process.listenerCount("SIGTERM")).toBe(0);
    expect(process.listenerCount("SIGINT")).toBe(0);
    await expect(fetch(`${url}/v1/vaults`)).rejects.toThrow();
    await rm(dir, { recursive: true, force: true });
  });
});

/** Asserts a CLI run failed with exit 1 and exactly one stderr line (no stack trace) matching `pattern`. */
function oneLineError(result: { code: number | null; stdout: string; stderr: string }, pattern: RegExp): void {
  expect(result.code).toBe(1);
  expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(result.stderr).toMatch(/^Error: /);
  expect(result.stderr).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at |node:internal|\.js:\d+/);
  expect(result.stdout).toBe("");
}

// These run the built CLI (bin/reconcile runs dist/): `npm run build` first.
describe("reconcile emulator: start failures are one line and exit 1", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "emulator-cli-fail-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("a corrupt state file", async () => {
    const file = join(dir, "corrupt.json");
    await writeFile(file, "{ not json");
    oneLineError(
      await runCli(["emulator", "--port", "0", "--state", file]),
      /state file .*corrupt\.json is corrupt: not valid JSON.*delete it to start empty\.\n$/,
    );
  });

  it("a state path that is a directory", async () => {
    const path = join(dir, "a-directory");
    await mkdir(path);
    oneLineError(
      await runCli(["emulator", "--port", "0", "--state", path]),
      /a-directory is a directory; pass the path of a file/,
    );
  });

  it("a port in use", async () => {
    const other = await startEmulator({ port: 0 });
    try {
      oneLineError(
        await runCli(["emulator", "--port", String(other.port)]),
        new RegExp(`port ${other.port} on 127\\.0\\.0\\.1 is already in use.*--port 0 picks a free port`),
      );
    } finally {
      await other.close();
    }
  });

  it("a state path with control characters is printed escaped", async () => {
    const path = join(dir, "evil\u001b[2Kname");
    await mkdir(path);
    const result = await runCli(["emulator", "--port", "0", "--state", path]);
    oneLineError(result, /evil\\u001b\[2Kname is a directory/);
    expect(result.stderr).not.toContain("\u001b");
  });
});
