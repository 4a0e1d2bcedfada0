/**
 * Tunnels → `Tunnel` specs: a `BetaTunnel` (SDK `client.beta.tunnels`) becomes the spec whose `tunnelState` (the API
 * display name without reconcile's tag, `providers/tunnel.ts`) is the live one. A tunnel has nothing else a spec
 * controls (docs/adr/0022-tunnel-identity.md): ownership is the tag, read through `Provider.metadataOf`; a console
 * tunnel gets a name from its display name and an `adopt:` entry, which stays (the tag cannot be written later).
 * `display_name` is written when it is not the spec name. The domain is the API's: it is not a spec field, and the
 * connector token is never read.
 */
import type Anthropic from "@anthropic-ai/sdk";
import { MAX_TUNNEL_DISPLAY_NAME, parseTunnelDisplayName } from "../tunnel.js";
import type { ApiObject } from "../types.js";
import type { ExportContext } from "./context.js";
import { ownerFromMetadata } from "./context.js";
import { fetchLive, nameFor } from "./fetch.js";
import type { ExportedSpec, LiveItem, ResourceExporter, SpecDocument } from "./types.js";

/** What the Tunnel schema refuses in a display name: brackets (the tag's) and control characters. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
const REFUSED = /[[\]\u0000-\u001f\u007f-\u009f]/;

/** The spec for one live tunnel (see the module comment). */
function tunnelSpec(tunnel: ApiObject, name: string, ctx: ExportContext): ExportedSpec {
  const address = `tunnel.${name}`;
  const display = parseTunnelDisplayName(tunnel.display_name).display_name;
  const doc: SpecDocument = { apiVersion: "reconcile/v1", kind: "Tunnel", name };
  if (display === null || display === "") {
    ctx.warn(
      `${address}: the tunnel has no display name, which a spec cannot say (it defaults to the spec name); the next plan replaces the tunnel, giving it a new domain: review before applying`,
    );
  } else {
    if (display !== name) doc.display_name = display;
    if (display.length > MAX_TUNNEL_DISPLAY_NAME || REFUSED.test(display)) {
      ctx.warn(
        `${address}: its display name ${JSON.stringify(display.slice(0, 120))} is not a spec display_name (at most ${MAX_TUNNEL_DISPLAY_NAME} characters, no brackets or control characters), so validate refuses the spec; a new display name would replace the tunnel`,
      );
    }
  }
  return { document: doc, resources: [{ address, id: tunnel.id, owner: ownerFromMetadata(tunnel.metadata) }] };
}

/** The `Tunnel` exporter (`tnl_` ids). */
export const tunnelExporter: ResourceExporter = {
  kind: "Tunnel",
  type: "tunnel",
  idPrefixes: ["tnl_"],
  async fetch(client: Anthropic, ids, ctx) {
    return (await fetchLive(client, "tunnel", ids, ctx)).map((object) => ({ object, children: [] }));
  },
  wantedName: (item: LiveItem) =>
    nameFor(item.object, parseTunnelDisplayName(item.object.display_name).display_name ?? "", "tunnel"),
  toSpec: (item, name, ctx) => tunnelSpec(item.object, name, ctx),
};
