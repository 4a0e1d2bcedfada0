/**
 * Connects the CLI to an API: the real one (ANTHROPIC_API_KEY, optional ANTHROPIC_BASE_URL), or with `--local` the
 * embedded emulator, started in-process with its state in `.reconcile/local-state.json` under the repository root
 * (git-ignored), so `apply --local` works on a fresh clone with no key and no server to start.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type Anthropic from "@anthropic-ai/sdk";
import { startEmulator } from "../emulator/index.js";
import { createClient } from "../providers/client.js";
import { envSecrets, withLocalPlaceholders } from "../providers/secrets.js";
import type { SecretSource } from "../spec/types.js";

/** The state file of the embedded emulator, relative to the repository root. */
export const LOCAL_STATE_FILE = join(".reconcile", "local-state.json");

/** An open connection; `close` stops the embedded emulator if one was started. */
export interface Connection {
  client: Anthropic;
  /** Where the client points, for messages: "the local emulator (.reconcile/local-state.json)" or a URL. */
  describe: string;
  /** Where secret values come from: the environment; for `--local`, with placeholders for unset variables. */
  secrets: SecretSource;
  close: () => Promise<void>;
}

/**
 * Opens a connection for `root`.
 * @throws MissingApiKeyError without `local` when ANTHROPIC_API_KEY is not set
 */
export async function connect(options: {
  root: string;
  local: boolean;
  warn: (line: string) => void;
}): Promise<Connection> {
  if (!options.local) {
    const client = createClient();
    return { client, describe: client.baseURL, secrets: envSecrets(), close: async () => {} };
  }
  await mkdir(join(options.root, ".reconcile"), { recursive: true });
  const emulator = await startEmulator({ port: 0, stateFile: join(options.root, LOCAL_STATE_FILE) });
  const client = createClient({ apiKey: "local-emulator", baseURL: emulator.url, maxRetries: 0 });
  const secrets = withLocalPlaceholders(envSecrets(), (name) =>
    options.warn(`Note: \${env:${name}} is not set; the local emulator gets a placeholder value instead.\n`),
  );
  return { client, describe: `the local emulator (${LOCAL_STATE_FILE})`, secrets, close: () => emulator.close() };
}
