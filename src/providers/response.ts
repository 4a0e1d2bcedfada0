/**
 * Shape checks of API responses: what the providers read must be there, with the right type, before anything is
 * built on it. A captive portal answering `200 text/html`, a proxy stripping fields, or a server of another API would
 * otherwise count as success ("created", with no id) or as an empty workspace (which plans to create everything
 * again).
 *
 * The shapes follow the SDK types (`BetaManagedAgentsAgent`, `BetaEnvironment`, `BetaManagedAgentsVault`,
 * `BetaManagedAgentsCredential`, `BetaManagedAgentsMemoryStore`, `PageCursor`), restricted to the fields the providers read (`state()`, ownership
 * metadata, `created_at`, `version`). Id prefixes are the API's (`agent_`, `env_`, `vlt_`, `vcrd_`, `memstore_`: the SDK's doc
 * examples, and `src/emulator/ids.ts`). Checked with ajv; error messages name the request and the first problem,
 * never a response value (a server can echo a request, and a request may carry a secret), except a short excerpt of
 * a non-JSON body of a request that carries no secret.
 */
import Anthropic from "@anthropic-ai/sdk";
import { Ajv, type ValidateFunction } from "ajv";
import type { ApiObject, ResourceType } from "./types.js";

/** Thrown when a response is not what the API answers: not JSON, too large, or not the expected shape. */
export class UnexpectedResponseError extends Error {
  /**
   * @param request `METHOD /path`, as in the error message
   * @param problem what was wrong, without any response value (except a sanitized excerpt of a non-JSON body)
   */
  constructor(
    readonly request: string,
    readonly problem: string,
  ) {
    super(
      `${request}: unexpected answer: ${problem}. Is the base URL (a target's base_url, or ANTHROPIC_BASE_URL) the Managed Agents API?`,
    );
    this.name = "UnexpectedResponseError";
  }
}

/**
 * The id prefix of each resource type (SDK doc examples: `agent_011C…`, `env_011C…`, `vlt_011C…`, `vcrd_011C…`,
 * `depl_011C…`; a tunnel's `tnl_`: SDK `BetaTunnel.id`, "prefixed with `tnl_`").
 */
export const ID_PREFIX: Record<ResourceType, string> = {
  agent: "agent",
  environment: "env",
  vault: "vlt",
  credential: "vcrd",
  deployment: "depl",
  memory_store: "memstore",
  skill: "skill",
  tunnel: "tnl",
};

/** The largest response body read, in bytes (a page of 100 agents with long prompts is a few MiB). */
export const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

/** Characters never shown from a response: control, format (bidi overrides), private-use and unassigned ones. */
const UNPRINTABLE = /[\p{C}]/gu;

/** `text` without unprintable characters, whitespace collapsed, at most `max` characters (with an ellipsis). */
export function sanitizeExcerpt(text: string, max = 80): string {
  const clean = text.replace(UNPRINTABLE, " ").replace(/\s+/g, " ").trim();
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

const metadata = { type: "object", additionalProperties: { type: "string" } };
const nullableString = { type: ["string", "null"] };
const idOf = (type: ResourceType) => ({ type: "string", pattern: `^${ID_PREFIX[type]}_[A-Za-z0-9_-]{1,128}$` });
const objects = (required: string[] = [], properties: Record<string, unknown> = {}) => ({
  type: "array",
  items: { type: "object", required, properties },
});

/**
 * A DNS name as the API assigns tunnels (`BetaTunnel.domain`): labels of letters, digits and '-', at least two, at
 * most 253 characters. Checked because it becomes part of agents' MCP server URLs.
 */
export const DOMAIN_PATTERN =
  "^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$";

/**
 * Fields of each type that `state()`, ownership and observe read, beyond `id`, `metadata` and `created_at`.
 * `noMetadata`: the type has no `metadata` field (SDK `BetaSkill`, `BetaTunnel`).
 */
const OBJECT_FIELDS: Record<
  ResourceType,
  { required: string[]; properties: Record<string, unknown>; noMetadata?: true }
> = {
  agent: {
    required: ["version", "name", "model"],
    properties: {
      version: { type: "integer", minimum: 1 },
      name: { type: "string" },
      description: nullableString,
      system: nullableString,
      model: {
        anyOf: [{ type: "string" }, { type: "object", required: ["id"], properties: { id: { type: "string" } } }],
      },
      execution_identity: { type: ["object", "null"] },
      multiagent: { type: ["object", "null"] },
      mcp_servers: objects(["name", "url"], { name: { type: "string" }, url: { type: "string" } }),
      tools: objects(["type"], { type: { type: "string" }, configs: { type: "array" } }),
      skills: objects(["type"], { type: { type: "string" } }),
    },
  },
  environment: {
    required: ["name", "config"],
    properties: {
      name: { type: "string" },
      description: nullableString,
      config: { type: "object", required: ["type"], properties: { type: { type: "string" } } },
    },
  },
  vault: { required: ["display_name"], properties: { display_name: { type: "string" } } },
  deployment: {
    required: ["name", "agent", "environment_id", "initial_events", "status"],
    properties: {
      name: { type: "string" },
      description: nullableString,
      agent: {
        type: "object",
        required: ["id", "version"],
        properties: { id: { type: "string" }, version: { type: "integer", minimum: 1 } },
      },
      environment_id: { type: "string" },
      vault_ids: { type: "array", items: { type: "string" } },
      resources: objects(["type"], { type: { type: "string" } }),
      initial_events: objects(["type"], { type: { type: "string" } }),
      budget: { type: ["object", "null"] },
      schedule: {
        type: ["object", "null"],
        required: ["expression", "timezone"],
        properties: { expression: { type: "string" }, timezone: { type: "string" } },
      },
      status: { enum: ["active", "paused"] },
    },
  },
  memory_store: {
    required: ["name", "description"],
    properties: { name: { type: "string" }, description: { type: "string" } },
  },
  credential: {
    required: ["auth"],
    properties: {
      display_name: nullableString,
      auth: {
        type: "object",
        required: ["type"],
        properties: {
          type: { type: "string" },
          mcp_server_url: { type: "string" },
          secret_name: { type: "string" },
          networking: { type: "object" },
          refresh: { type: ["object", "null"] },
        },
      },
    },
  },
  skill: {
    required: ["display_name", "latest_version_id", "source"],
    properties: {
      display_name: { type: "string" },
      latest_version_id: { type: "string", minLength: 1, maxLength: 128 },
      source: { type: "object", required: ["type"], properties: { type: { type: "string" } } },
    },
    noMetadata: true,
  },
  tunnel: {
    required: ["domain", "display_name"],
    properties: { display_name: nullableString, domain: { type: "string", pattern: DOMAIN_PATTERN } },
    noMetadata: true,
  },
};

const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true });

/** Validators by type: `object` for what reads return (list items, retrieve), `ref` for write answers. */
const VALIDATORS = Object.fromEntries(
  (Object.keys(ID_PREFIX) as ResourceType[]).map((type) => {
    const fields = OBJECT_FIELDS[type];
    const object = ajv.compile({
      type: "object",
      required: ["id", ...(fields.noMetadata ? [] : ["metadata"]), "created_at", ...fields.required],
      properties: {
        id: idOf(type),
        metadata,
        created_at: { type: "string" },
        archived_at: nullableString,
        ...fields.properties,
      },
    });
    const ref = ajv.compile({
      type: "object",
      required: type === "agent" ? ["id", "version"] : ["id"],
      properties: { id: idOf(type), ...(type === "agent" ? { version: fields.properties.version } : {}) },
    });
    return [type, { object, ref }];
  }),
) as Record<ResourceType, { object: ValidateFunction; ref: ValidateFunction }>;

/** A skill version (SDK `BetaSkillVersion`), as `versions.create` answers: its id, skill and slug. */
const validateSkillVersion = ajv.compile({
  type: "object",
  required: ["id", "skill_id", "name", "type"],
  properties: {
    id: { type: "string", pattern: "^[A-Za-z0-9_-]{1,128}$" },
    skill_id: idOf("skill"),
    name: { type: "string" },
    type: { const: "skill_version" },
  },
});
/**
 * Objects that are not resources of a kind but that commands read: a deployment run (SDK
 * `BetaManagedAgentsDeploymentRun`, id `drun_…`), checked for the fields `reconcile deploy` prints.
 */
const RECORD_VALIDATORS = {
  deployment_run: ajv.compile({
    type: "object",
    required: ["id", "deployment_id", "created_at", "agent", "trigger_context"],
    properties: {
      id: { type: "string", pattern: "^drun_[A-Za-z0-9_-]{1,128}$" },
      deployment_id: { type: "string" },
      created_at: { type: "string" },
      session_id: nullableString,
      error: {
        type: ["object", "null"],
        required: ["type"],
        properties: { type: { type: "string" }, message: { type: "string" } },
      },
      agent: {
        type: "object",
        required: ["id", "version"],
        properties: { id: { type: "string" }, version: { type: "integer" } },
      },
      trigger_context: { type: "object", required: ["type"], properties: { type: { type: "string" } } },
    },
  }),
} as const;

/** The records `RECORD_VALIDATORS` knows. */
export type RecordKind = keyof typeof RECORD_VALIDATORS;

const validatePage = ajv.compile({
  type: "object",
  required: ["data"],
  properties: { data: { type: "array" }, next_page: { type: ["string", "null"], maxLength: 4096 } },
});

/** The first ajv error of `validate` as "at /path: message", path and message sanitized. */
function firstProblem(validate: ValidateFunction): string {
  const error = validate.errors?.[0];
  if (!error) return "the body does not have the expected shape";
  const where = error.instancePath === "" ? "the body" : `at ${sanitizeExcerpt(error.instancePath, 120)}`;
  return `${where}: ${sanitizeExcerpt(error.message ?? "is invalid", 200)}`;
}

/**
 * What a response is checked as: a full object of a type (reads), an id reference (writes), a list page, or another
 * answer (`custom`: a validator from `compileShape`, and what the answer is, for the message: "a tunnel token").
 */
export type Shape =
  | { kind: "object" | "ref"; type: ResourceType }
  | { kind: "page"; type: ResourceType; limit: number }
  | { kind: "skill_version" }
  | { kind: "custom"; what: string; validate: ValidateFunction }
  | { kind: "record"; record: RecordKind }
  | { kind: "records"; record: RecordKind; limit: number };

/** A validator of an answer that is not a resource object (a tunnel token), for a `custom` shape. */
export function compileShape(schema: Record<string, unknown>): ValidateFunction {
  return ajv.compile(schema);
}

/** A page of a list: its items (each checked as a full object) and the cursor of the next page, if any. */
export interface Page {
  data: ApiObject[];
  next_page: string | null;
}

/**
 * `body` (parsed JSON) checked against `shape`.
 * @returns the body, typed: an `ApiObject` for `object` and `ref`, a `Page` for `page`
 * @throws UnexpectedResponseError naming `request` and the first problem (`data[3].id must match pattern "^agent_…"`)
 */
export function checkShape(body: unknown, shape: Shape, request: string): ApiObject | Page {
  if (shape.kind === "skill_version") {
    if (!validateSkillVersion(body)) {
      throw new UnexpectedResponseError(request, `not a skill version: ${firstProblem(validateSkillVersion)}`);
    }
    return body as unknown as ApiObject;
  }
  if (shape.kind === "custom") {
    if (!shape.validate(body)) {
      throw new UnexpectedResponseError(request, `not ${shape.what}: ${firstProblem(shape.validate)}`);
    }
    return body as ApiObject;
  }
  if (shape.kind === "record" || shape.kind === "records") return checkRecords(body, shape, request);
  const a = /^[aeiou]/.test(shape.type) ? "an" : "a";
  if (shape.kind === "page") {
    if (!validatePage(body))
      throw new UnexpectedResponseError(request, `not a list page: ${firstProblem(validatePage)}`);
    const page = body as { data: unknown[]; next_page?: string | null };
    if (page.data.length > shape.limit) {
      throw new UnexpectedResponseError(request, `${page.data.length} items on a page of at most ${shape.limit}`);
    }
    const validate = VALIDATORS[shape.type].object;
    page.data.forEach((item, i) => {
      if (!validate(item)) {
        throw new UnexpectedResponseError(request, `item ${i} is not ${a} ${shape.type}: ${firstProblem(validate)}`);
      }
    });
    return { data: page.data as ApiObject[], next_page: page.next_page ?? null };
  }
  const validate = VALIDATORS[shape.type][shape.kind];
  if (!validate(body)) throw new UnexpectedResponseError(request, `not ${a} ${shape.type}: ${firstProblem(validate)}`);
  return body as ApiObject;
}

/** `checkShape` for records: one (`record`) or a page of them (`records`). */
function checkRecords(
  body: unknown,
  shape: Extract<Shape, { kind: "record" | "records" }>,
  request: string,
): ApiObject | Page {
  const validate = RECORD_VALIDATORS[shape.record];
  const what = shape.record.replace(/_/g, " ");
  if (shape.kind === "record") {
    if (!validate(body)) throw new UnexpectedResponseError(request, `not a ${what}: ${firstProblem(validate)}`);
    return body as unknown as ApiObject;
  }
  if (!validatePage(body)) throw new UnexpectedResponseError(request, `not a list page: ${firstProblem(validatePage)}`);
  const page = body as { data: unknown[]; next_page?: string | null };
  if (page.data.length > shape.limit) {
    throw new UnexpectedResponseError(request, `${page.data.length} items on a page of at most ${shape.limit}`);
  }
  page.data.forEach((item, i) => {
    if (!validate(item))
      throw new UnexpectedResponseError(request, `item ${i} is not a ${what}: ${firstProblem(validate)}`);
  });
  return { data: page.data as ApiObject[], next_page: page.next_page ?? null };
}

/**
 * Reads a successful response's body as JSON: at most `MAX_RESPONSE_BYTES`, with a JSON content type.
 * @param excerpt show a sanitized excerpt of a non-JSON body (false when the request carried a secret the server
 *   could echo)
 * @throws UnexpectedResponseError when the body is too large, not JSON by content type, or not parseable
 */
export async function readJsonBody(response: Response, request: string, excerpt: boolean): Promise<unknown> {
  const contentType = response.headers.get("content-type") ?? "";
  const mediaType = (contentType.split(";")[0] ?? "").trim().toLowerCase();
  const isJson = mediaType === "application/json" || mediaType.endsWith("+json");
  const text = await readCapped(response, request);
  const shown = sanitizeExcerpt(mediaType || "no content type", 60);
  if (!isJson) {
    const body = excerpt && text.trim() !== "" ? `: "${sanitizeExcerpt(text)}"` : "";
    throw new UnexpectedResponseError(request, `${response.status} ${shown} instead of JSON${body}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UnexpectedResponseError(request, `${response.status} ${shown} whose body is not valid JSON`);
  }
}

/** The body as UTF-8 text, refusing more than `MAX_RESPONSE_BYTES` (a server that never stops sending). */
async function readCapped(response: Response, request: string): Promise<string> {
  return (await readCappedBytes(response, request)).toString("utf8");
}

/**
 * A successful response's body as bytes (a skill version's zip), refusing more than `MAX_RESPONSE_BYTES`, and a
 * JSON or HTML body (an error page or another API answering with 200).
 * @throws UnexpectedResponseError when the body is too large or is JSON/HTML
 */
export async function readBinaryBody(response: Response, request: string): Promise<Buffer> {
  const contentType = response.headers.get("content-type") ?? "";
  const mediaType = (contentType.split(";")[0] ?? "").trim().toLowerCase();
  if (mediaType === "application/json" || mediaType.endsWith("+json") || mediaType.startsWith("text/")) {
    await response.body?.cancel().catch(() => undefined);
    throw new UnexpectedResponseError(
      request,
      `${response.status} ${sanitizeExcerpt(mediaType, 60)} instead of an archive`,
    );
  }
  return readCappedBytes(response, request);
}

/** The body's bytes, refusing more than `MAX_RESPONSE_BYTES`. */
async function readCappedBytes(response: Response, request: string): Promise<Buffer> {
  if (!response.body) return Buffer.alloc(0);
  const declared = Number(response.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > MAX_RESPONSE_BYTES) {
    await response.body.cancel().catch(() => undefined);
    throw new UnexpectedResponseError(request, `a body of ${declared} bytes, more than the ${MAX_RESPONSE_BYTES} read`);
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_RESPONSE_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw new UnexpectedResponseError(request, `a body of more than ${MAX_RESPONSE_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** The longest API error message kept (the real API's are one sentence). */
const MAX_API_MESSAGE = 500;

/**
 * The SDK's error for a non-2xx answer, rebuilt so that printing it is safe: the API's own `error.message` is kept,
 * without unprintable characters and at most `MAX_API_MESSAGE` long; an answer that is not the API's error envelope
 * (a proxy's HTML error page, JSON of another shape that may echo the request) is described instead of quoted, with a
 * short excerpt of a non-JSON body only when the request carried no secret. Status, class (`NotFoundError`,
 * `ConflictError`...), headers (`retry-after`, `request-id`) and type are kept, so retries and 404/409 handling work
 * as before.
 */
export function safeApiError(error: InstanceType<typeof Anthropic.APIError>, request: string, excerpt: boolean) {
  if (error.status === undefined || error.headers === undefined) return error;
  let message: string;
  if (typeof error.apiMessage === "string") {
    message = sanitizeExcerpt(error.apiMessage, MAX_API_MESSAGE);
  } else {
    const body = error.error === undefined && excerpt ? sanitizeExcerpt(error.message.replace(/^\d+ /, "")) : "";
    const contentType = sanitizeExcerpt(
      (error.headers.get("content-type") ?? "no content type").split(";")[0] ?? "",
      60,
    );
    message = `${request} answered ${error.status} (${contentType}) without an API error message${body ? `: "${body}"` : ""}`;
  }
  const type = typeof error.type === "string" ? sanitizeExcerpt(error.type, 60) : "error";
  const envelope = { type: "error", error: { type, message } };
  return Anthropic.APIError.generate(error.status, envelope, undefined, error.headers);
}
