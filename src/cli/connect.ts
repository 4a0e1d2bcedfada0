/**
 * Connects the CLI to an API for a target: the real one (the target's `api_key_env`, default ANTHROPIC_API_KEY;
 * its `base_url`, else ANTHROPIC_BASE_URL; its `workspace_id` as `anthropic-workspace-id`), or with `--local` the
 * embedded emulator, started in-process with its state in `.reconcile/local-state.json` (the default target's;
 * `.reconcile/local-state.<target>.json` for the others, see `localStateFile`) under the repository root
 * (git-ignored), so `apply --local` works on a fresh clone with no key and no server to start. The emulator keeps
 * one workspace per workspace id, so targets stay apart locally too.
 *
 * A command that may write (`lock` given) holds the state file's lock for its whole run, and the emulator loads the
 * state only once it is held; any other command opens the state read-only, so it can never overwrite a concurrent
 * writer's state (ADR 8).
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type Anthropic from "@anthropic-ai/sdk";
import { startEmulator } from "../emulator/index.js";
import { createClient } from "../providers/client.js";
import { formatDuration } from "../providers/lock.js";
import { envSecrets, withLocalPlaceholders } from "../providers/secrets.js";
import type { TargetConfig } from "../spec/project-config.js";
import type { SecretSource } from "../spec/types.js";
import { lockStateFile } from "./local-lock.js";

/** The state file of the embedded emulator for the default target, relative to the repository root. */
export const LOCAL_STATE_FILE = join(".reconcile", "local-state.json");

/**
 * The state file of the embedded emulator for `target`, relative to the repository root: one per target, so two
 * targets can be rehearsed with `--local` without sharing objects (issue 10). The default target (`default_target`,
 * the only target, or the implicit `default`) keeps `.reconcile/local-state.json`, so state made before per-target
 * files existed stays in use; any other target uses `.reconcile/local-state.<target>.json` (target names are spec
 * names: lower-case letters, digits and dashes, so the name is a safe file name). Each file has its own lock.
 */
export function localStateFile(target: string, defaultTarget: string | null): string {
  return target === defaultTarget ? LOCAL_STATE_FILE : join(".reconcile", `local-state.${target}.json`);
}

/** An open connection; `close` stops the embedded emulator if one was started. */
export interface Connection {
  client: Anthropic;
  /** Where the client points, for messages: "the local emulator (.reconcile/local-state.json)" or a URL. */
  describe: string;
  /** Where secret values come from: the environment; for `--local`, with placeholders for unset variables. */
  secrets: SecretSource;
  close: () => Promise<void>;
}

/** What `connect` needs. */
export interface ConnectOptions {
  root: string;
  local: boolean;
  target: TargetConfig;
  /** The project's default target (`ProjectConfig.default_target`), which keeps `LOCAL_STATE_FILE` (`localStateFile`). */
  defaultTarget: string | null;
  /** Where notes go (stderr), so machine-readable stdout stays clean. */
  warn: (line: string) => void;
  /** `--timeout`, in milliseconds (default `DEFAULT_TIMEOUT_MS`). */
  timeoutMs?: number;
  /** `--insecure-base-url`. */
  insecureBaseUrl?: boolean;
  /**
   * Set by commands that may write: with `local`, lock the state file for the whole run (waiting up to `timeoutMs`,
   * 0 = fail at once). Without it, `local` opens the state read-only.
   */
  lock?: { operation: string; timeoutMs: number } | undefined;
}

/**
 * Opens a connection for `options.target`.
 * @throws MissingApiKeyError without `local` when the target's key variable is not set
 * @throws InsecureBaseUrlError when the base URL is plain http to a non-loopback host, without `insecureBaseUrl`
 */
export async function connect(options: ConnectOptions): Promise<Connection> {
  const { target } = options;
  const workspaceId = target.workspace_id ?? undefined;
  const requestOptions = {
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    insecureBaseUrl: options.insecureBaseUrl === true,
    onNote: options.warn,
  };
  if (!options.local) {
    const client = createClient({
      apiKeyEnv: target.api_key_env,
      ...(target.base_url ? { baseURL: target.base_url, baseURLSource: `target ${target.name}'s base_url` } : {}),
      ...(workspaceId ? { workspaceId } : {}),
      ...requestOptions,
    });
    return { client, describe: client.baseURL, secrets: envSecrets(), close: async () => {} };
  }
  await mkdir(join(options.root, ".reconcile"), { recursive: true });
  const label = localStateFile(target.name, options.defaultTarget);
  const stateFile = join(options.root, label);
  const unlock = options.lock
    ? await lockStateFile(stateFile, {
        ...options.lock,
        label,
        onWait: (holder, waited) =>
          options.warn(
            `Waiting for the lock of ${label}${holder ? ` (held by ${holder.who}, ${holder.operation} since ${holder.since})` : ""}: ${formatDuration(waited)} of ${formatDuration(options.lock?.timeoutMs ?? 0)}\n`,
          ),
        onCompromised: (error) => options.warn(`Warning: the lock of ${label} was lost: ${error.message}\n`),
      })
    : undefined;
  const emulator = await startEmulator({ port: 0, stateFile, readOnlyState: !unlock }).catch(async (error) => {
    await unlock?.();
    throw error;
  });
  const client = createClient({
    apiKey: "local-emulator",
    baseURL: emulator.url,
    ...(workspaceId ? { workspaceId } : {}),
    ...requestOptions,
  });
  const secrets = withLocalPlaceholders(envSecrets(), (name) =>
    options.warn(`Note: \${env:${name}} is not set; the local emulator gets a placeholder value instead.\n`),
  );
  const close = async () => {
    await emulator.close();
    await unlock?.();
  };
  return { client, describe: `the local emulator (${label})`, secrets, close };
}
