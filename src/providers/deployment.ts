/**
 * The `deployment` provider: `Deployment` specs ↔ `/v1/deployments` (SDK `client.beta.deployments`, types
 * `DeploymentCreateParams`, `DeploymentUpdateParams`, `BetaManagedAgentsDeployment`).
 *
 * A deployment names other specs; their ids (and, with `agent_version: pinned`, the agent's version) are
 * `OutputRef`s in the desired state (`refs.ts`), so the engine orders the writes (agent before the deployments that
 * pin it), plans `(known after apply)` while they are being created or changed, and fills the values in before the
 * deployment is written. Request params are built from the desired state after that substitution.
 *
 * `paused` is not an update field: it applies through `pause` / `unpause`, in place. When a deployment is paused,
 * the pause comes before any other write, and when it is unpaused, the unpause comes last, so a schedule never fires
 * on a half-written deployment. The `reconcile/applied` stamp still travels in an update of `metadata` alone.
 * Deployments have no delete in the API (prune archives); `schedule` plan lines come from `annotate`.
 */
import type Anthropic from "@anthropic-ai/sdk";
import type { BetaManagedAgentsDeploymentRun } from "@anthropic-ai/sdk/resources/beta/deployment-runs.js";
import { formatInZone, nextRunTimes } from "../spec/schedule.js";
import type { ResolvedDeployment } from "../spec/types.js";
import { archiveObject, listObjects, readObject, sendRequest, writeObject } from "./client.js";
import { toJson } from "./comparable.js";
import { metadataUpdate, userMetadata } from "./ownership.js";
import { outputRef } from "./refs.js";
import { addressOf, desiredResource } from "./resource.js";
import type { Page } from "./response.js";
import type { ComparableState, DesiredResource, Json, LiveResource, Provider } from "./types.js";

type Obj = Record<string, unknown>;

/** How many upcoming run times a plan prints for a schedule. */
export const PLANNED_RUNS = 3;

/** The comparable `agent` reference: `{id, version}` (`version` left out for `agent_version: latest`). */
function agentState(agent: unknown): Json {
  if (typeof agent === "string") return { id: agent };
  const a = (agent ?? {}) as Obj;
  return toJson({ id: a.id, ...(a.version === undefined || a.version === null ? {} : { version: a.version }) });
}

/** A memory-store resource with the server's defaults (`access: read_write`, no instructions). */
function resourceState(resource: Obj): Json {
  if (resource.type !== "memory_store") return toJson(resource);
  return toJson({
    type: "memory_store",
    memory_store_id: resource.memory_store_id,
    access: typeof resource.access === "string" ? resource.access : "read_write",
    instructions: typeof resource.instructions === "string" ? resource.instructions : null,
  });
}

/** The schedule as configured (`expression`, `timezone`); the computed `upcoming_runs_at` and `last_run_at` dropped. */
function scheduleState(schedule: unknown): Json {
  if (schedule === null || schedule === undefined) return null;
  const s = schedule as Obj;
  return { expression: String(s.expression), timezone: String(s.timezone) };
}

/**
 * The comparable form of a deployment, from the desired params below or a `BetaManagedAgentsDeployment`: empty
 * description as null, server defaults of memory-store resources filled, the schedule without its computed times,
 * `status` as `paused: true|false`, reserved metadata removed. `vault_ids`, `resources` and `initial_events` keep
 * their order (the API echoes what it was sent; reconcile sends vaults and stores sorted by spec name).
 */
export function deploymentState(d: Obj): ComparableState {
  return {
    name: String(d.name),
    description: typeof d.description === "string" && d.description !== "" ? d.description : null,
    agent: agentState(d.agent),
    environment_id: toJson(d.environment_id),
    vault_ids: toJson(d.vault_ids ?? []),
    resources: ((d.resources ?? []) as Obj[]).map(resourceState),
    initial_events: toJson(d.initial_events ?? []),
    budget: toJson(d.budget ?? null),
    schedule: scheduleState(d.schedule),
    paused: d.status === "paused" || d.paused === true,
    metadata: userMetadata(d.metadata as Record<string, string> | undefined),
  };
}

/**
 * The desired state of a resolved spec: names of other specs become references to their live outputs. With
 * `agent_version: pinned` the agent's version is a reference too (the version this apply leaves the agent at); a
 * number is that version; `latest` leaves the version out (the API pins the latest one when the deployment is
 * written, and the version is not compared).
 */
function desiredState(spec: ResolvedDeployment): ComparableState {
  const agent = addressOf("agent", spec.agent);
  const version =
    spec.agent_version === "pinned"
      ? { version: outputRef(agent, "version") }
      : typeof spec.agent_version === "number"
        ? { version: spec.agent_version }
        : {};
  return deploymentState({
    name: spec.name,
    description: spec.description,
    agent: { id: outputRef(agent), ...version },
    environment_id: outputRef(addressOf("environment", spec.environment)),
    vault_ids: spec.vaults.map((name) => outputRef(addressOf("vault", name))),
    resources: spec.memory_stores.map((m) => ({
      type: "memory_store",
      memory_store_id: outputRef(addressOf("memory_store", m.name)),
      access: m.access,
      instructions: m.instructions,
    })),
    initial_events: spec.initial_events,
    budget: spec.budget,
    schedule: spec.schedule,
    paused: spec.paused,
    metadata: spec.metadata,
  });
}

/**
 * The SDK params of a state field, from the desired state once its references are filled in: the agent as `{type:
 * "agent", id, version}` (or its id alone, for `latest`), the schedule with its `type`.
 */
function param(state: ComparableState, field: string): unknown {
  const value = state[field];
  if (field === "agent") {
    const agent = value as { id: string; version?: number };
    return agent.version === undefined ? agent.id : { type: "agent", id: agent.id, version: agent.version };
  }
  if (field === "schedule") return value === null ? null : { type: "cron", ...(value as Obj) };
  return value;
}

/** The fields of a create (everything but `paused`, which is a separate call). */
const CREATE_FIELDS = [
  "name",
  "description",
  "agent",
  "environment_id",
  "vault_ids",
  "resources",
  "initial_events",
  "budget",
  "schedule",
] as const;

/** `POST /v1/deployments/{id}/pause` or `/unpause`. */
async function setPaused(client: Anthropic, id: string, paused: boolean): Promise<void> {
  const verb = paused ? "pause" : "unpause";
  await writeObject(client, "deployment", `POST /v1/deployments/${id}/${verb}`, (o) =>
    paused ? client.beta.deployments.pause(id, {}, o) : client.beta.deployments.unpause(id, {}, o),
  );
}

/**
 * The lines a plan prints under a scheduled deployment's action: its next `PLANNED_RUNS` run times, computed
 * locally in the schedule's time zone (`schedule.ts`), each with the zone. Time-dependent by nature, so they are
 * annotations (never compared, not in the plan digest), not state.
 */
export function scheduleAnnotations(spec: ResolvedDeployment, now: Date): string[] {
  if (!spec.schedule) return [];
  const { expression, timezone } = spec.schedule;
  const runs = nextRunTimes(expression, timezone, PLANNED_RUNS, now).map((d) => formatInZone(d, timezone));
  const paused = spec.paused ? " (paused: runs only when unpaused)" : "";
  return [`next runs of "${expression}"${paused}:`, ...runs.map((run) => `  ${run}`)];
}

/** The deployment provider (see the module comment). */
export const deploymentProvider: Provider = {
  type: "deployment",
  replaceOrder: "create-first",
  replaceOn: [],
  desired(specs) {
    const now = new Date();
    return (specs.deployments ?? []).map(
      (spec): DesiredResource => ({
        ...desiredResource({
          type: "deployment",
          name: spec.name,
          previousNames: spec.previous_names,
          state: desiredState(spec),
          serverChosen: spec.agent_version === "latest" ? ["agent.version"] : [],
          protect: spec.protect,
          source: spec.source,
          spec,
        }),
        annotations: () => scheduleAnnotations(spec, now),
      }),
    );
  },
  list: (client, _parentId, onPage) =>
    listObjects(client, "deployment", "/v1/deployments", (query, o) => client.beta.deployments.list(query, o), onPage),
  retrieve: (client, id) =>
    readObject(client, "deployment", `GET /v1/deployments/${id}`, (o) => client.beta.deployments.retrieve(id, {}, o)),
  state: (object) => deploymentState(object),
  async create(client, desired, _ctx, ownership) {
    const spec = desired.spec as ResolvedDeployment;
    const body: Obj = { metadata: { ...spec.metadata, ...ownership } };
    for (const field of CREATE_FIELDS) body[field] = param(desired.state, field);
    if (body.description === null) delete body.description;
    if (body.budget === null) delete body.budget;
    if (body.schedule === null) delete body.schedule;
    const created = await writeObject(client, "deployment", "POST /v1/deployments", (o) =>
      client.beta.deployments.create(body as never, o),
    );
    if (desired.state.paused === true) await setPaused(client, created.id, true);
    return { id: created.id };
  },
  async update(client, desired, live, request) {
    const spec = desired.spec as ResolvedDeployment;
    const paused = desired.state.paused === true;
    const pausing = request.fields.includes("paused");
    const body: Obj = {};
    for (const field of request.fields) {
      if (field !== "paused" && field !== "metadata") body[field] = param(desired.state, field);
    }
    const metadata = metadataUpdate(spec.metadata, live.metadata, request);
    if (metadata) body.metadata = metadata;
    // Pause before anything else changes; unpause only once everything else is written.
    if (pausing && paused) await setPaused(client, live.id, true);
    if (Object.keys(body).length > 0) {
      await writeObject(client, "deployment", `POST /v1/deployments/${live.id}`, (o) =>
        client.beta.deployments.update(live.id, body as never, o),
      );
    }
    if (pausing && !paused) await setPaused(client, live.id, false);
    return { id: live.id };
  },
  async archive(client: Anthropic, live: LiveResource) {
    await archiveObject(client, "deployment", `POST /v1/deployments/${live.id}/archive`, (o) =>
      client.beta.deployments.archive(live.id, {}, o),
    );
  },
};

/** A deployment run (SDK `BetaManagedAgentsDeploymentRun`): the session it started, or why none started. */
export type DeploymentRun = BetaManagedAgentsDeploymentRun;

/** The most runs one `recentRuns` call returns (the API's page size). */
export const MAX_RUNS_PAGE = 100;

/**
 * Runs the deployment now (`POST /v1/deployments/{id}/run`): one attempt, never retried, since a repeated request
 * would start a second session. A run whose session could not start is an answer, not an error (its `error`).
 * @throws the SDK's `APIError` (404 unknown deployment), `RequestTimeoutError`, `RequestConnectionError`,
 *   `UnexpectedResponseError`
 */
export async function startRun(client: Anthropic, deploymentId: string): Promise<DeploymentRun> {
  const run = await sendRequest(client, (o) => client.beta.deployments.run(deploymentId, {}, o), {
    request: `POST /v1/deployments/${deploymentId}/run`,
    shape: { kind: "record", record: "deployment_run" },
    retry: false,
  });
  return run as unknown as DeploymentRun;
}

/**
 * The `limit` most recent runs of a deployment, newest first (`GET /v1/deployment_runs?deployment_id=`, one page;
 * retried on transient faults like every read).
 * @param limit 1 to `MAX_RUNS_PAGE`
 */
export async function recentRuns(client: Anthropic, deploymentId: string, limit: number): Promise<DeploymentRun[]> {
  const page = (await sendRequest(
    client,
    (o) => client.beta.deploymentRuns.list({ deployment_id: deploymentId, limit }, o),
    { request: "GET /v1/deployment_runs", shape: { kind: "records", record: "deployment_run", limit }, retry: true },
  )) as Page;
  return page.data as unknown as DeploymentRun[];
}
