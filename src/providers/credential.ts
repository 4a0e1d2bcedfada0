/**
 * The `credential` provider: the `credentials:` of a `Vault` spec ↔ `/v1/vaults/{vault_id}/credentials` (SDK
 * `client.beta.vaults.credentials`, types `CredentialCreateParams`, `CredentialUpdateParams`,
 * `BetaManagedAgentsCredential`).
 *
 * Secret fields are write-only (API-NOTES): responses never contain them, so a plan cannot compare values. Instead
 * the credential's metadata carries a keyed fingerprint of its secrets (`secrets.ts`), and the comparable state
 * has a `secret` field holding it: a rotated `${env:NAME}` value shows as `~ secret (sensitive)`. `auth.type` and
 * `auth.mcp_server_url` (and what `CredentialUpdateParams` cannot carry) cannot change in place: replacement.
 */
import type { ResolvedCredential, ResolvedCredentialAuth, ResolvedVault } from "../spec/types.js";
import { archiveObject, listObjects, readObject, writeObject } from "./client.js";
import { sortedStrings } from "./comparable.js";
import { instantOrSelf } from "./instant.js";
import { metadataUpdate, SECRET_FINGERPRINT_KEY, userMetadata } from "./ownership.js";
import { desiredResource } from "./resource.js";
import {
  collectSecretRefs,
  redactSecretValues,
  SECRET_WRITTEN_AT_KEY,
  secretFingerprint,
  secretValues,
  substituteSecrets,
} from "./secrets.js";
import type { ComparableState, Json, Provider, ProviderContext } from "./types.js";

type Obj = Record<string, unknown>;

/** The spec of one credential plus the vault it belongs to. */
interface CredentialSpec {
  vault: string;
  credential: ResolvedCredential;
}

const str = (value: unknown): string | null => (typeof value === "string" ? value : null);

/**
 * Comparable form of `auth` (create params or a response), secrets left out, server defaults filled:
 * `expires_at`/`refresh`/`scope`/`resource` null, `injection_location` `{header: true, body: false}`.
 */
export function authState(auth: Obj): Json {
  if (auth.type === "static_bearer") return { type: "static_bearer", mcp_server_url: String(auth.mcp_server_url) };
  if (auth.type === "mcp_oauth") {
    const refresh = auth.refresh as Obj | null | undefined;
    return {
      type: "mcp_oauth",
      mcp_server_url: String(auth.mcp_server_url),
      expires_at: instantOrSelf(auth.expires_at),
      refresh: refresh
        ? {
            client_id: String(refresh.client_id),
            token_endpoint: String(refresh.token_endpoint),
            token_endpoint_auth: { type: String((refresh.token_endpoint_auth as Obj).type) },
            scope: str(refresh.scope),
            resource: str(refresh.resource),
          }
        : null,
    };
  }
  const net = (auth.networking ?? {}) as Obj;
  const location = (auth.injection_location ?? {}) as Obj;
  return {
    type: String(auth.type),
    secret_name: String(auth.secret_name),
    networking:
      net.type === "limited"
        ? { type: "limited", allowed_hosts: sortedStrings(net.allowed_hosts as string[]) }
        : { type: String(net.type) },
    injection_location: { header: location.header !== false, body: location.body === true },
  };
}

/** Comparable form of a credential; `secret` is the fingerprint (from metadata, or computed for the spec). */
export function credentialState(credential: Obj, secret: string | null): ComparableState {
  return {
    display_name: str(credential.display_name),
    metadata: userMetadata(credential.metadata as Record<string, string> | undefined),
    auth: authState(credential.auth as Obj),
    secret,
  };
}

/** The part of `auth` that `CredentialUpdateParams` can carry, secrets still as references. */
function authUpdate(auth: ResolvedCredentialAuth): Obj {
  switch (auth.type) {
    case "static_bearer":
      return { type: auth.type, token: auth.token };
    case "mcp_oauth": {
      const refresh = auth.refresh;
      const endpointAuth = refresh?.token_endpoint_auth;
      return {
        type: auth.type,
        access_token: auth.access_token,
        expires_at: auth.expires_at ?? null,
        ...(refresh
          ? {
              refresh: {
                refresh_token: refresh.refresh_token,
                scope: refresh.scope ?? null,
                ...(endpointAuth && endpointAuth.type !== "none" ? { token_endpoint_auth: endpointAuth } : {}),
              },
            }
          : {}),
      };
    }
    case "environment_variable":
      return {
        type: auth.type,
        secret_value: auth.secret_value,
        networking: auth.networking,
        injection_location: {
          header: auth.injection_location?.header ?? true,
          body: auth.injection_location?.body ?? false,
        },
      };
  }
}

/**
 * The reserved metadata written with a secret, in the same request: its fingerprint and the time of the write
 * (`SECRET_WRITTEN_AT_KEY`, whole seconds, UTC).
 */
function secretKeys(fingerprint: string): Record<string, string> {
  const now = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace(".000Z", "Z");
  return { [SECRET_FINGERPRINT_KEY]: fingerprint, [SECRET_WRITTEN_AT_KEY]: now };
}

function fingerprint(spec: CredentialSpec, address: string, ctx: ProviderContext): string | null {
  return secretFingerprint(collectSecretRefs(spec.credential.auth), ctx.secrets, ctx.stack, address);
}

/** Every earlier `vault/credential` name: each name the vault had, with each name the credential had. */
function previousNames(vault: ResolvedVault, credential: ResolvedCredential): string[] {
  const names: string[] = [];
  for (const v of [vault.name, ...vault.previous_names]) {
    for (const c of [credential.name, ...credential.previous_names]) {
      if (v !== vault.name || c !== credential.name) names.push(`${v}/${c}`);
    }
  }
  return names;
}

/** The credential provider (see the module comment). Listed per owned vault. */
export const credentialProvider: Provider = {
  type: "credential",
  parent: "vault",
  replaceOrder: "archive-first",
  replaceOn: [
    "auth.type",
    "auth.mcp_server_url",
    "auth.secret_name",
    "auth.refresh.client_id",
    "auth.refresh.token_endpoint",
    "auth.refresh.resource",
  ],
  desiredPerItemOf: "vaults",
  desired(specs, ctx) {
    return specs.vaults.flatMap((vault: ResolvedVault) =>
      vault.credentials.map((credential) => {
        const name = `${vault.name}/${credential.name}`;
        const spec: CredentialSpec = { vault: vault.name, credential };
        const refs = collectSecretRefs(credential.auth);
        return desiredResource({
          type: "credential",
          name,
          previousNames: previousNames(vault, credential),
          dependsOn: [`vault.${vault.name}`],
          state: credentialState(credential as unknown as Obj, fingerprint(spec, `credential.${name}`, ctx)),
          sensitive: ["secret"],
          missingSecrets: [...new Set(refs.filter((ref) => ctx.secrets(ref) === undefined).map((ref) => ref.name))],
          protect: vault.protect,
          source: credential.source,
          spec,
        });
      }),
    );
  },
  list: (client, parentId, onPage) =>
    listObjects(
      client,
      "credential",
      `/v1/vaults/${parentId}/credentials`,
      (query, o) => client.beta.vaults.credentials.list(String(parentId), query, o),
      onPage,
    ),
  retrieve: (client, id, parentId) =>
    readObject(client, "credential", `GET /v1/vaults/${parentId}/credentials/${id}`, (o) =>
      client.beta.vaults.credentials.retrieve(id, { vault_id: String(parentId) }, o),
    ),
  state: (object) => credentialState(object, object.metadata?.[SECRET_FINGERPRINT_KEY] ?? null),
  async create(client, desired, ctx, ownership, parentId) {
    const { credential } = desired.spec as CredentialSpec;
    const secret = desired.state.secret;
    const params = {
      display_name: credential.display_name,
      metadata: {
        ...credential.metadata,
        ...ownership,
        ...(typeof secret === "string" ? secretKeys(secret) : {}),
      },
      auth: substituteSecrets(credential.auth, ctx.secrets) as never,
    };
    const created = await writeObject(
      client,
      "credential",
      `POST /v1/vaults/${parentId}/credentials`,
      (o) => client.beta.vaults.credentials.create(String(parentId), params, o),
      { secret: true },
    ).catch((error: unknown) => {
      throw redactSecretValues(error, secretValues(collectSecretRefs(credential.auth), ctx.secrets));
    });
    return { id: created.id };
  },
  async update(client, desired, live, request, ctx) {
    const { credential } = desired.spec as CredentialSpec;
    const body: Obj = { vault_id: live.parentId };
    const secret = desired.state.secret;
    const rewritesAuth = request.fields.includes("auth") || request.fields.includes("secret");
    if (request.fields.includes("display_name")) body.display_name = credential.display_name;
    if (rewritesAuth) body.auth = substituteSecrets(authUpdate(credential.auth), ctx.secrets);
    const ownership =
      rewritesAuth && typeof secret === "string" ? { ...request.ownership, ...secretKeys(secret) } : request.ownership;
    const metadata = metadataUpdate(credential.metadata, live.metadata, { fields: request.fields, ownership });
    if (metadata) body.metadata = metadata;
    const updated = await writeObject(
      client,
      "credential",
      `POST /v1/vaults/${live.parentId}/credentials/${live.id}`,
      (o) => client.beta.vaults.credentials.update(live.id, body as never, o),
      { secret: true },
    ).catch((error: unknown) => {
      throw redactSecretValues(error, secretValues(collectSecretRefs(credential.auth), ctx.secrets));
    });
    return { id: updated.id };
  },
  async archive(client, live) {
    await archiveObject(client, "credential", `POST /v1/vaults/${live.parentId}/credentials/${live.id}/archive`, (o) =>
      client.beta.vaults.credentials.archive(live.id, { vault_id: String(live.parentId) }, o),
    );
  },
};

/** What `validateOAuthCredential` found (SDK `BetaManagedAgentsCredentialValidation`, reduced to what is reported). */
export interface OAuthValidation {
  status: "valid" | "invalid" | "unknown";
  /**
   * The API's reason, in words: the MCP probe step that failed with its HTTP status, and the refresh outcome. The
   * response bodies the API captures are left out (they are scrubbed by the API, but are the server's words).
   */
  reason: string;
  validated_at: string;
}

/**
 * Asks the API to probe an `mcp_oauth` credential against its MCP server (`POST
 * /v1/vaults/{vault_id}/credentials/{id}/mcp_oauth_validate`, SDK `credentials.mcpOAuthValidate`). Sends no secret;
 * transient faults are retried by the SDK (twice).
 * @throws the SDK's `APIError` (404 unknown credential, 400 not `mcp_oauth`), or Error for an answer that is not a
 *   validation
 */
export async function validateOAuthCredential(
  client: Parameters<Provider["list"]>[0],
  vaultId: string,
  id: string,
): Promise<OAuthValidation> {
  const answer = (await client.beta.vaults.credentials.mcpOAuthValidate(
    id,
    { vault_id: vaultId },
    { maxRetries: 2 },
  )) as unknown as Obj | undefined;
  const status = answer?.status;
  if (status !== "valid" && status !== "invalid" && status !== "unknown") {
    throw new Error(`POST /v1/vaults/${vaultId}/credentials/${id}/mcp_oauth_validate: the answer is not a validation`);
  }
  const reasons: string[] = [];
  const probe = answer?.mcp_probe as Obj | null | undefined;
  if (probe && typeof probe === "object") {
    const http = probe.http_response as Obj | null | undefined;
    const code = http && typeof http.status_code === "number" ? ` answered ${http.status_code}` : " got no answer";
    reasons.push(`MCP ${String(probe.method).slice(0, 64)}${code}`);
  }
  const refresh = answer?.refresh as Obj | null | undefined;
  if (refresh && typeof refresh === "object") reasons.push(`refresh ${String(refresh.status).slice(0, 32)}`);
  if (answer?.has_refresh_token === false && !refresh) reasons.push("no refresh token");
  const verdict =
    status === "valid"
      ? "authenticated against its MCP server"
      : status === "invalid"
        ? "rejected"
        : "the probe could not tell whether it works";
  const reason = [verdict, ...reasons].join("; ");
  return { status, reason, validated_at: String(answer?.validated_at ?? "") };
}
