import type {
  BetaManagedAgentsCredential,
  BetaManagedAgentsCredentialValidation,
  BetaManagedAgentsDeletedCredential,
  BetaManagedAgentsEnvironmentVariableAuthResponse,
  BetaManagedAgentsMCPOAuthAuthResponse,
  BetaManagedAgentsMCPOAuthRefreshResponse,
} from "@anthropic-ai/sdk/resources/beta/vaults/credentials.js";
import { DEFAULT_INJECTION_LOCATION } from "./defaults.js";
import { badRequest, notFound } from "./errors.js";
import { newId } from "./ids.js";
import { parseMetadata, patchMetadata } from "./metadata.js";
import { byCreatedAt, type Page, type PageRequest, paginateOrdered, queryBool } from "./pagination.js";
import { listOrder } from "./record-map.js";
import type { CredentialRecord, CredentialSecrets, Workspace } from "./store.js";
import {
  arr,
  at,
  bool,
  clone,
  fieldError,
  has,
  httpUrl,
  jsonEqual,
  type Obj,
  obj,
  onlyKeys,
  required,
  str,
  tag,
  timestamp,
} from "./validate.js";
import { getVault } from "./vaults.js";

/**
 * Vault credentials (`/v1/vaults/:vault_id/credentials`): create, retrieve, update, list, archive, delete and
 * `mcp_oauth_validate`. Request shapes: SDK `CredentialCreateParams` / `CredentialUpdateParams`; response:
 * `BetaManagedAgentsCredential` ("Sensitive fields are never returned in responses").
 *
 * Secrets (`token`, `access_token`, `refresh_token`, `client_secret`, `secret_value`) are write-only: they go into
 * `CredentialRecord.secrets` and nowhere else. Responses are built from `CredentialRecord.credential` only, error
 * messages never contain submitted values, and the request log holds no bodies. Only a keyed digest of each value is
 * kept (`Workspace.sealSecret`, see `Store.sealSecret`), so neither memory nor the state file ever holds a secret, and
 * the state file alone cannot confirm a guess.
 *
 * Identity rules: `auth.type` and `mcp_server_url` (and `secret_name`, `client_id`, `token_endpoint`) cannot change
 * in place (`CredentialUpdateParams` has no field for them; API-NOTES "`mcp_server_url` and `type` cannot change in
 * place"). No uniqueness per `mcp_server_url` is enforced: no source states one (ADR 0020).
 */

type Credential = BetaManagedAgentsCredential;
type Auth = Credential["auth"];
type Networking = BetaManagedAgentsEnvironmentVariableAuthResponse["networking"];

const AUTH_TYPES = ["mcp_oauth", "static_bearer", "environment_variable"] as const;
const SECRET_MAX = 16384;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CRED_HOST = /^((\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*)$/;
const IMMUTABLE = "cannot be changed after the credential is created; create a new credential instead";

/** Turns a secret value into what the emulator keeps of it (`Workspace.sealSecret`). */
type Seal = (value: string) => string;

/** Validates a submitted secret and returns what the emulator keeps of it: a keyed digest, never the value. */
function secret(v: unknown, path: string, seal: Seal): string {
  return seal(str(v, path, { min: 1, max: SECRET_MAX }));
}

function futureTimestamp(v: unknown, path: string, now: string): string {
  const t = timestamp(v, path);
  if (Date.parse(t) <= Date.parse(now)) throw fieldError(path, "must be in the future");
  return t;
}

function parseNetworking(v: unknown, path: string): Networking {
  const o = obj(v, path);
  const type = tag(o, path, ["unrestricted", "limited"] as const);
  if (type === "unrestricted") {
    onlyKeys(o, ["type"], path);
    return { type };
  }
  onlyKeys(o, ["type", "allowed_hosts"], path);
  const hp = at(path, "allowed_hosts");
  const list = arr(required(o, "allowed_hosts", path), hp, 16);
  if (list.length === 0) throw fieldError(hp, "List should have at least 1 item");
  const hosts = list.map((h, i) => {
    const s = str(h, at(hp, i), { min: 1, max: 253 });
    if (!CRED_HOST.test(s))
      throw fieldError(at(hp, i), "Input should be a hostname, an IPv4 address or a '*.' wildcard");
    return s;
  });
  return { type, allowed_hosts: hosts.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)) };
}

function parseInjection(v: unknown, path: string, base: { header: boolean; body: boolean }) {
  const o = obj(v, path);
  onlyKeys(o, ["header", "body"], path);
  const out = { header: base.header, body: base.body };
  if (o.header !== undefined) out.header = bool(o.header, at(path, "header"));
  if (o.body !== undefined) out.body = bool(o.body, at(path, "body"));
  if (!out.header && !out.body) throw fieldError(path, "at least one of header and body must be true");
  return out;
}

function parseRefresh(
  v: unknown,
  path: string,
  secrets: CredentialSecrets,
  seal: Seal,
): BetaManagedAgentsMCPOAuthRefreshResponse {
  const o = obj(v, path);
  onlyKeys(o, ["client_id", "refresh_token", "token_endpoint", "token_endpoint_auth", "resource", "scope"], path);
  const client_id = str(required(o, "client_id", path), at(path, "client_id"), { min: 1, max: 1024 });
  secrets.refresh_token = secret(required(o, "refresh_token", path), at(path, "refresh_token"), seal);
  const token_endpoint = httpUrl(required(o, "token_endpoint", path), at(path, "token_endpoint"));
  const ap = at(path, "token_endpoint_auth");
  const ao = obj(required(o, "token_endpoint_auth", path), ap);
  const authType = tag(ao, ap, ["none", "client_secret_basic", "client_secret_post"] as const);
  if (authType === "none") onlyKeys(ao, ["type"], ap);
  else {
    onlyKeys(ao, ["type", "client_secret"], ap);
    secrets.client_secret = secret(required(ao, "client_secret", ap), at(ap, "client_secret"), seal);
  }
  const optional = (k: "resource" | "scope") =>
    o[k] === undefined || o[k] === null ? null : str(o[k], at(path, k), { min: 1, max: 2048 });
  return {
    client_id,
    token_endpoint,
    token_endpoint_auth: { type: authType },
    resource: optional("resource"),
    scope: optional("scope"),
  };
}

/** `auth` on create → the public auth object and the secrets, kept apart. */
function parseCreateAuth(v: unknown, now: string, seal: Seal): { auth: Auth; secrets: CredentialSecrets } {
  const path = "auth";
  const o = obj(v, path);
  const type = tag(o, path, AUTH_TYPES);
  const secrets: CredentialSecrets = {};
  if (type === "static_bearer") {
    onlyKeys(o, ["type", "token", "mcp_server_url"], path);
    secrets.token = secret(required(o, "token", path), at(path, "token"), seal);
    return {
      auth: { type, mcp_server_url: httpUrl(required(o, "mcp_server_url", path), at(path, "mcp_server_url")) },
      secrets,
    };
  }
  if (type === "mcp_oauth") {
    onlyKeys(o, ["type", "access_token", "mcp_server_url", "expires_at", "refresh"], path);
    secrets.access_token = secret(required(o, "access_token", path), at(path, "access_token"), seal);
    const auth: BetaManagedAgentsMCPOAuthAuthResponse = {
      type,
      mcp_server_url: httpUrl(required(o, "mcp_server_url", path), at(path, "mcp_server_url")),
      expires_at:
        o.expires_at === undefined || o.expires_at === null
          ? null
          : futureTimestamp(o.expires_at, at(path, "expires_at"), now),
      refresh:
        o.refresh === undefined || o.refresh === null
          ? null
          : parseRefresh(o.refresh, at(path, "refresh"), secrets, seal),
    };
    return { auth, secrets };
  }
  onlyKeys(o, ["type", "secret_name", "secret_value", "networking", "injection_location"], path);
  const secret_name = str(required(o, "secret_name", path), at(path, "secret_name"), { min: 1, max: 256 });
  if (!ENV_NAME.test(secret_name)) {
    throw fieldError(at(path, "secret_name"), "String should match pattern '^[A-Za-z_][A-Za-z0-9_]*$'");
  }
  secrets.secret_value = secret(required(o, "secret_value", path), at(path, "secret_value"), seal);
  const auth: BetaManagedAgentsEnvironmentVariableAuthResponse = {
    type,
    secret_name,
    networking: parseNetworking(required(o, "networking", path), at(path, "networking")),
    injection_location:
      o.injection_location === undefined
        ? { ...DEFAULT_INJECTION_LOCATION }
        : parseInjection(o.injection_location, at(path, "injection_location"), DEFAULT_INJECTION_LOCATION),
  };
  return { auth, secrets };
}

/** Applies an `auth` update in place on copies of the record's auth and secrets. */
function applyAuthUpdate(v: unknown, auth: Auth, secrets: CredentialSecrets, now: string, seal: Seal): void {
  const path = "auth";
  const o = obj(v, path);
  const type = tag(o, path, AUTH_TYPES);
  if (type !== auth.type) {
    throw fieldError(
      at(path, "type"),
      `cannot change a credential's type from '${auth.type}' to '${type}'; create a new credential instead`,
    );
  }
  const keep = (x: unknown) => x === undefined || x === null;
  if (auth.type === "static_bearer") {
    onlyKeys(o, ["type", "token"], path, { mcp_server_url: IMMUTABLE });
    if (!keep(o.token)) secrets.token = secret(o.token, at(path, "token"), seal);
    return;
  }
  if (auth.type === "mcp_oauth") {
    onlyKeys(o, ["type", "access_token", "expires_at", "refresh"], path, { mcp_server_url: IMMUTABLE });
    if (!keep(o.access_token)) secrets.access_token = secret(o.access_token, at(path, "access_token"), seal);
    if (o.expires_at === null) auth.expires_at = null;
    else if (o.expires_at !== undefined) auth.expires_at = futureTimestamp(o.expires_at, at(path, "expires_at"), now);
    if (keep(o.refresh)) return;
    const rp = at(path, "refresh");
    const ro = obj(o.refresh, rp);
    onlyKeys(ro, ["refresh_token", "scope", "token_endpoint_auth"], rp, {
      client_id: IMMUTABLE,
      token_endpoint: IMMUTABLE,
      resource: IMMUTABLE,
    });
    const refresh = auth.refresh;
    if (!refresh)
      throw fieldError(rp, "this credential has no refresh configuration; create a new credential to add one");
    if (!keep(ro.refresh_token)) secrets.refresh_token = secret(ro.refresh_token, at(rp, "refresh_token"), seal);
    if (ro.scope === "") refresh.scope = null;
    else if (!keep(ro.scope)) refresh.scope = str(ro.scope, at(rp, "scope"), { max: 2048 });
    if (ro.token_endpoint_auth !== undefined) {
      const ap = at(rp, "token_endpoint_auth");
      const ao = obj(ro.token_endpoint_auth, ap);
      tag(ao, ap, ["client_secret_basic", "client_secret_post"] as const);
      onlyKeys(ao, ["type", "client_secret"], ap);
      if (refresh.token_endpoint_auth.type === "none") {
        throw fieldError(
          ap,
          "the credential's token endpoint uses no client authentication, so it has no client secret to replace",
        );
      }
      // The stored token_endpoint_auth type is kept even if the other secret-bearing type was sent (SDK doc).
      if (!keep(ao.client_secret)) secrets.client_secret = secret(ao.client_secret, at(ap, "client_secret"), seal);
    }
    return;
  }
  onlyKeys(o, ["type", "injection_location", "networking", "secret_value"], path, { secret_name: IMMUTABLE });
  if (!keep(o.secret_value)) secrets.secret_value = secret(o.secret_value, at(path, "secret_value"), seal);
  if (!keep(o.networking)) auth.networking = parseNetworking(o.networking, at(path, "networking"));
  if (o.injection_location !== undefined) {
    auth.injection_location = parseInjection(
      o.injection_location,
      at(path, "injection_location"),
      auth.injection_location,
    );
  }
}

function getRecord(ws: Workspace, vaultId: string, id: string): CredentialRecord {
  getVault(ws, vaultId);
  const rec = ws.credentials.get(id);
  if (!rec || rec.credential.vault_id !== vaultId) throw notFound(`credential '${id}' not found in vault '${vaultId}'`);
  return rec;
}

/** The response form of a record: a deep copy of the public part only. */
function view(rec: CredentialRecord): Credential {
  return clone(rec.credential);
}

/**
 * Creates a credential in a vault (`POST /v1/vaults/:vault_id/credentials`).
 * Several active credentials may share an `mcp_server_url` or `secret_name`: neither the SDK nor the public docs
 * state a uniqueness rule (a rule the emulator once added; removed, see docs/adr/0020-emulator-rules-cite-sources.md),
 * so nothing here may depend on one. Likewise an archived vault still accepts credentials.
 * @throws 404 unknown vault; 400 invalid field (named, e.g. `auth.token: Field required`).
 */
export function createCredential(ws: Workspace, vaultId: string, body: unknown, now: string): Credential {
  getVault(ws, vaultId);
  const o = obj(body ?? {}, "");
  onlyKeys(o, ["auth", "display_name", "metadata"], "");
  const { auth, secrets } = parseCreateAuth(required(o, "auth", ""), now, ws.sealSecret);
  const display_name =
    o.display_name === undefined || o.display_name === null ? null : str(o.display_name, "display_name", { max: 255 });
  const metadata = o.metadata === undefined ? {} : parseMetadata(o.metadata);
  const credential: Credential = {
    type: "vault_credential",
    id: newId("vcrd"),
    vault_id: vaultId,
    display_name,
    auth,
    metadata,
    created_at: now,
    updated_at: now,
    archived_at: null,
  };
  const rec: CredentialRecord = { credential, secrets };
  ws.credentials.set(credential.id, rec);
  return view(rec);
}

/** Reads a credential (`GET /v1/vaults/:vault_id/credentials/:id`); never includes secrets. @throws 404. */
export function retrieveCredential(ws: Workspace, vaultId: string, id: string): Credential {
  return view(getRecord(ws, vaultId, id));
}

/**
 * Updates a credential (`POST /v1/vaults/:vault_id/credentials/:id`): new secrets, `expires_at`, refresh token /
 * scope / client secret, `networking`, `injection_location` (per key), `display_name` (`null` clears), `metadata`
 * per-key patch. `auth.type`, `mcp_server_url`, `secret_name`, `client_id`, `token_endpoint` cannot change (400
 * naming the field). Rotating a secret counts as a change (`updated_at` moves); nothing else changes then. An archived
 * credential is updatable: no source says otherwise (docs/adr/0020-emulator-rules-cite-sources.md).
 * @throws 404 unknown; 400 invalid field.
 */
export function updateCredential(ws: Workspace, vaultId: string, id: string, body: unknown, now: string): Credential {
  const rec = getRecord(ws, vaultId, id);
  const o: Obj = obj(body ?? {}, "");
  onlyKeys(o, ["auth", "display_name", "metadata"], "");
  const next = clone(rec.credential);
  const secrets = { ...rec.secrets };
  if (o.auth !== undefined) applyAuthUpdate(o.auth, next.auth, secrets, now, ws.sealSecret);
  if (has(o, "display_name")) {
    next.display_name = o.display_name === null ? null : str(o.display_name, "display_name", { min: 1, max: 255 });
  }
  if (has(o, "metadata") && o.metadata !== null) next.metadata = patchMetadata(next.metadata, o.metadata, false);
  if (jsonEqual(next, rec.credential) && jsonEqual(secrets, rec.secrets)) return view(rec);
  next.updated_at = now;
  rec.credential = next;
  rec.secrets = secrets;
  return view(rec);
}

/** Lists a vault's credentials, newest first; archived only with `include_archived=true`. @throws 404 vault, 400 query. */
export function listCredentials(
  ws: Workspace,
  vaultId: string,
  query: Record<string, unknown>,
  page: PageRequest,
): Page<Credential> {
  getVault(ws, vaultId);
  const includeArchived = queryBool(query, "include_archived", false);
  // The vault's credentials in order, from the index `listOrder` keeps (record-map.ts), not a scan of the workspace.
  const order = listOrder(
    ws.credentials,
    "credentials",
    (r) => byCreatedAt(r.credential),
    (r) => r.credential.vault_id,
  ).get(vaultId);
  const result = paginateOrdered(
    order,
    (id) => ws.credentials.get(id),
    (r) => (includeArchived || r.credential.archived_at === null ? r.credential : undefined),
    page,
    `credentials:${vaultId}`,
  );
  return { data: result.data.map(clone), next_page: result.next_page };
}

/** Archives a credential (`POST …/credentials/:id/archive`); idempotent. @throws 404. */
export function archiveCredential(ws: Workspace, vaultId: string, id: string, now: string): Credential {
  const rec = getRecord(ws, vaultId, id);
  if (rec.credential.archived_at === null) rec.credential = { ...rec.credential, archived_at: now, updated_at: now };
  return view(rec);
}

/** Deletes a credential (`DELETE …/credentials/:id`) → `{id, type: "vault_credential_deleted"}`. @throws 404. */
export function deleteCredential(ws: Workspace, vaultId: string, id: string): BetaManagedAgentsDeletedCredential {
  getRecord(ws, vaultId, id);
  ws.credentials.delete(id);
  return { id, type: "vault_credential_deleted" };
}

/** A verdict a test set for the next validations of one credential (`setTestProbe`), for the access token it names. */
interface TestProbe {
  status: "valid" | "invalid" | "unknown";
  /** The digest of the access token the verdict is about: a new token (a rotation) makes it stale. */
  access_token: string | undefined;
}

/** Test verdicts, per credential record (memory only: never in the state file, never in a public response). */
const testProbes = new WeakMap<CredentialRecord, TestProbe>();

/**
 * `POST …/credentials/:id/mcp_oauth_validate`: the emulator cannot reach MCP servers, so it answers the SDK's
 * `BetaManagedAgentsCredentialValidation` with `status: "unknown"` ("The probe couldn't tell whether the credential
 * works"), no probe and no refresh attempt; unless a test set a verdict for the current access token with the
 * emulator-only `setTestProbe` route: `valid` (no probe details), `invalid` (an `initialize` probe answered 401
 * `invalid_token`, a refresh `failed` or `no_refresh_token`), or `unknown`.
 * @throws 404 unknown; 400 when the credential is not `mcp_oauth`.
 */
export function validateCredential(
  ws: Workspace,
  vaultId: string,
  id: string,
  now: string,
): BetaManagedAgentsCredentialValidation {
  const rec = getRecord(ws, vaultId, id);
  if (rec.credential.auth.type !== "mcp_oauth") {
    throw badRequest(`auth.type: only mcp_oauth credentials can be validated; '${id}' is ${rec.credential.auth.type}`);
  }
  const probe = testProbes.get(rec);
  const status = probe && probe.access_token === rec.secrets.access_token ? probe.status : "unknown";
  const hasRefresh = rec.secrets.refresh_token !== undefined;
  const rejected = {
    status_code: 401,
    content_type: "application/json",
    body: '{"error":"invalid_token","error_description":"The access token expired or was revoked"}',
    body_truncated: false,
  };
  return {
    type: "vault_credential_validation",
    credential_id: id,
    vault_id: vaultId,
    status,
    has_refresh_token: hasRefresh,
    mcp_probe: status === "invalid" ? { method: "initialize", http_response: rejected } : null,
    refresh:
      status === "invalid"
        ? hasRefresh
          ? { status: "failed", http_response: { ...rejected, status_code: 400, body: '{"error":"invalid_grant"}' } }
          : { status: "no_refresh_token", http_response: null }
        : null,
    validated_at: now,
  };
}

/**
 * Emulator-only test hook (`POST /_emulator/vaults/:vault_id/credentials/:id/probe`, body `{status}`): the verdict
 * `mcp_oauth_validate` gives for the credential's current access token, until a new token is written (a rotation).
 * Not part of the Managed Agents API; documented in docs/emulator.md.
 * @throws 404 unknown credential; 400 bad body or not `mcp_oauth`
 */
export function setTestProbe(ws: Workspace, vaultId: string, id: string, body: unknown): { status: string } {
  const rec = getRecord(ws, vaultId, id);
  if (rec.credential.auth.type !== "mcp_oauth") throw badRequest("auth.type: only mcp_oauth credentials have a probe");
  const o = obj(body, "");
  onlyKeys(o, ["status"], "");
  const status = oneOf(required(o, "status", ""), "status", ["valid", "invalid", "unknown"] as const);
  testProbes.set(rec, { status, access_token: rec.secrets.access_token });
  return { status };
}

/** `v` when it is one of `values`, else a 400 at `path` listing them. */
function oneOf<T extends string>(v: unknown, path: string, values: readonly T[]): T {
  if (typeof v === "string" && values.includes(v as T)) return v as T;
  throw fieldError(path, `Input should be ${values.map((x) => `'${x}'`).join(", ")}`);
}

const SECRET_FIELDS = ["token", "access_token", "refresh_token", "client_secret", "secret_value"] as const;

/**
 * Emulator-only test view (`POST /_emulator/vaults/:vault_id/credentials/:id/secret_matches`, body `{field, value}`):
 * whether the credential's stored secret `field` is `value`, by comparing keyed digests (`Workspace.sealSecret`), so a
 * test can prove a rotation took effect. Answers `{matches}` only: never a value or a digest. Not part of the Managed
 * Agents API; documented in docs/emulator.md.
 * @throws 404 unknown credential; 400 bad body
 */
export function secretMatches(ws: Workspace, vaultId: string, id: string, body: unknown): { matches: boolean } {
  const rec = getRecord(ws, vaultId, id);
  const o = obj(body, "");
  onlyKeys(o, ["field", "value"], "");
  const field = oneOf(required(o, "field", ""), "field", SECRET_FIELDS);
  const value = str(required(o, "value", ""), "value", { min: 1, max: SECRET_MAX });
  const stored = rec.secrets[field];
  return { matches: stored !== undefined && stored === ws.sealSecret(value) };
}
