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
const ENV = "/v1/environments/:environment_id";
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

/**
 * Every endpoint of the emulator, as the SDK calls them (`resources/beta/{agents,environments,vaults,sessions}/**.js`):
 * updates are `POST /:id`, archives `POST /:id/archive`, deletes `DELETE /:id`.
 */
export const ROUTES: readonly RouteSpec[] = [
  { method: "POST", url: "/v1/agents", handler: (c) => createAgent(c.ws, c.body, c.now) },
  { method: "GET", url: "/v1/agents", handler: (c) => listAgents(c.ws, c.query, c.page()) },
  { method: "GET", url: AGENT, handler: (c) => retrieveAgent(c.ws, p(c, "agent_id"), c.query) },
  { method: "POST", url: AGENT, handler: (c) => updateAgent(c.ws, p(c, "agent_id"), c.body, c.now) },
  { method: "POST", url: `${AGENT}/archive`, handler: (c) => archiveAgent(c.ws, p(c, "agent_id"), c.now) },
  { method: "GET", url: `${AGENT}/versions`, handler: (c) => listAgentVersions(c.ws, p(c, "agent_id"), c.page()) },

  { method: "POST", url: "/v1/environments", handler: (c) => createEnvironment(c.ws, c.body, c.now) },
  { method: "GET", url: "/v1/environments", handler: (c) => listEnvironments(c.ws, c.query, c.page()) },
  { method: "GET", url: ENV, handler: (c) => retrieveEnvironment(c.ws, p(c, "environment_id")) },
  { method: "POST", url: ENV, handler: (c) => updateEnvironment(c.ws, p(c, "environment_id"), c.body, c.now) },
  { method: "DELETE", url: ENV, handler: (c) => deleteEnvironment(c.ws, p(c, "environment_id")) },
  { method: "POST", url: `${ENV}/archive`, handler: (c) => archiveEnvironment(c.ws, p(c, "environment_id"), c.now) },

  { method: "POST", url: "/v1/vaults", handler: (c) => createVault(c.ws, c.body, c.now) },
  { method: "GET", url: "/v1/vaults", handler: (c) => listVaults(c.ws, c.query, c.page()) },
  { method: "GET", url: VAULT, handler: (c) => retrieveVault(c.ws, p(c, "vault_id")) },
  { method: "POST", url: VAULT, handler: (c) => updateVault(c.ws, p(c, "vault_id"), c.body, c.now) },
  { method: "DELETE", url: VAULT, handler: (c) => deleteVault(c.ws, p(c, "vault_id")) },
  { method: "POST", url: `${VAULT}/archive`, handler: (c) => archiveVault(c.ws, p(c, "vault_id"), c.now) },

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

  { method: "POST", url: "/v1/deployments", handler: (c) => createDeployment(c.ws, c.body, c.now) },
  { method: "GET", url: "/v1/deployments", handler: (c) => listDeployments(c.ws, c.query, c.page(), c.now) },
  { method: "GET", url: DEPLOYMENT, handler: (c) => retrieveDeployment(c.ws, p(c, "deployment_id"), c.now) },
  { method: "POST", url: DEPLOYMENT, handler: (c) => updateDeployment(c.ws, p(c, "deployment_id"), c.body, c.now) },
  {
    method: "POST",
    url: `${DEPLOYMENT}/archive`,
    handler: (c) => archiveDeployment(c.ws, p(c, "deployment_id"), c.now),
  },
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
  {
    method: "POST",
    url: "/v1/memory_stores",
    beta: MEMORY_BETA,
    handler: (c) => createMemoryStore(c.ws, c.body, c.now),
  },
  {
    method: "GET",
    url: "/v1/memory_stores",
    beta: MEMORY_BETA,
    handler: (c) => listMemoryStores(c.ws, c.query, c.page()),
  },
  {
    method: "GET",
    url: MEMSTORE,
    beta: MEMORY_BETA,
    handler: (c) => retrieveMemoryStore(c.ws, p(c, "memory_store_id")),
  },
  {
    method: "POST",
    url: MEMSTORE,
    beta: MEMORY_BETA,
    handler: (c) => updateMemoryStore(c.ws, p(c, "memory_store_id"), c.body, c.now),
  },
  {
    method: "DELETE",
    url: MEMSTORE,
    beta: MEMORY_BETA,
    handler: (c) => deleteMemoryStore(c.ws, p(c, "memory_store_id")),
  },
  {
    method: "POST",
    url: `${MEMSTORE}/archive`,
    beta: MEMORY_BETA,
    handler: (c) => archiveMemoryStore(c.ws, p(c, "memory_store_id"), c.now),
  },
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
  { method: "POST", url: "/v1/tunnels", beta: TUNNELS_BETA, handler: (c) => createTunnel(c.ws, c.body, c.now) },
  { method: "GET", url: "/v1/tunnels", beta: TUNNELS_BETA, handler: (c) => listTunnels(c.ws, c.query, c.page()) },
  { method: "GET", url: TUNNEL, beta: TUNNELS_BETA, handler: (c) => retrieveTunnel(c.ws, p(c, "tunnel_id")) },
  {
    method: "POST",
    url: `${TUNNEL}/archive`,
    beta: TUNNELS_BETA,
    handler: (c) => archiveTunnel(c.ws, p(c, "tunnel_id"), c.now),
  },
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

  { method: "POST", url: "/v1/sessions", handler: (c) => createSession(c.ws, c.runtime, c.body, c.now) },
  { method: "GET", url: "/v1/sessions", handler: (c) => listSessions(c.ws, c.query, c.page()) },
  { method: "GET", url: SESSION, handler: (c) => retrieveSession(c.ws, p(c, "session_id")) },
  { method: "POST", url: SESSION, handler: (c) => updateSession(c.ws, c.runtime, p(c, "session_id"), c.body, c.now) },
  { method: "DELETE", url: SESSION, handler: (c) => deleteSession(c.ws, c.runtime, p(c, "session_id"), c.now) },
  { method: "POST", url: `${SESSION}/archive`, handler: (c) => archiveSession(c.ws, p(c, "session_id"), c.now) },
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
  { method: "GET", url: "/v1/skills", beta: SKILLS_BETA, handler: (c) => listSkills(c.ws, c.query, c.page()) },
  { method: "GET", url: SKILL, beta: SKILLS_BETA, handler: (c) => retrieveSkill(c.ws, p(c, "skill_id")) },
  { method: "DELETE", url: SKILL, beta: SKILLS_BETA, handler: (c) => deleteSkill(c.ws, p(c, "skill_id")) },
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
