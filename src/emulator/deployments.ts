import type { BetaManagedAgentsAgentReference } from "@anthropic-ai/sdk/resources/beta/agents/agents.js";
import type { BetaManagedAgentsDeploymentRun } from "@anthropic-ai/sdk/resources/beta/deployment-runs.js";
import type {
  BetaManagedAgentsDeployment,
  BetaManagedAgentsDeploymentInitialEvent,
  BetaManagedAgentsSchedule,
  BetaManagedAgentsSessionResourceConfig,
} from "@anthropic-ai/sdk/resources/beta/deployments.js";
import { cronExpressionProblem, nextRunTimes, timeZoneProblem } from "../spec/schedule.js";
import { ApiError, badRequest, notFound } from "./errors.js";
import { newId } from "./ids.js";
import { applyMetadataPatch, createdMetadata } from "./metadata.js";
import {
  ALL_CREATED_AT_BOUNDS,
  byCreatedAt,
  createdAtFilter,
  type Page,
  type PageRequest,
  paginate,
  queryBool,
  queryValue,
} from "./pagination.js";
import { SimpleResource } from "./resource.js";
import type { SessionRuntime } from "./session-runtime.js";
import { createSession, parseBudget } from "./sessions.js";
import type { Workspace } from "./store.js";
import { arr, at, clone, fieldError, has, int, obj, oneOf, onlyKeys, required, str, tag } from "./validate.js";

/**
 * Deployments (`/v1/deployments`) and their runs (`/v1/deployment_runs`): create, retrieve, update, list, archive,
 * pause, unpause, run; runs list and retrieve. Request shapes: SDK `DeploymentCreateParams`,
 * `DeploymentUpdateParams`, `DeploymentListParams`, `DeploymentRunListParams`; responses
 * `BetaManagedAgentsDeployment` and `BetaManagedAgentsDeploymentRun`. Every rule below is the SDK's doc comment:
 *
 * - `agent` is an id string ("pins the latest version") or `{type: "agent", id, version?}`; "The agent must exist and
 *   not be archived". The response holds it "resolved to a concrete version".
 * - `environment_id`, `vault_ids` (at most 50) and memory-store `resources` (at most 500) must exist (404). Archived
 *   ones are accepted: a run then fails with `environment_archived_error`, `vault_archived_error` or
 *   `memory_store_archived_error` (the run error types). `github_repository` and `file` resources are not emulated.
 * - `initial_events`: 1 to 50 of `user.message`, `user.define_outcome`, `system.message`; on update "Full replacement.
 *   Cannot be cleared." `name` "Must be non-empty. Cannot be cleared." `environment_id` "Cannot be cleared".
 * - `schedule`: a 5-field POSIX cron `expression` and an IANA `timezone`, both required (the rules of
 *   `src/spec/schedule.ts`); `upcoming_runs_at` holds the next 5 fire times ("Non-empty for active and paused
 *   deployments ...; empty once the deployment is archived"), `last_run_at` the last scheduled run (null: the
 *   emulator never fires schedules by itself).
 * - `status` is `active` or `paused`, `paused_reason` "Non-null exactly when status is paused"; pause and unpause
 *   set them. "Archived deployments report `active` with `archived_at` set", so an archived deployment cannot be
 *   paused. Manual runs are "still permitted" while paused.
 * - Update: omitted fields are preserved; `description`: null or "" clears; `metadata`: per-key patch (null
 *   deletes); `resources`, `vault_ids`: null or [] clears; `schedule`, `budget`: null clears. A no-op leaves
 *   `updated_at` alone.
 * - `run` records a `deployment_run` (`trigger_context: {type: "manual"}`) with the agent snapshot, and starts a
 *   session through the sessions runtime (`deployment_id` set). A session that cannot start gives a run with
 *   `error` instead of `session_id` ("Exactly one of session_id or error is non-null").
 * - Lists are newest first. Deployments filter by `agent_id`, `status`, `include_archived` ("the two cannot be
 *   combined"), `created_at[gte|lte]`; runs by `deployment_id` (unknown: empty page), `has_error`, `trigger_type`,
 *   `created_at[gt|gte|lt|lte]`.
 */

type Deployment = BetaManagedAgentsDeployment;
type Run = BetaManagedAgentsDeploymentRun;

const FIELDS = [
  "agent",
  "budget",
  "description",
  "environment_id",
  "initial_events",
  "metadata",
  "name",
  "resources",
  "schedule",
  "vault_ids",
] as const;

/** How many upcoming fire times a schedule lists (SDK: "Up to 5 timestamps of upcoming cron occurrences"). */
const UPCOMING_RUNS = 5;

/** The deployment as the API returns it: a copy, with `upcoming_runs_at` as of `now`. */
function view(deployment: Deployment, now: string): Deployment {
  const out = clone(deployment);
  if (out.schedule) {
    out.schedule.upcoming_runs_at =
      out.archived_at === null
        ? nextRunTimes(out.schedule.expression, out.schedule.timezone, UPCOMING_RUNS, new Date(now)).map((d) =>
            d.toISOString(),
          )
        : [];
  }
  return out;
}

/**
 * The agent reference a create or update names: an id string (the latest version) or `{type: "agent", id,
 * version?}`. @throws 404 unknown agent or version; 400 archived agent or bad shape.
 */
function parseAgent(ws: Workspace, v: unknown): BetaManagedAgentsAgentReference {
  let id: string;
  let version: number | undefined;
  if (typeof v === "string") {
    id = str(v, "agent", { min: 1 });
  } else {
    const o = obj(v, "agent");
    tag(o, "agent", ["agent"] as const);
    onlyKeys(o, ["type", "id", "version"], "agent");
    id = str(required(o, "id", "agent"), "agent.id", { min: 1 });
    if (o.version !== undefined && o.version !== null) version = int(o.version, "agent.version", 1);
  }
  const rec = ws.agents.get(id);
  if (!rec) throw notFound(`agent '${id}' not found`);
  if (rec.agent.archived_at !== null) throw badRequest(`agent '${id}' is archived; deploy an agent that is not`);
  if (version !== undefined && !rec.versions[version - 1]) throw notFound(`agent '${id}' has no version ${version}`);
  return { type: "agent", id, version: version ?? rec.agent.version };
}

function parseEnvironment(ws: Workspace, v: unknown): string {
  const id = str(v, "environment_id", { min: 1 });
  if (!ws.environments.has(id)) throw notFound(`environment '${id}' not found`);
  return id;
}

function parseVaults(ws: Workspace, v: unknown): string[] {
  return arr(v, "vault_ids", 50).map((x, i) => {
    const id = str(x, at("vault_ids", i), { min: 1 });
    if (!ws.vaults.has(id)) throw notFound(`vault '${id}' not found`);
    return id;
  });
}

function textBlocks(v: unknown, path: string): Array<{ type: "text"; text: string }> {
  const blocks = arr(v, path);
  if (blocks.length === 0) throw fieldError(path, "List should have at least 1 item after validation, not 0");
  return blocks.map((b, i) => {
    const o = obj(b, at(path, i));
    tag(o, at(path, i), ["text"] as const);
    onlyKeys(o, ["type", "text"], at(path, i));
    return { type: "text", text: str(required(o, "text", at(path, i)), at(at(path, i), "text"), { min: 1 }) };
  });
}

/** One initial event (`BetaManagedAgentsDeploymentInitialEventParams`), as stored and returned. */
function parseEvent(v: unknown, path: string): BetaManagedAgentsDeploymentInitialEvent {
  const o = obj(v, path);
  const type = tag(o, path, ["user.message", "user.define_outcome", "system.message"] as const);
  if (type === "user.message" || type === "system.message") {
    onlyKeys(o, ["type", "content"], path);
    return { type, content: textBlocks(required(o, "content", path), at(path, "content")) };
  }
  onlyKeys(o, ["type", "description", "rubric", "max_iterations"], path);
  const rubricPath = at(path, "rubric");
  const r = obj(required(o, "rubric", path), rubricPath);
  const kind = tag(r, rubricPath, ["text", "file"] as const);
  onlyKeys(r, ["type", kind === "text" ? "content" : "file_id"], rubricPath);
  const rubric =
    kind === "text"
      ? {
          type: kind,
          content: str(required(r, "content", rubricPath), at(rubricPath, "content"), { min: 1, max: 262_144 }),
        }
      : { type: kind, file_id: str(required(r, "file_id", rubricPath), at(rubricPath, "file_id"), { min: 1 }) };
  return {
    type,
    description: str(required(o, "description", path), at(path, "description"), { min: 1 }),
    rubric,
    ...(o.max_iterations === undefined || o.max_iterations === null
      ? {}
      : { max_iterations: int(o.max_iterations, at(path, "max_iterations"), 1, 20) }),
  };
}

function parseEvents(v: unknown): BetaManagedAgentsDeploymentInitialEvent[] {
  const events = arr(v, "initial_events", 50);
  if (events.length === 0)
    throw fieldError("initial_events", "List should have at least 1 item after validation, not 0");
  return events.map((e, i) => parseEvent(e, at("initial_events", i)));
}

/** `resources`: memory stores only (each must exist); `access` defaults to `read_write`, `instructions` to null. */
function parseResources(ws: Workspace, v: unknown): BetaManagedAgentsSessionResourceConfig[] {
  return arr(v, "resources", 500).map((x, i) => {
    const path = at("resources", i);
    const o = obj(x, path);
    const type = tag(o, path, ["github_repository", "file", "memory_store"] as const);
    if (type !== "memory_store") {
      throw fieldError(path, `'${type}' resources are not supported by the emulator; only 'memory_store'`);
    }
    onlyKeys(o, ["type", "memory_store_id", "access", "instructions"], path);
    const id = str(required(o, "memory_store_id", path), at(path, "memory_store_id"), { min: 1 });
    if (!ws.memoryStores.has(id)) throw notFound(`memory store '${id}' not found`);
    return {
      type,
      memory_store_id: id,
      access:
        o.access === undefined || o.access === null
          ? "read_write"
          : oneOf(o.access, at(path, "access"), ["read_write", "read_only"] as const),
      instructions:
        o.instructions === undefined || o.instructions === null
          ? null
          : str(o.instructions, at(path, "instructions"), { max: 4096 }),
    };
  });
}

/** `schedule` params: `{type: "cron", expression, timezone}`, both checked (`src/spec/schedule.ts`). */
function parseSchedule(v: unknown): BetaManagedAgentsSchedule {
  const o = obj(v, "schedule");
  tag(o, "schedule", ["cron"] as const);
  onlyKeys(o, ["type", "expression", "timezone"], "schedule");
  const expression = str(required(o, "expression", "schedule"), "schedule.expression", { min: 1 });
  const timezone = str(required(o, "timezone", "schedule"), "schedule.timezone", { min: 1 });
  const problem = cronExpressionProblem(expression);
  if (problem) throw fieldError("schedule.expression", `the cron expression ${problem}`);
  const zone = timeZoneProblem(timezone);
  if (zone) throw fieldError("schedule.timezone", `the time zone ${zone}`);
  return { type: "cron", expression, timezone, last_run_at: null };
}

function parseDescription(v: unknown): string | null {
  return v === null || v === "" ? null : str(v, "description");
}

/**
 * Deployments (`/v1/deployments`), with the rules of the module comment: create is `active` (@throws 400 invalid or
 * missing field, archived agent; 404 unknown agent, version, environment, vault, memory store); update follows the
 * SDK's omit/null rules per field (404 for an unknown reference; 400 for a field that cannot be cleared) and is
 * allowed on an archived deployment (the SDK says nothing against it); archive also reports `active` ("Archived
 * deployments report `active` with `archived_at` set"); no delete. The list filters by `status` and `agent_id`
 * (`status` with `include_archived` is a 400) and reads every `created_at` bound (the SDK's `DeploymentListParams`
 * names `gte` and `lte`; `gt` and `lt` are read too, as for sessions and runs).
 */
export const DEPLOYMENTS = new SimpleResource<Deployment>({
  noun: "deployment",
  type: "deployment",
  idPrefix: "depl",
  collection: "deployments",
  fields: FIELDS,
  createdAtBounds: ALL_CREATED_AT_BOUNDS,
  records: (ws) => ws.deployments,
  view,
  build: (o, _id, ws) => {
    const name = str(required(o, "name", ""), "name", { min: 1 });
    const agent = parseAgent(ws, required(o, "agent", ""));
    return {
      name,
      description: o.description === undefined ? null : parseDescription(o.description),
      agent,
      environment_id: parseEnvironment(ws, required(o, "environment_id", "")),
      vault_ids: o.vault_ids === undefined || o.vault_ids === null ? [] : parseVaults(ws, o.vault_ids),
      resources: o.resources === undefined || o.resources === null ? [] : parseResources(ws, o.resources),
      initial_events: parseEvents(required(o, "initial_events", "")),
      schedule: o.schedule === undefined || o.schedule === null ? null : parseSchedule(o.schedule),
      metadata: createdMetadata(o),
      status: "active",
      paused_reason: null,
      ...(o.budget === undefined || o.budget === null ? {} : { budget: parseBudget(o.budget) }),
    };
  },
  apply: (o, next, cur, ws) => {
    for (const field of ["agent", "environment_id", "initial_events", "name"]) {
      if (has(o, field) && o[field] === null) throw fieldError(field, "cannot be cleared; omit it to keep the value");
    }
    if (o.name !== undefined) next.name = str(o.name, "name", { min: 1 });
    if (o.agent !== undefined) next.agent = parseAgent(ws, o.agent);
    if (o.environment_id !== undefined) next.environment_id = parseEnvironment(ws, o.environment_id);
    if (o.initial_events !== undefined) next.initial_events = parseEvents(o.initial_events);
    if (has(o, "description")) next.description = parseDescription(o.description);
    if (has(o, "vault_ids")) next.vault_ids = o.vault_ids === null ? [] : parseVaults(ws, o.vault_ids);
    if (has(o, "resources")) next.resources = o.resources === null ? [] : parseResources(ws, o.resources);
    if (has(o, "schedule")) {
      const schedule = o.schedule === null ? null : parseSchedule(o.schedule);
      // A new schedule keeps the record of the last scheduled run ("preserved after the deployment is archived").
      if (schedule && cur.schedule) schedule.last_run_at = cur.schedule.last_run_at ?? null;
      next.schedule = schedule;
    }
    if (has(o, "budget")) {
      if (o.budget === null) delete next.budget;
      else next.budget = parseBudget(o.budget);
    }
    applyMetadataPatch(o, next, cur.metadata);
  },
  archived: (cur, now) => ({ ...clone(cur), status: "active", paused_reason: null, archived_at: now, updated_at: now }),
});

/** The deployment `id`. @throws 404. */
function get(ws: Workspace, id: string): Deployment {
  return DEPLOYMENTS.get(ws, id);
}

/**
 * Lists deployments (`GET /v1/deployments`), newest first; archived ones only with `include_archived=true`; filters
 * `status`, `agent_id`, `created_at[...]`.
 * @throws 400 for a bad parameter, or `status` together with `include_archived`.
 */
export function listDeployments(
  ws: Workspace,
  query: Record<string, unknown>,
  page: PageRequest,
  now: string,
): Page<Deployment> {
  return DEPLOYMENTS.list(ws, query, page, now, () => {
    const rawStatus = queryValue(query, "status");
    const status = rawStatus === undefined ? undefined : oneOf(rawStatus, "status", ["active", "paused"] as const);
    if (status !== undefined && queryValue(query, "include_archived") !== undefined) {
      throw badRequest("status and include_archived cannot be combined");
    }
    const agentId = queryValue(query, "agent_id");
    return (d) => (status === undefined || d.status === status) && (agentId === undefined || d.agent.id === agentId);
  });
}

/**
 * Pauses (`POST /v1/deployments/:id/pause`, `paused_reason: {type: "manual"}`) or unpauses
 * (`POST .../unpause`) a deployment. Idempotent: pausing a paused deployment changes nothing.
 * @throws 404 unknown; 400 archived (archived deployments always report `active`).
 */
export function setDeploymentPaused(ws: Workspace, id: string, paused: boolean, now: string): Deployment {
  const cur = get(ws, id);
  if (cur.archived_at !== null) {
    throw badRequest(`deployment '${id}' is archived; archived deployments cannot be ${paused ? "" : "un"}paused`);
  }
  if ((cur.status === "paused") === paused) return view(cur, now);
  const next: Deployment = {
    ...clone(cur),
    status: paused ? "paused" : "active",
    paused_reason: paused ? { type: "manual" } : null,
    updated_at: now,
  };
  ws.deployments.set(id, next);
  return view(next, now);
}

/** Why a run of `deployment` cannot start a session, as a run error (the SDK's run error types), or null. */
function runBlocker(ws: Workspace, deployment: Deployment): Run["error"] {
  const agent = ws.agents.get(deployment.agent.id);
  if (!agent) return { type: "unknown_error", message: `agent '${deployment.agent.id}' no longer exists` };
  if (agent.agent.archived_at !== null) {
    return { type: "agent_archived_error", message: `agent '${deployment.agent.id}' is archived` };
  }
  const env = ws.environments.get(deployment.environment_id);
  if (!env) {
    return {
      type: "environment_not_found_error",
      message: `environment '${deployment.environment_id}' no longer exists`,
    };
  }
  if (env.archived_at !== null) {
    return { type: "environment_archived_error", message: `environment '${deployment.environment_id}' is archived` };
  }
  for (const vaultId of deployment.vault_ids) {
    const vault = ws.vaults.get(vaultId);
    if (!vault) return { type: "vault_not_found_error", message: `vault '${vaultId}' no longer exists` };
    if (vault.archived_at !== null) return { type: "vault_archived_error", message: `vault '${vaultId}' is archived` };
  }
  for (const resource of deployment.resources) {
    if (resource.type !== "memory_store") continue;
    const store = ws.memoryStores.get(resource.memory_store_id);
    if (!store) {
      return {
        type: "session_resource_not_found_error",
        message: `memory store '${resource.memory_store_id}' no longer exists`,
      };
    }
    if (store.archived_at !== null) {
      return {
        type: "memory_store_archived_error",
        message: `memory store '${resource.memory_store_id}' is archived`,
      };
    }
  }
  return null;
}

/**
 * Runs a deployment now (`POST /v1/deployments/:id/run`): records a manual `deployment_run` and starts its session
 * (paused deployments too: "manual runs are still permitted"). A session that cannot start is a run with `error`,
 * not an HTTP error. @throws 404 unknown deployment.
 */
export function runDeployment(ws: Workspace, runtime: SessionRuntime, id: string, now: string): Run {
  const deployment = get(ws, id);
  let error = runBlocker(ws, deployment);
  let sessionId: string | null = null;
  if (error === null) {
    try {
      const session = createSession(
        ws,
        runtime,
        {
          agent: { type: "agent", id: deployment.agent.id, version: deployment.agent.version },
          environment_id: deployment.environment_id,
          vault_ids: deployment.vault_ids,
          initial_events: deployment.initial_events,
          ...(deployment.budget ? { budget: deployment.budget } : {}),
        },
        now,
      );
      sessionId = session.id;
      const rec = ws.sessions.get(session.id);
      if (rec) rec.session = { ...rec.session, deployment_id: deployment.id };
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      error = { type: "session_creation_rejected_error", message: err.message };
    }
  }
  const run: Run = {
    type: "deployment_run",
    id: newId("drun"),
    deployment_id: deployment.id,
    agent: clone(deployment.agent),
    trigger_context: { type: "manual" },
    session_id: sessionId,
    error,
    created_at: now,
  };
  ws.deploymentRuns.set(run.id, run);
  return clone(run);
}

/** Reads a deployment run (`GET /v1/deployment_runs/:id`). @throws 404. */
export function retrieveDeploymentRun(ws: Workspace, id: string): Run {
  const run = ws.deploymentRuns.get(id);
  if (!run) throw notFound(`deployment run '${id}' not found`);
  return clone(run);
}

/** Lists deployment runs (`GET /v1/deployment_runs`), newest first, with the SDK's filters. @throws 400. */
export function listDeploymentRuns(ws: Workspace, query: Record<string, unknown>, page: PageRequest): Page<Run> {
  const deploymentId = queryValue(query, "deployment_id");
  const rawHasError = queryValue(query, "has_error");
  const hasError = rawHasError === undefined ? undefined : queryBool(query, "has_error", false);
  const rawTrigger = queryValue(query, "trigger_type");
  const trigger =
    rawTrigger === undefined ? undefined : oneOf(rawTrigger, "trigger_type", ["schedule", "manual"] as const);
  const inTime = createdAtFilter(query);
  const items = [...ws.deploymentRuns.values()]
    .filter((r) => deploymentId === undefined || r.deployment_id === deploymentId)
    .filter((r) => hasError === undefined || (r.error !== null) === hasError)
    .filter((r) => trigger === undefined || r.trigger_context.type === trigger)
    .filter((r) => inTime(r.created_at));
  const result = paginate(items, byCreatedAt, page, "deployment_runs");
  return { data: result.data.map(clone), next_page: result.next_page };
}
