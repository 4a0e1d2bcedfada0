/**
 * The API client: the official SDK, configured the way the real API and the emulator both expect.
 */
import Anthropic from "@anthropic-ai/sdk";

/** Where and how to reach the Managed Agents API. */
export interface ClientOptions {
  /** `x-api-key`; defaults to `ANTHROPIC_API_KEY`. */
  apiKey?: string;
  /** Defaults to `ANTHROPIC_BASE_URL`, then the SDK's default (https://api.anthropic.com). */
  baseURL?: string;
  /** The workspace id sent as `anthropic-workspace-id`, for keys that can act on several workspaces. */
  workspaceId?: string;
  /** SDK retries for 408/409-lock/429/5xx and connection errors (honours `retry-after`). Default 2. */
  maxRetries?: number;
}

/** Thrown when no API key is configured; the message says how to provide one or use the emulator. */
export class MissingApiKeyError extends Error {
  constructor() {
    super(
      "no API key: set ANTHROPIC_API_KEY (and ANTHROPIC_BASE_URL for a non-default endpoint), or pass --local to run against the embedded emulator",
    );
    this.name = "MissingApiKeyError";
  }
}

/**
 * An SDK client for `options`.
 * @throws MissingApiKeyError when neither `apiKey` nor `ANTHROPIC_API_KEY` is set.
 */
export function createClient(options: ClientOptions = {}): Anthropic {
  const apiKey = options.apiKey ?? process.env.ANTHROPIC_API_KEY;
  if (!apiKey) throw new MissingApiKeyError();
  return new Anthropic({
    apiKey,
    baseURL: options.baseURL ?? process.env.ANTHROPIC_BASE_URL ?? undefined,
    maxRetries: options.maxRetries ?? 2,
    defaultHeaders: options.workspaceId ? { "anthropic-workspace-id": options.workspaceId } : undefined,
  });
}
