import { archiveAgent, createAgent, listAgents, listAgentVersions, retrieveAgent, updateAgent } from "./agents.js";
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
  archiveDeployment,
  createDeployment,
  listDeploymentRuns,
  listDeployments,
  retrieveDeployment,
  retrieveDeploymentRun,
  runDeployment,
  setDeploymentPaused,
  updateDeployment,
} from "./deployments.js";
import {
  archiveEnvironment,
  createEnvironment,
  deleteEnvironment,
  listEnvironments,
  retrieveEnvironment,
  updateEnvironment,
} from "./environments.js";
import {
  archiveMemoryStore,
  createMemory,
  createMemoryStore,
  deleteMemoryStore,
  listMemories,
  listMemoryStores,
  MEMORY_BETA,
  retrieveMemoryStore,
  updateMemoryStore,
} from "./memory-stores.js";
import type { PageRequest } from "./pagination.js";
import { listEvents, MAX_EVENTS_PAGE_SIZE, sendEvents, streamEvents } from "./session-events.js";
import type { SessionRuntime } from "./session-runtime.js";
import {
  archiveSession,
  createSession,
  deleteSession,
  listSessions,
  retrieveSession,
  updateSession,
} from "./sessions.js";
import {
  createSkill,
  createSkillVersion,
  deleteSkill,
  deleteSkillVersion,
  downloadSkillVersion,
  listSkills,
  listSkillVersions,
  retrieveSkill,
  retrieveSkillVersion,
  SKILLS_BETA,
} from "./skills.js";
import type { Workspace } from "./store.js";
import {
  archiveTunnel,
  createTunnel,
  listTunnels,
  retrieveTunnel,
  revealTunnelToken,
  rotateTunnelToken,
  TUNNELS_BETA,
  tunnelTokenValid,
} from "./tunnels.js";
import { archiveVault, createVault, deleteVault, listVaults, retrieveVault, updateVault } from "./vaults.js";

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

/** What each of a kind's usual endpoints answers: the handler, given the request and (on `/:id` routes) the id. */
interface ResourceHandlers {
  /** `POST <collection>` */
  create?(c: RouteContext): unknown;
  /** `GET <collection>` */
  list?(c: RouteContext): unknown;
  /** `GET <collection>/:id` */
  retrieve?(c: RouteContext, id: string): unknown;
  /** `POST <collection>/:id` (updates are POSTs, never PATCH: docs/api-notes.md "Requests") */
  update?(c: RouteContext, id: string): unknown;
  /** `DELETE <collection>/:id` */
  delete?(c: RouteContext, id: string): unknown;
  /** `POST <collection>/:id/archive` */
  archive?(c: RouteContext, id: string): unknown;
}

/**
 * The routes of a kind's usual endpoints (`resource.ts`), as the SDK calls them: `collection` is the list path
 * (`/v1/memory_stores`), `param` the id's path parameter (`memory_store_id`), `beta` the beta the SDK sends for the
 * kind (absent: `MANAGED_AGENTS_BETA`). Only the endpoints `handlers` names exist.
 */
function resourceRoutes(collection: string, param: string, beta: string | undefined, handlers: ResourceHandlers) {
  const one = `${collection}/:${param}`;
  const withId = (h: (c: RouteContext, id: string) => unknown) => (c: RouteContext) => h(c, p(c, param));
  const routes: RouteSpec[] = [];
  const add = (method: RouteSpec["method"], url: string, handler: ((c: RouteContext) => unknown) | undefined) => {
    if (handler) routes.push({ method, url, ...(beta === undefined ? {} : { beta }), handler });
  };
  const { create, list, retrieve, update, delete: remove, archive } = handlers;
  add("POST", collection, create);
  add("GET", collection, list);
  add("GET", one, retrieve && withId(retrieve));
  add("POST", one, update && withId(update));
  add("DELETE", one, remove && withId(remove));
  add("POST", `${one}/archive`, archive && withId(archive));
  return routes;
}

/**
 * Every endpoint of the emulator, as the SDK calls them (`resources/beta/{agents,environments,vaults,sessions}/**.js`):
 * updates are `POST /:id`, archives `POST /:id/archive`, deletes `DELETE /:id`.
 */
export const ROUTES: readonly RouteSpec[] = [
  ...resourceRoutes("/v1/agents", "agent_id", undefined, {
    create: (c) => createAgent(c.ws, c.body, c.now),
    list: (c) => listAgents(c.ws, c.query, c.page(), c.now),
    retrieve: (c, id) => retrieveAgent(c.ws, id, c.query),
    update: (c, id) => updateAgent(c.ws, id, c.body, c.now),
    archive: (c, id) => archiveAgent(c.ws, id, c.now),
  }),
  { method: "GET", url: `${AGENT}/versions`, handler: (c) => listAgentVersions(c.ws, p(c, "agent_id"), c.page()) },

  ...resourceRoutes("/v1/environments", "environment_id", undefined, {
    create: (c) => createEnvironment(c.ws, c.body, c.now),
    list: (c) => listEnvironments(c.ws, c.query, c.page(), c.now),
    retrieve: (c, id) => retrieveEnvironment(c.ws, id, c.now),
    update: (c, id) => updateEnvironment(c.ws, id, c.body, c.now),
    delete: (c, id) => deleteEnvironment(c.ws, id),
    archive: (c, id) => archiveEnvironment(c.ws, id, c.now),
  }),

  ...resourceRoutes("/v1/vaults", "vault_id", undefined, {
    create: (c) => createVault(c.ws, c.body, c.now),
    list: (c) => listVaults(c.ws, c.query, c.page(), c.now),
    retrieve: (c, id) => retrieveVault(c.ws, id, c.now),
    update: (c, id) => updateVault(c.ws, id, c.body, c.now),
    delete: (c, id) => deleteVault(c.ws, id),
    archive: (c, id) => archiveVault(c.ws, id, c.now),
  }),

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

  ...resourceRoutes("/v1/deployments", "deployment_id", undefined, {
    create: (c) => createDeployment(c.ws, c.body, c.now),
    list: (c) => listDeployments(c.ws, c.query, c.page(), c.now),
    retrieve: (c, id) => retrieveDeployment(c.ws, id, c.now),
    update: (c, id) => updateDeployment(c.ws, id, c.body, c.now),
    archive: (c, id) => archiveDeployment(c.ws, id, c.now),
  }),
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
  ...resourceRoutes("/v1/memory_stores", "memory_store_id", MEMORY_BETA, {
    create: (c) => createMemoryStore(c.ws, c.body, c.now),
    list: (c) => listMemoryStores(c.ws, c.query, c.page(), c.now),
    retrieve: (c, id) => retrieveMemoryStore(c.ws, id, c.now),
    update: (c, id) => updateMemoryStore(c.ws, id, c.body, c.now),
    delete: (c, id) => deleteMemoryStore(c.ws, id),
    archive: (c, id) => archiveMemoryStore(c.ws, id, c.now),
  }),
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
  ...resourceRoutes("/v1/tunnels", "tunnel_id", TUNNELS_BETA, {
    create: (c) => createTunnel(c.ws, c.body, c.now),
    list: (c) => listTunnels(c.ws, c.query, c.page(), c.now),
    retrieve: (c, id) => retrieveTunnel(c.ws, id, c.now),
    archive: (c, id) => archiveTunnel(c.ws, id, c.now),
  }),
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

  ...resourceRoutes("/v1/sessions", "session_id", undefined, {
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
  ...resourceRoutes("/v1/skills", "skill_id", SKILLS_BETA, {
    list: (c) => listSkills(c.ws, c.query, c.page(), c.now),
    retrieve: (c, id) => retrieveSkill(c.ws, id),
    delete: (c, id) => deleteSkill(c.ws, id),
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
