/**
 * The API client: the official SDK, configured the way the real API and the emulator both expect, and the one way
 * providers send requests through it.
 *
 * Every provider request goes through `sendRequest`: SDK retries off (the retry budget is `retry.ts`'s, the same for
 * reads and writes), a timeout per attempt that covers the whole response (headers and body), the body read with a
 * size cap and checked as JSON of the expected shape (`response.ts`), and errors that name the request
 * (`GET /v1/agents`). Reads and archives are retried here; creates and updates are retried by apply, which first
 * checks whether the lost write landed (ADR 7). Lists follow `next_page` with a page cap and a repeated-cursor check.
 */
import { BlockList, isIPv4, isIPv6 } from "node:net";
import Anthropic, { type APIPromise } from "@anthropic-ai/sdk";
import { LIST_PAGE_SIZE } from "./comparable.js";
import {
  checkShape,
  type Page,
  readBinaryBody,
  readJsonBody,
  safeApiError,
  sanitizeExcerpt,
  UnexpectedResponseError,
} from "./response.js";
import { DEFAULT_RETRY, type RetryPolicy, retryTransient, type TransientError } from "./retry.js";
import type { ApiObject, PageCallback, ResourceType } from "./types.js";

/** The default timeout of one request attempt, in milliseconds (`--timeout`, default 60s). */
export const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * The most pages one list may take. A real fleet is far below it (the benchmark's 1,000 agents are 10 pages of
 * `LIST_PAGE_SIZE`); a server whose pagination never ends is stopped here instead of growing memory without bound.
 */
export const MAX_LIST_PAGES = 500;

/** Where and how to reach the Managed Agents API. */
export interface ClientOptions {
  /** The API key; defaults to the variable `apiKeyEnv` names. */
  apiKey?: string;
  /** The environment variable holding the key (a target's `api_key_env`). Default `ANTHROPIC_API_KEY`. */
  apiKeyEnv?: string;
  /** Defaults to `ANTHROPIC_BASE_URL`, then the SDK's default (https://api.anthropic.com). */
  baseURL?: string;
  /** Where `baseURL` came from, for the error message when it is refused (e.g. `target prod's base_url`). */
  baseURLSource?: string;
  /** Allow a base URL that is plain `http` to a host other than loopback (`--insecure-base-url`). Default false. */
  insecureBaseUrl?: boolean;
  /** The workspace id sent as `anthropic-workspace-id`, for keys that can act on several workspaces. */
  workspaceId?: string;
  /** The longest wait for one request attempt, headers and body, in milliseconds (`--timeout`). Default 60000. */
  timeoutMs?: number;
  /** How transient faults of reads and archives are retried (apply's writes take their policy from apply). */
  retry?: Partial<RetryPolicy>;
  /** Shortcut for `retry.retries` (0: no retries, as the benchmark counts requests). The SDK's own retries are off. */
  maxRetries?: number;
  /** Receives notes for the user (a request that timed out and is being retried); one line each, no secret. */
  onNote?: (line: string) => void;
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

/** Thrown before any request when the base URL would send the API key in clear text, or is not a URL at all. */
export class InsecureBaseUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InsecureBaseUrlError";
  }
}

/** Thrown when one request attempt got no complete answer within the timeout (transient: retried). */
export class RequestTimeoutError extends Error implements TransientError {
  readonly transient = true;
  constructor(
    readonly request: string,
    readonly timeoutMs: number,
  ) {
    super(
      `${request} got no answer within ${formatDuration(timeoutMs)}; the API (or a proxy on the way) is not responding. Try again later, or raise --timeout`,
    );
    this.name = "RequestTimeoutError";
  }
}

/** Thrown when a request could not reach the API (connection refused or dropped; transient: retried). */
export class RequestConnectionError extends Error implements TransientError {
  readonly transient = true;
  constructor(readonly request: string) {
    super(`${request}: could not reach the API (the connection failed or was dropped)`);
    this.name = "RequestConnectionError";
  }
}

/** Thrown when a list's pagination does not end: a cursor came back twice, or the page cap was reached. */
export class PaginationError extends Error {
  constructor(request: string, problem: string) {
    super(`${request}: ${problem}; stopped listing. The server's pagination is broken; nothing was planned or changed`);
    this.name = "PaginationError";
  }
}

/** `ms` as `60s` or `1500ms`. */
export function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

/** True for a loopback host as `URL.hostname` gives it: `localhost`, 127.0.0.0/8, `[::1]`. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host === "localhost") return true;
  if (isIPv4(host)) return LOOPBACK.check(host, "ipv4");
  if (isIPv6(host)) return LOOPBACK.check(host, "ipv6");
  return false;
}

/**
 * Checks that `baseURL` keeps the API key private: `https`, or plain `http` only to loopback (127.0.0.0/8, ::1,
 * localhost: the emulator), unless `insecure` (`--insecure-base-url`). Runs before any request.
 * @param source where the URL came from, for the message
 * @throws InsecureBaseUrlError saying what to do
 */
export function checkBaseUrl(baseURL: string, source: string, insecure: boolean): void {
  let url: URL;
  try {
    url = new URL(baseURL);
  } catch {
    throw new InsecureBaseUrlError(
      `${source} is not a URL; set it to the API's address, like https://api.anthropic.com`,
    );
  }
  const shown = sanitizeExcerpt(`${url.protocol}//${url.host}${url.pathname === "/" ? "" : url.pathname}`, 120);
  if (url.protocol === "https:") return;
  if (url.protocol !== "http:") {
    throw new InsecureBaseUrlError(`${source} (${shown}) must be an https:// URL`);
  }
  if (insecure || isLoopbackHost(url.hostname)) return;
  throw new InsecureBaseUrlError(
    `${source} (${shown}) is plain http to a host that is not loopback: the API key would travel unencrypted. Use https://, or pass --insecure-base-url if the network path is trusted`,
  );
}

/** Per-client request settings (`createClient` records them; other clients get the defaults). */
interface RequestSettings {
  timeoutMs: number;
  retry: RetryPolicy;
  onNote?: (line: string) => void;
}

const SETTINGS = new WeakMap<Anthropic, RequestSettings>();

function settingsOf(client: Anthropic): RequestSettings {
  return SETTINGS.get(client) ?? { timeoutMs: DEFAULT_TIMEOUT_MS, retry: DEFAULT_RETRY };
}

/** The retry policy `client` was created with (`DEFAULT_RETRY` for a client `createClient` did not make). */
export function retryPolicyOf(client: Anthropic): RetryPolicy {
  return settingsOf(client).retry;
}

/**
 * An SDK client for `options`, with SDK retries off (`retry.ts` retries) and `options.timeoutMs` per request.
 * @throws MissingApiKeyError when neither `apiKey` nor the key variable is set
 * @throws InsecureBaseUrlError when the base URL is not https and not loopback, without `insecureBaseUrl`
 */
export function createClient(options: ClientOptions = {}): Anthropic {
  const variable = options.apiKeyEnv ?? "ANTHROPIC_API_KEY";
  const fromEnv = process.env.ANTHROPIC_BASE_URL || undefined;
  const baseURL = options.baseURL ?? fromEnv;
  if (baseURL !== undefined) {
    const source = options.baseURLSource ?? (options.baseURL ? "the base URL" : "ANTHROPIC_BASE_URL");
    checkBaseUrl(baseURL, source, options.insecureBaseUrl === true);
  }
  const apiKey = options.apiKey ?? process.env[variable];
  if (!apiKey) throw new MissingApiKeyError(variable);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const client = new Anthropic({
    apiKey,
    baseURL,
    maxRetries: 0,
    timeout: timeoutMs,
    // A redirect could carry the key (and a credential's token) to another address, or downgrade it to http.
    fetchOptions: { redirect: "manual" },
    defaultHeaders: options.workspaceId ? { "anthropic-workspace-id": options.workspaceId } : undefined,
  });
  SETTINGS.set(client, {
    timeoutMs,
    retry: {
      ...DEFAULT_RETRY,
      ...(options.maxRetries === undefined ? {} : { retries: options.maxRetries }),
      ...options.retry,
    },
    ...(options.onNote ? { onNote: options.onNote } : {}),
  });
  return client;
}

/** One SDK call, given the request options to pass (`maxRetries`, `timeout`, `signal`). */
export type SdkCall = (options: Anthropic.RequestOptions) => APIPromise<unknown>;

/** What `sendRequest` sends and expects. */
export interface RequestSpec {
  /** `METHOD /path`, for messages (`POST /v1/agents`). */
  request: string;
  /** What the answer must look like (see `checkShape`). */
  shape: Parameters<typeof checkShape>[1];
  /** Retry transient faults here (reads, archives). Creates and updates are retried by apply (`verifiedWrite`). */
  retry: boolean;
  /** The request carries a secret the server could echo: no excerpt of an unexpected body. */
  secret?: boolean;
}

/** Why a redirect is refused, with where it pointed (scheme, host and port only). */
function redirectProblem(status: number, location: string | null | undefined): string {
  let target = "";
  try {
    if (location) target = ` to ${sanitizeExcerpt(new URL(location).origin, 120)}`;
  } catch {
    // a relative or malformed location: say nothing about it
  }
  return `a redirect (${status})${target}, which reconcile does not follow: it could carry the API key elsewhere. Set the base URL to the API's own address`;
}

/** One attempt: timeout over headers and body, SDK retries off, redirects refused, JSON and shape checked. */
function attempt(client: Anthropic, call: SdkCall, spec: RequestSpec): Promise<ApiObject | Page> {
  return attemptWith(client, call, spec.request, spec.secret === true, async (response) =>
    checkShape(await readJsonBody(response, spec.request, spec.secret !== true), spec.shape, spec.request),
  );
}

/**
 * One attempt of `call`, its answer read by `read`: a timeout over headers and body, SDK retries off, redirects
 * refused, errors mapped to the request layer's (`RequestTimeoutError`, `RequestConnectionError`, a safe `APIError`).
 */
async function attemptWith<T>(
  client: Anthropic,
  call: SdkCall,
  request: string,
  secret: boolean,
  read: (response: Response) => Promise<T>,
): Promise<T> {
  const { timeoutMs } = settingsOf(client);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await call({ maxRetries: 0, timeout: timeoutMs, signal: controller.signal }).asResponse();
    return await read(response);
  } catch (error) {
    if (controller.signal.aborted || error instanceof Anthropic.APIConnectionTimeoutError) {
      throw new RequestTimeoutError(request, timeoutMs);
    }
    if (error instanceof Anthropic.APIConnectionError) throw new RequestConnectionError(request);
    if (
      error instanceof Anthropic.APIError &&
      error.status !== undefined &&
      error.status >= 300 &&
      error.status < 400
    ) {
      throw new UnexpectedResponseError(request, redirectProblem(error.status, error.headers?.get("location")));
    }
    if (error instanceof Anthropic.APIError) throw safeApiError(error, request, !secret);
    // fetch reports a connection dropped while the body streams as a TypeError ("terminated").
    if (error instanceof TypeError) throw new RequestConnectionError(request);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Sends one provider request through `call` (an SDK method, given the options to use) and checks the answer.
 * With `spec.retry`, transient faults are retried per the client's policy, and a timeout that will be retried is
 * noted to the user (`onNote`).
 * @throws the SDK's `APIError` for an API error answer (404, 409...), `RequestTimeoutError`,
 *   `RequestConnectionError`, `UnexpectedResponseError` for an answer that is not the API's
 */
export function sendRequest(client: Anthropic, call: SdkCall, spec: RequestSpec): Promise<ApiObject | Page> {
  if (!spec.retry) return attempt(client, call, spec);
  const { retry, onNote } = settingsOf(client);
  return retryTransient(
    () => attempt(client, call, spec),
    retry,
    (error, failed) => {
      if (error instanceof RequestTimeoutError && onNote) {
        onNote(
          `Note: ${error.request} got no answer within ${formatDuration(error.timeoutMs)}; retrying (attempt ${failed + 1} of ${retry.retries + 1}).\n`,
        );
      }
    },
  );
}

/** A read of one object of `type` (retried; checked as a full object). */
export async function readObject(
  client: Anthropic,
  type: ResourceType,
  request: string,
  call: SdkCall,
): Promise<ApiObject> {
  return (await sendRequest(client, call, { request, shape: { kind: "object", type }, retry: true })) as ApiObject;
}

/**
 * A create or update of `type`: one attempt (apply retries, after checking whether it landed); the answer must
 * carry an id of the type (and a `version` for agents).
 */
export async function writeObject(
  client: Anthropic,
  type: ResourceType,
  request: string,
  call: SdkCall,
  options: { secret?: boolean } = {},
): Promise<ApiObject> {
  return (await sendRequest(client, call, {
    request,
    shape: { kind: "ref", type },
    retry: false,
    ...(options.secret ? { secret: true } : {}),
  })) as ApiObject;
}

/** An archive or delete of `type` (retried, as the SDK did; the answer must carry an id of the type). */
export async function archiveObject(client: Anthropic, type: ResourceType, request: string, call: SdkCall) {
  await sendRequest(client, call, { request, shape: { kind: "ref", type }, retry: true });
}

/** The query of one list page. */
export interface ListQuery {
  limit: number;
  page?: string;
}

/**
 * Every object of a paged list (`GET path?limit=&page=`, SDK `PageCursor`), following `next_page` to the end. Each
 * page is a retried read, checked as a page of full objects of `type`. The next page is asked for before `onPage`
 * is called with this one's objects, so the caller's work on a page overlaps the next request (issue 10 item 6).
 * @returns every object, in list order; with `onPage`, an empty list: the objects went to `onPage` only, so none is
 *   kept alive here until the last page (10,000 agents are about 25 MB of JSON)
 * @param call an SDK list call, e.g. `(query, options) => client.beta.agents.list(query, options)`
 * @throws PaginationError when a cursor repeats or the list passes `MAX_LIST_PAGES` pages
 * @throws what `onPage` throws (the request in flight is then left to finish, unread)
 */
export async function listObjects(
  client: Anthropic,
  type: ResourceType,
  path: string,
  call: (query: ListQuery, options: Anthropic.RequestOptions) => APIPromise<unknown>,
  onPage?: PageCallback,
): Promise<ApiObject[]> {
  const out: ApiObject[] = [];
  const seen = new Set<string>();
  const fetchPage = (pageNumber: number, cursor: string | undefined): Promise<Page> => {
    const request = `GET ${path}${pageNumber > 1 ? ` (page ${pageNumber})` : ""}`;
    const query: ListQuery = { limit: LIST_PAGE_SIZE, ...(cursor === undefined ? {} : { page: cursor }) };
    return sendRequest(client, (options) => call(query, options), {
      request,
      shape: { kind: "page", type, limit: LIST_PAGE_SIZE },
      retry: true,
    }) as Promise<Page>;
  };
  let next: Promise<Page> | undefined = fetchPage(1, undefined);
  for (let pageNumber = 1; next; pageNumber++) {
    const page: Page = await next;
    next = undefined;
    if (!onPage) for (const object of page.data) out.push(object);
    if (page.next_page) {
      if (seen.has(page.next_page)) {
        throw new PaginationError(`GET ${path}`, `page ${pageNumber} pointed back to a page cursor already followed`);
      }
      if (pageNumber >= MAX_LIST_PAGES) {
        throw new PaginationError(
          `GET ${path}`,
          `more than ${MAX_LIST_PAGES} pages of ${LIST_PAGE_SIZE} (far more than any real workspace holds)`,
        );
      }
      seen.add(page.next_page);
      next = fetchPage(pageNumber + 1, page.next_page);
    }
    if (onPage) {
      try {
        onPage(page.data);
      } catch (error) {
        next?.catch(() => undefined);
        throw error;
      }
    }
  }
  return out;
}

/**
 * A read whose answer is bytes, not JSON (a skill version's zip, SDK `skills.versions.download`): retried like every
 * read, with the same timeout, redirect refusal and size cap (`MAX_RESPONSE_BYTES`) as JSON reads; a JSON or HTML
 * answer is an `UnexpectedResponseError`.
 */
export function readBytes(client: Anthropic, request: string, call: SdkCall): Promise<Buffer> {
  const { retry, onNote } = settingsOf(client);
  return retryTransient(
    () => attemptWith(client, call, request, false, (response) => readBinaryBody(response, request)),
    retry,
    (error, failed) => {
      if (error instanceof RequestTimeoutError && onNote) {
        onNote(
          `Note: ${error.request} got no answer within ${formatDuration(error.timeoutMs)}; retrying (attempt ${failed + 1} of ${retry.retries + 1}).\n`,
        );
      }
    },
  );
}

/**
 * A create of a skill version (`POST /v1/skills/{id}/versions`): one attempt, like `writeObject`; the answer must be
 * a skill version (SDK `BetaSkillVersion`).
 */
export async function writeSkillVersion(client: Anthropic, request: string, call: SdkCall): Promise<ApiObject> {
  return (await sendRequest(client, call, { request, shape: { kind: "skill_version" }, retry: false })) as ApiObject;
}
