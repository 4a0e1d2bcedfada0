import { AGENTS, listAgentVersions, retrieveAgent, updateAgent } from "./agents.js";
import {
  archiveCredential,
  createCredential,
  deleteCredential,
  listCredentials,
  retrieveCredential,
  secretMatches,
  setTestProbe,
  updateCredential,
  validateCredential,
} from "./credentials.js";
import {
  DEPLOYMENTS,
  listDeploymentRuns,
  listDeployments,
  retrieveDeploymentRun,
  runDeployment,
  setDeploymentPaused,
} from "./deployments.js";
import { ENVIRONMENTS } from "./environments.js";
import { createMemory, listMemories, MEMORY_BETA, MEMORY_STORES } from "./memory-stores.js";
import type { PageRequest } from "./pagination.js";
import type { ResourceObject, SimpleResource } from "./resource.js";
import { listEvents, MAX_EVENTS_PAGE_SIZE, sendEvents, streamEvents } from "./session-events.js";
import type { SessionRuntime } from "./session-runtime.js";
import {
  archiveSession,
  createSession,
  deleteSession,
  listSessions,
  retrieveSession,
  SESSIONS,
  updateSession,
} from "./sessions.js";
import {
  createSkill,
  createSkillVersion,
  deleteSkillVersion,
  downloadSkillVersion,
  listSkills,
  listSkillVersions,
  retrieveSkill,
  retrieveSkillVersion,
  SKILLS,
  SKILLS_BETA,
} from "./skills.js";
import type { Workspace } from "./store.js";
import { revealTunnelToken, rotateTunnelToken, TUNNELS, TUNNELS_BETA, tunnelTokenValid } from "./tunnels.js";
import { VAULTS } from "./vaults.js";

/** What a route handler gets: the request's workspace, path params, query, parsed body and a timestamp. */
export interface RouteContext {
  ws: Workspace;
  params: Record<string, string>;
  query: Record<string, unknown>;
  body: unknown;
  /** The request's timestamp (one per request, from the emulator's monotonic clock). */
  now: string;
  /** `limit`/`page` of this request (validated on first call); `limit` at most `maxLimit` (default 100). */
  page(maxLimit?: number): PageRequest;
  /** A fresh timestamp from the emulator's clock (for several events recorded by one request). */
  clock(): string;
  /** The sessions runtime (event history, scripted agent, streams). */
  runtime: SessionRuntime;
}

/**
 * One endpoint: method, fastify path pattern, handler returning the JSON response body (or a `RawResponse`, such
 * as an SSE stream, which the server hands the raw Node response).
 */
export interface RouteSpec {
  method: "GET" | "POST" | "DELETE";
  url: string;
  /**
   * The beta this endpoint requires in `anthropic-beta`: the one the SDK sends for the call (the
   * `'anthropic-beta': [...(betas ?? []), '<beta>']` of its method in `resources/beta/**.js`). Absent: `MANAGED_AGENTS_BETA`.
   */
  beta?: string;
  /**
   * The body is `multipart/form-data` (skill uploads): the server parses it with `@fastify/multipart` and hands the
   * handler a `MultipartBody` (`skills.ts`). Other routes take JSON only.
   */
  multipart?: true;
  /** A POST that changes nothing (`reveal_token`: a POST only to keep the token out of access logs): not persisted. */
  readOnly?: boolean;
  handler(ctx: RouteContext): unknown;
}

/**
 * The beta the SDK sends for every Managed Agents resource the emulator serves: `agents`, `agents.versions`,
 * `environments`, `vaults`, `vaults.credentials`, `sessions`, `sessions.events`, `deployments`, `deploymentRuns` all set
 * `managed-agents-2026-04-01` (SDK 1.11 `resources/beta/{agents,environments,vaults,sessions}/*.js`,
 * `deployments.js`, `deployment-runs.js`). Other resources use their own beta (skills: `skills-2025-10-02`, memory
 * stores: `agent-memory-2026-07-22`, see `memory-stores.ts`).
 */
export const MANAGED_AGENTS_BETA = "managed-agents-2026-04-01";

/** The beta `route` requires. */
export function routeBeta(route: RouteSpec): string {
  return route.beta ?? MANAGED_AGENTS_BETA;
}

const AGENT = "/v1/agents/:agent_id";
const VAULT = "/v1/vaults/:vault_id";
const CRED = "/v1/vaults/:vault_id/credentials/:credential_id";
const SESSION = "/v1/sessions/:session_id";
const DEPLOYMENT = "/v1/deployments/:deployment_id";
const MEMSTORE = "/v1/memory_stores/:memory_store_id";
const SKILL = "/v1/skills/:skill_id";
const SKILL_VERSION = "/v1/skills/:skill_id/versions/:version";
const TUNNEL = "/v1/tunnels/:tunnel_id";

/** Reads a path parameter that the route pattern guarantees. */
function p(ctx: RouteContext, name: string): string {
  return ctx.params[name] ?? "";
}

/** Handlers of a kind's usual endpoints, each given the request and (on `/:id` routes) the path's id. */
interface ResourceHandlers {
  /** `POST /v1/<collection>` */
  create?(c: RouteContext): unknown;
  /** `GET /v1/<collection>` */
  list?(c: RouteContext): unknown;
  /** `GET /v1/<collection>/:id` */
  retrieve?(c: RouteContext, id: string): unknown;
  /** `POST /v1/<collection>/:id` (updates are POSTs, never PATCH: docs/api-notes.md "Requests") */
  update?(c: RouteContext, id: string): unknown;
  /** `DELETE /v1/<collection>/:id` */
  delete?(c: RouteContext, id: string): unknown;
  /** `POST /v1/<collection>/:id/archive` */
  archive?(c: RouteContext, id: string): unknown;
}

/**
 * The routes of a kind's usual endpoints (`resource.ts`), at its path, with its beta: each endpoint the resource has
 * answered by the resource, unless `custom` gives its own handler for it (or for an endpoint the resource lacks).
 */
function resourceRoutes<T extends ResourceObject, R>(
  resource: SimpleResource<T, R>,
  custom: ResourceHandlers = {},
): RouteSpec[] {
  const own: ResourceHandlers = {
    list: (c) => resource.list(c.ws, c.query, c.page(), c.now),
    retrieve: (c, id) => resource.retrieve(c.ws, id, c.now),
  };
  if (resource.has.create) own.create = (c) => resource.create(c.ws, c.body, c.now);
  if (resource.has.update) own.update = (c, id) => resource.update(c.ws, id, c.body, c.now);
  if (resource.has.delete) own.delete = (c, id) => resource.delete(c.ws, id);
  if (resource.has.archive) own.archive = (c, id) => resource.archive(c.ws, id, c.now);
  const { create, list, retrieve, update, delete: remove, archive } = { ...own, ...custom };
  const one = `${resource.path}/:${resource.param}`;
  const routes: RouteSpec[] = [];
  const add = (method: RouteSpec["method"], url: string, handler: ((c: RouteContext) => unknown) | undefined) => {
    if (handler) routes.push({ method, url, ...(resource.beta === undefined ? {} : { beta: resource.beta }), handler });
  };
  const withId = (h: ((c: RouteContext, id: string) => unknown) | undefined) =>
    h && ((c: RouteContext) => h(c, p(c, resource.param)));
  add("POST", resource.path, create);
  add("GET", resource.path, list);
  add("GET", one, withId(retrieve));
  add("POST", one, withId(update));
  add("DELETE", one, withId(remove));
  add("POST", `${one}/archive`, withId(archive));
  return routes;
}

/**
 * Every endpoint of the emulator, as the SDK calls them (`resources/beta/{agents,environments,vaults,sessions}/**.js`):
 * updates are `POST /:id`, archives `POST /:id/archive`, deletes `DELETE /:id`.
 */
export const ROUTES: readonly RouteSpec[] = [
  ...resourceRoutes(AGENTS, {
    retrieve: (c, id) => retrieveAgent(c.ws, id, c.query),
    update: (c, id) => updateAgent(c.ws, id, c.body, c.now),
  }),
  { method: "GET", url: `${AGENT}/versions`, handler: (c) => listAgentVersions(c.ws, p(c, "agent_id"), c.page()) },

  ...resourceRoutes(ENVIRONMENTS),

  ...resourceRoutes(VAULTS),

  {
    method: "POST",
    url: `${VAULT}/credentials`,
    handler: (c) => createCredential(c.ws, p(c, "vault_id"), c.body, c.now),
  },
  {
    method: "GET",
    url: `${VAULT}/credentials`,
    handler: (c) => listCredentials(c.ws, p(c, "vault_id"), c.query, c.page()),
  },
  { method: "GET", url: CRED, handler: (c) => retrieveCredential(c.ws, p(c, "vault_id"), p(c, "credential_id")) },
  {
    method: "POST",
    url: CRED,
    handler: (c) => updateCredential(c.ws, p(c, "vault_id"), p(c, "credential_id"), c.body, c.now),
  },
  { method: "DELETE", url: CRED, handler: (c) => deleteCredential(c.ws, p(c, "vault_id"), p(c, "credential_id")) },
  {
    method: "POST",
    url: `${CRED}/archive`,
    handler: (c) => archiveCredential(c.ws, p(c, "vault_id"), p(c, "credential_id"), c.now),
  },
  {
    method: "POST",
    url: `${CRED}/mcp_oauth_validate`,
    handler: (c) => validateCredential(c.ws, p(c, "vault_id"), p(c, "credential_id"), c.now),
  },
  // Emulator-only test hooks (docs/emulator.md): not part of the Managed Agents API.
  {
    method: "POST",
    url: "/_emulator/vaults/:vault_id/credentials/:credential_id/probe",
    handler: (c) => setTestProbe(c.ws, p(c, "vault_id"), p(c, "credential_id"), c.body),
  },
  {
    method: "POST",
    url: "/_emulator/vaults/:vault_id/credentials/:credential_id/secret_matches",
    handler: (c) => secretMatches(c.ws, p(c, "vault_id"), p(c, "credential_id"), c.body),
  },

  ...resourceRoutes(DEPLOYMENTS, { list: (c) => listDeployments(c.ws, c.query, c.page(), c.now) }),
  {
    method: "POST",
    url: `${DEPLOYMENT}/pause`,
    handler: (c) => setDeploymentPaused(c.ws, p(c, "deployment_id"), true, c.now),
  },
  {
    method: "POST",
    url: `${DEPLOYMENT}/unpause`,
    handler: (c) => setDeploymentPaused(c.ws, p(c, "deployment_id"), false, c.now),
  },
  {
    method: "POST",
    url: `${DEPLOYMENT}/run`,
    handler: (c) => runDeployment(c.ws, c.runtime, p(c, "deployment_id"), c.now),
  },
  { method: "GET", url: "/v1/deployment_runs", handler: (c) => listDeploymentRuns(c.ws, c.query, c.page()) },
  {
    method: "GET",
    url: "/v1/deployment_runs/:deployment_run_id",
    handler: (c) => retrieveDeploymentRun(c.ws, p(c, "deployment_run_id")),
  },
  ...resourceRoutes(MEMORY_STORES),
  {
    method: "POST",
    url: `${MEMSTORE}/memories`,
    beta: MEMORY_BETA,
    handler: (c) => createMemory(c.ws, p(c, "memory_store_id"), c.query, c.body, c.now),
  },
  {
    method: "GET",
    url: `${MEMSTORE}/memories`,
    beta: MEMORY_BETA,
    handler: (c) => listMemories(c.ws, p(c, "memory_store_id"), c.query, c.page()),
  },
  ...resourceRoutes(TUNNELS),
  {
    method: "POST",
    url: `${TUNNEL}/reveal_token`,
    beta: TUNNELS_BETA,
    readOnly: true,
    handler: (c) => revealTunnelToken(c.ws, p(c, "tunnel_id")),
  },
  {
    method: "POST",
    url: `${TUNNEL}/rotate_token`,
    beta: TUNNELS_BETA,
    handler: (c) => rotateTunnelToken(c.ws, p(c, "tunnel_id"), c.body),
  },
  // Emulator-only test hook (docs/emulator.md): not part of the Managed Agents API.
  {
    method: "POST",
    url: "/_emulator/tunnels/:tunnel_id/token_valid",
    beta: TUNNELS_BETA,
    readOnly: true,
    handler: (c) => tunnelTokenValid(c.ws, p(c, "tunnel_id"), c.body),
  },

  ...resourceRoutes(SESSIONS, {
    create: (c) => createSession(c.ws, c.runtime, c.body, c.now),
    list: (c) => listSessions(c.ws, c.query, c.page()),
    retrieve: (c, id) => retrieveSession(c.ws, id),
    update: (c, id) => updateSession(c.ws, c.runtime, id, c.body, c.now),
    delete: (c, id) => deleteSession(c.ws, c.runtime, id, c.now),
    archive: (c, id) => archiveSession(c.ws, id, c.now),
  }),
  {
    method: "GET",
    url: `${SESSION}/events`,
    handler: (c) => listEvents(c.ws, p(c, "session_id"), c.query, c.page(MAX_EVENTS_PAGE_SIZE)),
  },
  {
    method: "POST",
    url: `${SESSION}/events`,
    handler: (c) => sendEvents(c.ws, c.runtime, p(c, "session_id"), c.body, c.clock),
  },
  { method: "GET", url: `${SESSION}/events/stream`, handler: (c) => streamEvents(c.ws, c.runtime, p(c, "session_id")) },

  // Skills (SDK `resources/beta/skills/{skills,versions}.js`): beta `skills-2025-10-02`, uploads as multipart.
  {
    method: "POST",
    url: "/v1/skills",
    beta: SKILLS_BETA,
    multipart: true,
    handler: (c) => createSkill(c.ws, c.body, c.now),
  },
  ...resourceRoutes(SKILLS, {
    list: (c) => listSkills(c.ws, c.query, c.page(), c.now),
    retrieve: (c, id) => retrieveSkill(c.ws, id),
  }),
  {
    method: "POST",
    url: `${SKILL}/versions`,
    beta: SKILLS_BETA,
    multipart: true,
    handler: (c) => createSkillVersion(c.ws, p(c, "skill_id"), c.body, c.now),
  },
  {
    method: "GET",
    url: `${SKILL}/versions`,
    beta: SKILLS_BETA,
    handler: (c) => listSkillVersions(c.ws, p(c, "skill_id"), c.page()),
  },
  {
    method: "GET",
    url: SKILL_VERSION,
    beta: SKILLS_BETA,
    handler: (c) => retrieveSkillVersion(c.ws, p(c, "skill_id"), p(c, "version")),
  },
  {
    method: "DELETE",
    url: SKILL_VERSION,
    beta: SKILLS_BETA,
    handler: (c) => deleteSkillVersion(c.ws, p(c, "skill_id"), p(c, "version"), c.now),
  },
  {
    method: "GET",
    url: `${SKILL_VERSION}/content`,
    beta: SKILLS_BETA,
    handler: (c) => downloadSkillVersion(c.ws, p(c, "skill_id"), p(c, "version")),
  },
];
