import { writeFile } from "node:fs/promises";
import Anthropic from "@anthropic-ai/sdk";
import { expect } from "vitest";
import { type EmulatorOptions, type RunningEmulator, startEmulator } from "../../src/emulator/index.js";

/** The beta header value the SDK sends. */
export const BETA = "managed-agents-2026-04-01";

/** Starts an emulator on a random port (tests close it in `afterAll`). */
export function start(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  return startEmulator({ port: 0, ...options });
}

/** The real SDK pointed at the emulator, with retries off so every injected failure is visible. */
export function sdk(emu: RunningEmulator, extra: Partial<ConstructorParameters<typeof Anthropic>[0]> = {}): Anthropic {
  return new Anthropic({ apiKey: "test", baseURL: emu.url, maxRetries: 0, ...extra });
}

/** What an SDK call rejected with, for assertions. Fails the test if it resolved. */
export async function failure(promise: Promise<unknown>): Promise<InstanceType<typeof Anthropic.APIError>> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof Anthropic.APIError) return err;
    throw err;
  }
  throw new Error("expected the call to fail, but it succeeded");
}

/**
 * Asserts an SDK call fails with `status`, envelope `type`, and a message containing every fragment (e.g. the field
 * path). Returns the error for further checks.
 */
export async function expectApiError(
  promise: Promise<unknown>,
  status: number,
  type: string,
  ...fragments: string[]
): Promise<InstanceType<typeof Anthropic.APIError>> {
  const err = await failure(promise);
  expect(err.status).toBe(status);
  const body = err.error as { type: string; error: { type: string; message: string }; request_id: string };
  expect(body.type).toBe("error");
  expect(body.error.type).toBe(type);
  expect(body.request_id).toMatch(/^req_011C[0-9A-Za-z]{20}$/);
  for (const f of fragments) expect(body.error.message).toContain(f);
  return err;
}

/** A raw HTTP request to the emulator, with the SDK's headers unless overridden (`null` drops a header). */
export async function raw(
  emu: RunningEmulator,
  method: string,
  path: string,
  options: { headers?: Record<string, string | null>; body?: string } = {},
): Promise<{ status: number; headers: Headers; json: unknown }> {
  const headers: Record<string, string> = {};
  const wanted: Record<string, string | null> = {
    "x-api-key": "test",
    "anthropic-beta": BETA,
    "anthropic-version": "2023-06-01",
    ...options.headers,
  };
  for (const [k, v] of Object.entries(wanted)) if (v !== null) headers[k] = v;
  const res = await fetch(`${emu.url}${path}`, { method, headers, body: options.body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text === "" ? undefined : JSON.parse(text) };
}

/**
 * Writes an emulator state file (format version 1, as `--state-file` reads it) whose default workspace holds no
 * agents, environments, vaults or credentials, plus `kinds` (a kind added later, or a record that is not valid):
 * the state files of older emulators, and hand-edited ones.
 */
export async function writeStateFile(file: string, kinds: Record<string, unknown> = {}): Promise<void> {
  const workspace = { agents: [], environments: [], vaults: [], credentials: [], ...kinds };
  await writeFile(
    file,
    JSON.stringify({ format: "reconcile-emulator-state", version: 1, workspaces: { "": workspace } }),
  );
}
