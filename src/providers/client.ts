/**
 * The API client: the official SDK, configured the way the real API and the emulator both expect.
 */
import Anthropic from "@anthropic-ai/sdk";

/** Where and how to reach the Managed Agents API. */
export interface ClientOptions {
  /** The API key; defaults to the variable `apiKeyEnv` names. */
  apiKey?: string;
  /** The environment variable holding the key (a target's `api_key_env`). Default `ANTHROPIC_API_KEY`. */
  apiKeyEnv?: string;
  /** Defaults to `ANTHROPIC_BASE_URL`, then the SDK's default (https://api.anthropic.com). */
  baseURL?: string;
  /** The workspace id sent as `anthropic-workspace-id`, for keys that can act on several workspaces. */
  workspaceId?: string;
  /** SDK retries for 408/409-lock/429/5xx and connection errors (honours `retry-after`). Default 2. */
  maxRetries?: number;
}

/** Thrown when no API key is configured; the message says how to provide one or use the emulator. */
export class MissingApiKeyError extends Error {
  constructor(variable: string) {
    super(
      `no API key: set ${variable} (and ANTHROPIC_BASE_URL for a non-default endpoint), or pass --local to run against the embedded emulator`,
    );
    this.name = "MissingApiKeyError";
  }
}

/**
 * An SDK client for `options`.
 * @throws MissingApiKeyError when neither `apiKey` nor the key variable is set.
 */
export function createClient(options: ClientOptions = {}): Anthropic {
  const variable = options.apiKeyEnv ?? "ANTHROPIC_API_KEY";
  const apiKey = options.apiKey ?? process.env[variable];
  if (!apiKey) throw new MissingApiKeyError(variable);
  return new Anthropic({
    apiKey,
    baseURL: options.baseURL ?? process.env.ANTHROPIC_BASE_URL ?? undefined,
    maxRetries: options.maxRetries ?? 2,
    defaultHeaders: options.workspaceId ? { "anthropic-workspace-id": options.workspaceId } : undefined,
  });
}
