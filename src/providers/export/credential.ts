/**
 * Vault credentials → the `credentials:` entries of a `Vault` spec: a `BetaManagedAgentsCredential` (SDK
 * `client.beta.vaults.credentials`) becomes `{name, display_name?, metadata?, auth}` whose resolved form gives back
 * the same `credentialState` (`providers/credential.ts`), secrets aside.
 *
 * Secret fields are write-only: the API never returns them, so every one becomes a reference `${env:NAME}` with a
 * variable derived from the vault, credential and field names (`MAIL_WORKSPACE_MCP_TOKEN`), recorded in the
 * context for the list the user must set before apply. `mcp_server_url` becomes `toolset:` when an exported (or
 * existing) McpToolset has exactly that URL. Server defaults are left out: `injection_location` keys equal to
 * `{header: true, body: false}`, null `expires_at`/`scope`/`resource`.
 */
import type { ApiObject } from "../types.js";
import type { ExportContext } from "./context.js";
import { commonFields, ownerFromMetadata } from "./context.js";
import { nameFor } from "./fetch.js";
import type { ExportedResource, Owner } from "./types.js";

type Obj = Record<string, unknown>;

/** The spec name a credential wants (ownership name, else a slug of its display name, its server's host, ...). */
export function credentialWantedName(credential: ApiObject): { name: string; owner: Owner | null } {
  const auth = (credential.auth ?? {}) as Obj;
  let label = typeof credential.display_name === "string" ? credential.display_name : "";
  if (label === "" && typeof auth.mcp_server_url === "string") {
    try {
      label = new URL(auth.mcp_server_url).hostname;
    } catch {
      label = auth.mcp_server_url;
    }
  }
  if (label === "" && typeof auth.secret_name === "string") label = auth.secret_name;
  return nameFor(credential, label, "credential");
}

/** `toolset: NAME` when a toolset has exactly this URL, else `mcp_server_url: URL`. */
function serverRef(url: string, ctx: ExportContext): Obj {
  const toolset = ctx.toolsets.byUrl(url);
  return toolset === undefined ? { mcp_server_url: url } : { toolset };
}

/** `auth` as the spec writes it, with secrets as fresh references (see module comment). */
function authSpec(auth: Obj, parts: readonly string[], address: string, ctx: ExportContext): Obj {
  const secret = (suffix: string, field: string) => ctx.secretRef([...parts, suffix], address, field);
  switch (auth.type) {
    case "static_bearer":
      return {
        type: "static_bearer",
        ...serverRef(String(auth.mcp_server_url), ctx),
        token: secret("token", "auth.token"),
      };
    case "mcp_oauth": {
      const out: Obj = {
        type: "mcp_oauth",
        ...serverRef(String(auth.mcp_server_url), ctx),
        access_token: secret("access_token", "auth.access_token"),
      };
      if (typeof auth.expires_at === "string") out.expires_at = auth.expires_at;
      const refresh = auth.refresh as Obj | null | undefined;
      if (refresh) {
        const endpointAuth = (refresh.token_endpoint_auth ?? { type: "none" }) as Obj;
        out.refresh = {
          client_id: refresh.client_id,
          refresh_token: secret("refresh_token", "auth.refresh.refresh_token"),
          token_endpoint: refresh.token_endpoint,
          token_endpoint_auth:
            endpointAuth.type === "none"
              ? { type: "none" }
              : {
                  type: endpointAuth.type,
                  client_secret: secret("client_secret", "auth.refresh.token_endpoint_auth.client_secret"),
                },
          ...(typeof refresh.scope === "string" ? { scope: refresh.scope } : {}),
          ...(typeof refresh.resource === "string" ? { resource: refresh.resource } : {}),
        };
      }
      return out;
    }
    case "environment_variable": {
      const net = (auth.networking ?? { type: "unrestricted" }) as Obj;
      const location = (auth.injection_location ?? {}) as Obj;
      const injection: Obj = {};
      if (location.header === false) injection.header = false;
      if (location.body === true) injection.body = true;
      return {
        type: "environment_variable",
        secret_name: auth.secret_name,
        secret_value: secret("secret_value", "auth.secret_value"),
        networking:
          net.type === "limited"
            ? { type: "limited", allowed_hosts: [...((net.allowed_hosts ?? []) as string[])] }
            : { type: net.type },
        ...(Object.keys(injection).length > 0 ? { injection_location: injection } : {}),
      };
    }
    default:
      return { type: auth.type };
  }
}

/**
 * The `credentials:` entry for one live credential of the vault spec `vault`, named `name`, and the resource it
 * stands for (`credential.VAULT/NAME`).
 */
export function credentialSpec(
  credential: ApiObject,
  vault: string,
  name: string,
  ctx: ExportContext,
): { entry: Obj; resource: ExportedResource } {
  const address = `credential.${vault}/${name}`;
  const entry: Obj = { name };
  if (typeof credential.display_name === "string" && credential.display_name !== "") {
    if (credential.display_name !== name) entry.display_name = credential.display_name;
  } else {
    ctx.warn(
      `${address}: the credential has no display_name; a spec's display_name defaults to its name, so apply sets it to "${name}"`,
    );
  }
  Object.assign(entry, commonFields(credential.metadata, false, address, ctx));
  const auth = (credential.auth ?? {}) as Obj;
  if (!["static_bearer", "mcp_oauth", "environment_variable"].includes(String(auth.type))) {
    ctx.warn(
      `${address}: auth type "${String(auth.type)}" is not supported by the Vault spec; validate will refuse it`,
    );
  }
  entry.auth = authSpec(auth, [vault, name], address, ctx);
  return { entry, resource: { address, id: credential.id, owner: ownerFromMetadata(credential.metadata) } };
}
