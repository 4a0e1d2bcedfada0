/**
 * Environments → `Environment` specs: a `BetaEnvironment` (SDK `client.beta.environments`) becomes the spec whose
 * params give back the same `environmentState` (`providers/environment.ts`). `config` (`BetaCloudConfig` |
 * `BetaSelfHostedConfig`) is written without the server's defaults: unrestricted networking, `false` flags and
 * empty host lists of limited networking, empty package lists and the `type: packages` tag. `description`,
 * `metadata` (reserved keys removed) and `protect` as for every kind. Not exported: `scope` (not a spec field).
 */
import type Anthropic from "@anthropic-ai/sdk";
import type { ApiObject } from "../types.js";
import type { ExportContext } from "./context.js";
import { commonFields, ownerFromMetadata } from "./context.js";
import { fetchLive, nameFor } from "./fetch.js";
import type { ExportedSpec, LiveItem, ResourceExporter, SpecDocument } from "./types.js";

type Obj = Record<string, unknown>;

const PACKAGE_MANAGERS = ["apt", "cargo", "gem", "go", "npm", "pip"] as const;

/** `config` as the spec writes it (see module comment). */
export function configSpec(config: unknown): Obj {
  const c = (config ?? { type: "cloud" }) as Obj;
  if (c.type !== "cloud") return { type: c.type };
  const out: Obj = { type: "cloud" };
  const net = (c.networking ?? { type: "unrestricted" }) as Obj;
  if (net.type === "limited") {
    const networking: Obj = { type: "limited" };
    const hosts = (net.allowed_hosts ?? []) as string[];
    if (hosts.length > 0) networking.allowed_hosts = [...hosts];
    if (net.allow_mcp_servers === true) networking.allow_mcp_servers = true;
    if (net.allow_package_managers === true) networking.allow_package_managers = true;
    out.networking = networking;
  } else if (net.type !== "unrestricted") {
    out.networking = { ...net };
  }
  const pkgs = (c.packages ?? {}) as Obj;
  const packages: Obj = {};
  for (const manager of PACKAGE_MANAGERS) {
    const list = (pkgs[manager] ?? []) as string[];
    if (list.length > 0) packages[manager] = [...list];
  }
  if (Object.keys(packages).length > 0) out.packages = packages;
  return out;
}

/** The spec for one live environment (see the module comment). */
function environmentSpec(env: ApiObject, name: string, ctx: ExportContext): ExportedSpec {
  const address = `environment.${name}`;
  const doc: SpecDocument = { apiVersion: "reconcile/v1", kind: "Environment", name };
  if (env.name !== name) {
    ctx.warn(
      `${address}: the environment is named "${String(env.name)}" in the API; the spec name is "${name}", so apply renames it`,
    );
  }
  if (typeof env.description === "string" && env.description !== "") doc.description = env.description;
  doc.config = configSpec(env.config);
  const networking = (doc.config as Obj).networking as Obj | undefined;
  if ((doc.config as Obj).packages && networking?.type === "limited" && networking.allow_package_managers !== true) {
    ctx.warn(
      `${address}: it installs packages under limited networking without allow_package_managers, which a spec refuses; add \`allow_package_managers: true\` or remove the packages`,
    );
  }
  Object.assign(doc, commonFields(env.metadata, true, address, ctx));
  return { document: doc, resources: [{ address, id: env.id, owner: ownerFromMetadata(env.metadata) }] };
}

/** The `Environment` exporter (`env_` ids). */
export const environmentExporter: ResourceExporter = {
  kind: "Environment",
  type: "environment",
  idPrefixes: ["env_"],
  async fetch(client: Anthropic, ids, ctx) {
    return (await fetchLive(client, "environment", ids, ctx)).map((object) => ({ object, children: [] }));
  },
  wantedName: (item: LiveItem) => nameFor(item.object, String(item.object.name), "environment"),
  toSpec: (item, name, ctx) => environmentSpec(item.object, name, ctx),
};
