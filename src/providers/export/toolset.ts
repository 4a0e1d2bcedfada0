/**
 * MCP toolsets from agents: an agent's `mcp_servers[]` entry (SDK `BetaManagedAgentsMCPServerURLDefinition`) and
 * the `mcp_toolset` tool that names it (SDK `BetaManagedAgentsMCPToolset`) become one `McpToolset` spec, the
 * inverse of `mcpToolsetParam` in `providers/agent.ts`:
 *
 * - `default_config.enabled: false` with enabled `configs[]` → an allowlist `tools: [{name, permission_policy}]`,
 *   `default_permission_policy` from `default_config` (written only when it is not `always_ask`);
 * - `default_config.enabled: true` and no `configs` → no `tools:` (every tool allowed), `default_permission_policy`.
 *
 * Agents with the same server name, URL and tool configuration share one toolset; the same server name with another
 * configuration gets its own toolset (`name-2`, with `server_name:` set). A toolset already in the repository with
 * exactly that configuration is reused instead of written again.
 *
 * A URL that `tunnelServerUrl` (`providers/tunnel.ts`) builds from a tunnel exported in the same run, exactly, is
 * written as `tunnel:` + `host:` (+ `path:`) instead of `url:` (`tunnelForm`); anything else keeps `url:`.
 */
import type { PermissionPolicyType, ResolvedMcpToolset, ToolsetTool, ToolsetTunnel } from "../../spec/types.js";
import { policyName } from "../comparable.js";
import { tunnelServerUrl } from "../tunnel.js";
import { isSpecName, NameBook, slug } from "./naming.js";
import type { SpecDocument } from "./types.js";

type Obj = Record<string, unknown>;

/** The server default of an MCP toolset's permission policy (API-NOTES "Agents"; `providers/agent.ts`). */
const MCP_DEFAULT_POLICY: PermissionPolicyType = "always_ask";

/** The tool configuration of a toolset, in the resolved spec's terms (`ResolvedMcpToolset` without names). */
export interface ToolsetBody {
  /** The allowlist, sorted by name; null allows every tool of the server. */
  tools: ToolsetTool[] | null;
  default_permission_policy: PermissionPolicyType;
}

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * The toolset configuration an `mcp_toolset` tool expresses, or null when it allows no tool at all (an empty
 * allowlist, which a spec cannot say). `where` names the tool in warnings. What a spec cannot express exactly is
 * reported through `warn` (the next plan shows it as a change):
 * - per-tool entries under an enabled default (a denylist or per-tool policies): dropped, every tool allowed;
 * - disabled entries under a disabled default: dropped (they change nothing).
 */
export function toolsetBody(tool: Obj | undefined, where: string, warn: (message: string) => void): ToolsetBody | null {
  const defaults = (tool?.default_config ?? {}) as Obj;
  const enabled = typeof defaults.enabled === "boolean" ? defaults.enabled : true;
  const policy = (policyName(defaults.permission_policy) ?? MCP_DEFAULT_POLICY) as PermissionPolicyType;
  const configs = ((tool?.configs ?? []) as Obj[]).map((config) => ({
    name: String(config.name),
    enabled: typeof config.enabled === "boolean" ? config.enabled : enabled,
    permission_policy: (policyName(config.permission_policy) ?? policy) as PermissionPolicyType,
  }));
  if (enabled) {
    if (configs.length > 0) {
      const names = configs.map((c) => c.name).join(", ");
      warn(
        `${where}: per-tool settings under an enabled default (${names}) cannot be written in an McpToolset spec; exported as "every tool allowed with ${policy}", so the next plan shows them removed (review before applying: a disabled tool would become allowed)`,
      );
    }
    return { tools: null, default_permission_policy: policy };
  }
  const allowed = configs.filter((c) => c.enabled);
  const disabled = configs.filter((c) => !c.enabled);
  if (disabled.length > 0) {
    warn(
      `${where}: entries for disabled tools (${disabled.map((c) => c.name).join(", ")}) are left out of the allowlist; they change nothing, but the next plan shows them removed`,
    );
  }
  if (allowed.length === 0) {
    warn(`${where}: no tool of this MCP server is enabled; the toolset is left out of the agent`);
    return null;
  }
  return {
    tools: allowed.map((c) => ({ name: c.name, permission_policy: c.permission_policy })).sort(byName),
    default_permission_policy: policy,
  };
}

/** One toolset of the catalog. */
interface Entry {
  name: string;
  server_name: string;
  /** The server's URL; null for a repository toolset behind a tunnel, whose URL depends on the tunnel's domain. */
  url: string | null;
  body: ToolsetBody;
  /** Already declared in the repository: referenced, not written. */
  existing: boolean;
  /** Set when the URL is a tunnel's: the toolset is written with `tunnel`, `host` and `path`. */
  tunnel?: ToolsetTunnel;
}

/** The McpToolset schema's `host`: lower-case DNS labels (schemas/mcp-toolset.schema.json). */
export const TUNNEL_HOST = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
/** The McpToolset schema's `path`: `/` and URL path characters (schemas/mcp-toolset.schema.json). */
export const TUNNEL_PATH = /^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/;

/**
 * The `tunnel`/`host`/`path` form of `url` when it is exactly `https://<host>.<domain><path>` for one of `tunnels`
 * (spec name and live domain), with a host and path the McpToolset schema accepts (at most 128 and 1,024
 * characters), and `tunnelServerUrl` builds `url` back from them; else undefined (the toolset keeps `url:`).
 */
export function tunnelForm(
  url: string,
  tunnels: ReadonlyArray<{ name: string; domain: string }>,
): ToolsetTunnel | undefined {
  const rest = url.startsWith("https://") ? url.slice("https://".length) : undefined;
  if (rest === undefined) return undefined;
  const slash = rest.indexOf("/");
  const authority = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? "" : rest.slice(slash);
  for (const { name, domain } of tunnels) {
    if (!authority.endsWith(`.${domain}`)) continue;
    const host = authority.slice(0, -(domain.length + 1));
    if (host.length > 128 || !TUNNEL_HOST.test(host)) continue;
    if (path !== "" && (path.length > 1024 || !TUNNEL_PATH.test(path))) continue;
    const form = { name, host, path };
    if (tunnelServerUrl(form, domain) === url) return form;
  }
  return undefined;
}

function sameTools(a: ToolsetTool[] | null, b: ToolsetTool[] | null): boolean {
  return (
    JSON.stringify(a === null ? null : [...a].sort(byName)) === JSON.stringify(b === null ? null : [...b].sort(byName))
  );
}

/**
 * True when `entry` is what the server would export as. A server name that is not a spec name cannot be kept, so
 * it matches a toolset named after its slug (`internal-db`, `internal-db-2`, ...) whose server name is that name:
 * exporting again finds the toolset written the first time.
 */
function sameToolset(
  entry: Entry,
  entryUrl: string | null,
  serverName: string,
  url: string,
  body: ToolsetBody,
): boolean {
  const base = slug(serverName, "mcp-server");
  const sameServer = isSpecName(serverName)
    ? entry.server_name === serverName
    : entry.server_name === entry.name && (entry.name === base || new RegExp(`^${base}-\\d+$`).test(entry.name));
  return (
    sameServer &&
    entryUrl === url &&
    entry.body.default_permission_policy === body.default_permission_policy &&
    sameTools(entry.body.tools, body.tools)
  );
}

/** The toolsets of one export run: found or named once per distinct server + configuration (see module comment). */
export class ToolsetCatalog {
  private readonly entries: Entry[] = [];
  private readonly names: NameBook;

  /**
   * @param existing McpToolset specs already in the repository (reused when identical; their names are never
   *   handed out to a different toolset)
   * @param warn receives notes on what cannot be exported exactly
   * @param tunnels the tunnels exported in this run (spec name, live domain), which give the URL of a repository
   *   toolset behind one of them; one behind another tunnel matches no live server
   */
  constructor(
    existing: readonly ResolvedMcpToolset[],
    private readonly warn: (message: string) => void,
    private readonly tunnels: () => ReadonlyArray<{ name: string; domain: string }> = () => [],
  ) {
    this.names = new NameBook(existing.map((t) => t.name));
    for (const t of existing) {
      this.entries.push({
        name: t.name,
        server_name: t.server_name,
        url: t.url,
        body: { tools: t.tools, default_permission_policy: t.default_permission_policy },
        existing: true,
        ...(t.tunnel ? { tunnel: t.tunnel } : {}),
      });
    }
  }

  /** The URL of `entry`: its `url`, or for a repository toolset behind a tunnel exported in this run, the tunnel's. */
  private urlOf(entry: Entry): string | null {
    if (entry.url !== null || !entry.tunnel) return entry.url;
    const tunnel = entry.tunnel;
    const domain = this.tunnels().find((t) => t.name === tunnel.name)?.domain;
    return domain === undefined ? null : tunnelServerUrl(tunnel, domain);
  }

  /**
   * The toolset spec name for MCP server `serverName` at `url` with `body`: an identical toolset found earlier (or
   * in the repository), else a new one named after the server. A server name that is not a valid spec name cannot
   * be kept (`server_name` follows the spec-name rule): warned, and the new name is used.
   */
  use(serverName: string, url: string, body: ToolsetBody, where: string, tunnel?: ToolsetTunnel): string {
    const found = this.entries.find((e) => sameToolset(e, this.urlOf(e), serverName, url, body));
    if (found) return found.name;
    const valid = isSpecName(serverName);
    const name = this.names.claim(valid ? serverName : slug(serverName, "mcp-server"));
    if (!valid) {
      this.warn(
        `${where}: MCP server name "${serverName}" is not a valid spec name (lowercase letters, digits and -); exported as toolset "${name}", and apply renames the server to "${name}"`,
      );
    }
    this.entries.push({
      name,
      server_name: valid ? serverName : name,
      url,
      body,
      existing: false,
      ...(tunnel ? { tunnel } : {}),
    });
    return name;
  }

  /**
   * The name of a toolset whose `url` is exactly `url` (for a credential's `toolset:`), or undefined. Toolsets behind
   * a tunnel are not named: a credential cannot name one (its URL is known only after apply).
   */
  byUrl(url: string): string | undefined {
    return this.entries.find((e) => e.url === url && !e.tunnel)?.name;
  }

  /** The McpToolset spec documents of the toolsets this run created (not those reused from the repository). */
  documents(): Array<{ name: string; document: SpecDocument }> {
    return this.entries
      .filter((e) => !e.existing)
      .map((e) => {
        const document: SpecDocument = { apiVersion: "reconcile/v1", kind: "McpToolset", name: e.name };
        if (e.server_name !== e.name) document.server_name = e.server_name;
        if (e.tunnel) {
          document.tunnel = e.tunnel.name;
          document.host = e.tunnel.host;
          if (e.tunnel.path !== "") document.path = e.tunnel.path;
        } else document.url = e.url ?? "";
        if (e.body.default_permission_policy !== MCP_DEFAULT_POLICY) {
          document.default_permission_policy = e.body.default_permission_policy;
        }
        if (e.body.tools !== null) {
          document.tools = e.body.tools.map((t) => ({ name: t.name, permission_policy: t.permission_policy }));
        }
        return { name: e.name, document };
      });
  }
}
