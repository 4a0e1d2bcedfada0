import { randomBytes } from "node:crypto";
import type { BetaTunnel, BetaTunnelToken } from "@anthropic-ai/sdk/resources/beta/tunnels/tunnels.js";
import { ApiError } from "./errors.js";
import { newId } from "./ids.js";
import { SimpleResource } from "./resource.js";
import type { TunnelRecord, Workspace } from "./store.js";
import { obj, onlyKeys, required, str } from "./validate.js";

/**
 * MCP tunnels (`/v1/tunnels`, SDK 1.11 `client.beta.tunnels`): create, retrieve, list, archive, reveal_token,
 * rotate_token. Request shapes: SDK `TunnelCreateParams`, `TunnelListParams`, `TunnelRotateTokenParams`; responses:
 * `BetaTunnel`, `BetaTunnelToken`. Every route needs the beta `mcp-tunnels-2026-06-22` (each SDK method adds it).
 *
 * Rules, from the SDK's doc comments (`resources/beta/tunnels/tunnels.d.ts`):
 * - create "allocates a fresh hostname" (`domain`), "Globally unique and never reused, even after the tunnel is
 *   archived"; `display_name` is optional, 1-255 characters, null when unset. There is no update and no delete.
 * - list: "ordered by creation time, newest first; archived tunnels are excluded unless include_archived is set".
 * - archive: "irreversible ... the hostname is retired and never re-allocated, and the tunnel token is invalidated.
 *   Retrying against an already-archived tunnel returns the existing record unchanged."
 * - reveal_token: "Repeated calls return the same value until the token is rotated" (a POST that changes nothing).
 * - rotate_token: "invalidates the current token for new connections and returns a fresh value"; optional `reason`.
 *
 * Not emulated: certificates (`/v1/tunnels/{id}/certificates`), and MCP traffic itself (the emulator reaches no MCP
 * server). Assumed, for want of a source: the domain's form (`<12 hex>.tunnels.emulator.test`), the token id prefix
 * `tnltok_`, and the answer to reveal/rotate on an archived tunnel (409 `conflict_error`).
 *
 * The connector token is a secret. The emulator never stores it: the value is derived from the store's key (which
 * lives beside the state file, not in it) and the token's id, and the record keeps only the id and a keyed digest of
 * the value (`Store.sealSecret`, as for credential secrets, docs/adr/0012-safe-rendering.md). No response other
 * than reveal and rotate, no log line and no error message carries it.
 */

/** The beta every tunnels route requires (SDK 1.11 `resources/beta/tunnels/*.js`). */
export const TUNNELS_BETA = "mcp-tunnels-2026-06-22";

/** The parent domain of every emulated tunnel's `domain` (RFC 6761 reserves `.test`). */
export const EMULATED_TUNNEL_PARENT = "tunnels.emulator.test";

/** The longest token a test hook accepts (a real connector token is far shorter). */
const TOKEN_MAX = 4096;

/** The token value of token `tokenId` of tunnel `tunnelId`: a keyed derivation, never stored. */
function tokenValue(ws: Workspace, tunnelId: string, tokenId: string): string {
  const derived = ws.sealSecret(`tunnel-token\u0000${tunnelId}\u0000${tokenId}`);
  return `emu_tnl_${derived.slice(derived.indexOf(":") + 1)}`;
}

/** A fresh token for `tunnelId`: its record (id and digest) and its value. */
function newToken(ws: Workspace, tunnelId: string): { record: { id: string; digest: string }; value: string } {
  const id = newId("tnltok");
  const value = tokenValue(ws, tunnelId, id);
  return { record: { id, digest: ws.sealSecret(value) }, value };
}

/** A `domain` no tunnel of `ws` has had (archived ones included). */
function freshDomain(ws: Workspace): string {
  const taken = new Set([...ws.tunnels.values()].map((r) => r.tunnel.domain));
  for (;;) {
    const domain = `${randomBytes(6).toString("hex")}.${EMULATED_TUNNEL_PARENT}`;
    if (!taken.has(domain)) return domain;
  }
}

/** A 409 for a token operation on an archived tunnel (its token was invalidated by the archive). */
function archivedTunnel(id: string): ApiError {
  return new ApiError(409, "conflict_error", `tunnel '${id}' is archived: its token was invalidated`);
}

/**
 * Tunnels (`/v1/tunnels`, beta `mcp-tunnels-2026-06-22`), with the rules of the module comment: create takes an
 * optional `display_name` (1-255 characters, null when unset) and allocates a fresh `domain` and connector token;
 * no update, no delete, no `updated_at`; archive drops the token (SDK `archive`: "the tunnel token is
 * invalidated"); the list has no `created_at` bounds (`TunnelListParams`).
 */
export const TUNNELS = new SimpleResource<BetaTunnel, TunnelRecord>({
  noun: "tunnel",
  type: "tunnel",
  idPrefix: "tnl",
  collection: "tunnels",
  beta: TUNNELS_BETA,
  fields: ["display_name"],
  updatedAt: false,
  records: (ws) => ws.tunnels,
  object: (rec) => rec.tunnel,
  build: (o, _id, ws) => ({
    display_name:
      o.display_name === undefined || o.display_name === null
        ? null
        : str(o.display_name, "display_name", { min: 1, max: 255 }),
    domain: freshDomain(ws),
  }),
  toRecord: (tunnel, ws) => ({ tunnel, token: newToken(ws, tunnel.id).record }),
  archived: (rec, now) => ({ tunnel: { ...rec.tunnel, archived_at: now }, token: null }),
});

function getRecord(ws: Workspace, id: string): TunnelRecord {
  return TUNNELS.get(ws, id);
}

/** The current connector token (`POST /v1/tunnels/:id/reveal_token`); changes nothing. @throws 404, 409 archived. */
export function revealTunnelToken(ws: Workspace, id: string): BetaTunnelToken {
  const rec = getRecord(ws, id);
  if (rec.token === null) throw archivedTunnel(id);
  return { type: "tunnel_token", id: rec.token.id, tunnel_token: tokenValue(ws, id, rec.token.id) };
}

/**
 * Replaces the connector token (`POST /v1/tunnels/:id/rotate_token`, body `{reason?}`); the old one is refused from
 * then on. `reason` (up to 1024 characters, assumed) is accepted and not kept. @throws 400, 404, 409 archived.
 */
export function rotateTunnelToken(ws: Workspace, id: string, body: unknown): BetaTunnelToken {
  const rec = getRecord(ws, id);
  const o = obj(body ?? {}, "");
  onlyKeys(o, ["reason"], "");
  if (o.reason !== undefined && o.reason !== null) str(o.reason, "reason", { max: 1024 });
  if (rec.token === null) throw archivedTunnel(id);
  const token = newToken(ws, id);
  ws.tunnels.set(id, { tunnel: rec.tunnel, token: token.record });
  return { type: "tunnel_token", id: token.record.id, tunnel_token: token.value };
}

/**
 * Emulator-only test hook (`POST /_emulator/tunnels/:id/token_valid`, body `{tunnel_token}`): whether a connector
 * presenting this token would be let in now (the current, unrotated token of an unarchived tunnel). Compares keyed
 * digests; answers `{valid}` only, never a value or a digest. @throws 400, 404.
 */
export function tunnelTokenValid(ws: Workspace, id: string, body: unknown): { valid: boolean } {
  const rec = getRecord(ws, id);
  const o = obj(body, "");
  onlyKeys(o, ["tunnel_token"], "");
  const token = str(required(o, "tunnel_token", ""), "tunnel_token", { min: 1, max: TOKEN_MAX });
  return { valid: rec.token !== null && rec.token.digest === ws.sealSecret(token) };
}
