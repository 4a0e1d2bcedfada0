/**
 * The `tunnel` provider: `Tunnel` specs ↔ `/v1/tunnels` (SDK `client.beta.tunnels`, types `TunnelCreateParams`,
 * `BetaTunnel`, `BetaTunnelToken`; beta `mcp-tunnels-2026-06-22`, which each SDK method sends).
 *
 * A tunnel has a `display_name`, an API-assigned `domain`, and nothing else a spec controls: no metadata, no update,
 * no delete. So (docs/adr/0022-tunnel-identity.md):
 * - ownership lives in the display name the API stores: the spec's display name followed by the tag
 *   ` [reconcile:<stack>/<name>]` (`tunnelDisplayName`, `parseTunnelDisplayName`); `metadataOf` turns the tag into
 *   the ownership keys the engine reads, and `recordsOwnership` is false (an adopted tunnel keeps its console name;
 *   its `adopt:` entry stays in reconcile.yaml);
 * - the comparable state is the display name without the tag, and a change of it is a replacement (`replaceOn`),
 *   which gives the tunnel a new domain; the agents whose toolsets sit behind it are repointed in the same apply;
 * - prune archives (irreversibly: the hostname is retired and the token invalidated).
 *
 * The `domain` is an output (`outputs`), known only once the tunnel exists: an agent's MCP server URL refers to it
 * (`tunnelServerUrlRef`), so a plan shows `(known after apply)` until then.
 *
 * The connector token is a secret: `revealTunnelToken` and `rotateTunnelToken` are the only calls that carry it, and
 * they are made only by `reconcile tunnel token` and `reconcile secrets rotate --tunnels`, never by plan or apply.
 */
import type Anthropic from "@anthropic-ai/sdk";
import type { ResolvedMcpToolset, ResolvedTunnel, ToolsetTunnel } from "../spec/types.js";
import { archiveObject, listObjects, readObject, sendRequest, writeObject } from "./client.js";
import { OWNERSHIP_KEYS, ownershipMetadata } from "./ownership.js";
import { type OutputRef, outputRef } from "./refs.js";
import { addressOf, desiredResource } from "./resource.js";
import { compileShape, DOMAIN_PATTERN, UnexpectedResponseError } from "./response.js";
import type { ApiObject, ComparableState, Json, Provider } from "./types.js";

/** The longest display name a spec may give (the schema's limit): room for the tag within the API's 255. */
export const MAX_TUNNEL_DISPLAY_NAME = 100;

const TAG = /^(.*) \[reconcile:([a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)\/([a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?)\]$/s;

/**
 * The display name reconcile gives a tunnel in the API: `<display_name> [reconcile:<stack>/<name>]` (at most 100 +
 * 141 characters, within the API's 255). The spec's display name may hold no brackets (schema), so the tag is
 * always the last bracketed part.
 */
export function tunnelDisplayName(displayName: string, stack: string, name: string): string {
  return `${displayName} [reconcile:${stack}/${name}]`;
}

/**
 * Reads an API display name: the part a spec controls, and the owner when the tag is there (else null: a tunnel made
 * in the console, or by something else). `null` display names (SDK: "Null if unset") read as no name, no owner.
 */
export function parseTunnelDisplayName(value: unknown): {
  display_name: string | null;
  owner: { stack: string; name: string } | null;
} {
  if (typeof value !== "string") return { display_name: null, owner: null };
  const match = TAG.exec(value);
  if (!match) return { display_name: value, owner: null };
  return { display_name: match[1] ?? "", owner: { stack: match[2] ?? "", name: match[3] ?? "" } };
}

/**
 * The URL of an MCP server behind a tunnel: `https://<host>.<domain><path>`. The SDK says of `BetaTunnel.domain`:
 * "MCP server URLs whose host is a subdomain of this value are routed through the tunnel"; the scheme (`https`) and
 * the path's place are assumed (docs/api-notes.md, "Tunnels"). The one place this form is built.
 */
export function tunnelServerUrl(tunnel: ToolsetTunnel, domain: string): string {
  const wrap = tunnelUrlWrap(tunnel);
  return `${wrap.prefix}${domain}${wrap.suffix}`;
}

/**
 * The URL an agent's `mcp_servers[]` entry gets for `toolset`: its `url`, or for a server behind a tunnel a reference
 * to the tunnel's `domain` wrapped as `tunnelServerUrl` builds it, resolved by the engine (`(known after apply)` until
 * the tunnel exists; docs/adr/0024).
 * @throws Error for a toolset with neither (resolve never makes one)
 */
export function toolsetServerUrl(toolset: ResolvedMcpToolset): string | OutputRef {
  if (toolset.url !== null) return toolset.url;
  if (!toolset.tunnel) throw new Error(`toolset ${toolset.name} has neither url nor tunnel`);
  return outputRef(addressOf("tunnel", toolset.tunnel.name), "domain", tunnelUrlWrap(toolset.tunnel));
}

/**
 * `toolsets` with each `url` as `toolsetServerUrl` gives it, for the provider-private spec of a resource that sends
 * them (an agent's `mcp_servers`): the engine replaces the references with URLs before create and update, so the
 * params built from the spec then hold strings, as the type says.
 */
export function toolsetsWithServerUrls(toolsets: readonly ResolvedMcpToolset[]): ResolvedMcpToolset[] {
  return toolsets.map((t) => (t.url !== null ? t : { ...t, url: toolsetServerUrl(t) as unknown as string }));
}

/** What goes around the domain in `tunnelServerUrl`: `https://<host>.` before, the path after. */
export function tunnelUrlWrap(tunnel: ToolsetTunnel): { prefix: string; suffix: string } {
  return { prefix: `https://${tunnel.host}.`, suffix: tunnel.path };
}

/** The comparable state of a tunnel, from a resolved spec or a `BetaTunnel`: its display name without the tag. */
export function tunnelState(displayName: unknown): ComparableState {
  return { display_name: parseTunnelDisplayName(displayName).display_name };
}

/** The ownership keys a live tunnel's tag stands for (`ownershipMetadata`), or undefined without a tag. */
export function tunnelMetadata(object: ApiObject): Record<string, string> | undefined {
  const { owner } = parseTunnelDisplayName(object.display_name);
  return owner ? ownershipMetadata(owner.stack, owner.name) : undefined;
}

/** A tunnel's connector token as the API answers reveal and rotate (SDK `BetaTunnelToken`). */
export interface TunnelToken {
  id: string;
  /** The secret. Printable ASCII without spaces (checked), so printing it cannot drive a terminal. */
  tunnel_token: string;
  type: "tunnel_token";
}

const validateToken = compileShape({
  type: "object",
  required: ["id", "tunnel_token", "type"],
  properties: {
    id: { type: "string", pattern: "^[\\x21-\\x7e]{1,256}$" },
    tunnel_token: { type: "string", pattern: "^[\\x21-\\x7e]{1,8192}$" },
    type: { const: "tunnel_token" },
  },
});

/**
 * Reveals the connector token of tunnel `id` (`POST /v1/tunnels/{id}/reveal_token`; SDK: "Repeated calls return the
 * same value until the token is rotated"). Retried like a read (it changes nothing). The answer is checked without
 * quoting it in any message.
 * @throws the SDK's `APIError` (404, 409 for an archived tunnel in the emulator), or the request layer's errors
 */
export async function revealTunnelToken(client: Anthropic, id: string): Promise<TunnelToken> {
  return (await sendRequest(client, (o) => client.beta.tunnels.revealToken(id, {}, o), {
    request: `POST /v1/tunnels/${id}/reveal_token`,
    shape: { kind: "custom", what: "a tunnel token", validate: validateToken },
    retry: true,
    secret: true,
  })) as unknown as TunnelToken;
}

/**
 * Rotates the connector token of tunnel `id` (`POST /v1/tunnels/{id}/rotate_token`; SDK: "invalidates the current
 * token for new connections and returns a fresh value; established connections are not severed"). One attempt, not
 * retried: a lost answer may have rotated already, and a second rotation would invalidate the token the first made.
 * @param reason recorded by the API for audit (`TunnelRotateTokenParams.reason`)
 * @throws the SDK's `APIError`, or the request layer's errors
 */
export async function rotateTunnelToken(client: Anthropic, id: string, reason: string): Promise<TunnelToken> {
  return (await sendRequest(client, (o) => client.beta.tunnels.rotateToken(id, { reason }, o), {
    request: `POST /v1/tunnels/${id}/rotate_token`,
    shape: { kind: "custom", what: "a tunnel token", validate: validateToken },
    retry: false,
    secret: true,
  })) as unknown as TunnelToken;
}

/** A checked `domain` of a tunnel object. @throws UnexpectedResponseError when it is not a DNS name. */
function domainOf(object: ApiObject, request: string): string {
  const domain = object.domain;
  if (typeof domain !== "string" || !new RegExp(DOMAIN_PATTERN).test(domain)) {
    throw new UnexpectedResponseError(request, "not a tunnel: its domain is missing or not a DNS name");
  }
  return domain;
}

/** The tunnel provider (see the module comment). */
export const tunnelProvider: Provider = {
  type: "tunnel",
  replaceOrder: "create-first",
  replaceOn: ["display_name"],
  recordsOwnership: false,
  outputsChangedByUpdate: [],
  metadataOf: tunnelMetadata,
  outputs: (object): Record<string, Json> => (typeof object.domain === "string" ? { domain: object.domain } : {}),
  desired(specs) {
    return (specs.tunnels ?? []).map((spec) =>
      desiredResource({
        type: "tunnel",
        name: spec.name,
        previousNames: spec.previous_names,
        state: tunnelState(spec.display_name),
        protect: spec.protect,
        source: spec.source,
        spec,
      }),
    );
  },
  list: (client, _parentId, onPage) =>
    listObjects(client, "tunnel", "/v1/tunnels", (query, o) => client.beta.tunnels.list(query, o), onPage),
  retrieve: (client, id) =>
    readObject(client, "tunnel", `GET /v1/tunnels/${id}`, (o) => client.beta.tunnels.retrieve(id, {}, o)),
  state: (object) => tunnelState(object.display_name),
  async create(client, desired, ctx, ownership) {
    const spec = desired.spec as ResolvedTunnel;
    const name = ownership[OWNERSHIP_KEYS.name] ?? desired.name;
    const stack = ownership[OWNERSHIP_KEYS.stack] ?? ctx.stack;
    const tunnel = await writeObject(client, "tunnel", "POST /v1/tunnels", (o) =>
      client.beta.tunnels.create({ display_name: tunnelDisplayName(spec.display_name, stack, name) }, o),
    );
    return { id: tunnel.id, outputs: { domain: domainOf(tunnel, "POST /v1/tunnels") } };
  },
  async update(_client, desired) {
    // Every field of the state is in `replaceOn`, and the engine writes no ownership to this kind: a bug if reached.
    throw new Error(`${desired.address}: the API cannot update a tunnel; its changes are replacements`);
  },
  async archive(client, live) {
    await archiveObject(client, "tunnel", `POST /v1/tunnels/${live.id}/archive`, (o) =>
      client.beta.tunnels.archive(live.id, {}, o),
    );
  },
};
