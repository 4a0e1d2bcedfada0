import type {
  BetaCloudConfig,
  BetaEnvironment,
  BetaPackages,
} from "@anthropic-ai/sdk/resources/beta/environments/environments.js";
import {
  DEFAULT_ENVIRONMENT_SCOPE,
  defaultEnvironmentConfig,
  defaultLimitedNetwork,
  defaultPackages,
} from "./defaults.js";
import { badRequest, conflict } from "./errors.js";
import { applyMetadataPatch, createdMetadata, type MetadataPatchRule } from "./metadata.js";
import { SimpleResource } from "./resource.js";
import { at, bool, clone, fieldError, has, obj, oneOf, onlyKeys, required, str, strArr, tag } from "./validate.js";

/**
 * Environments (`/v1/environments`): create, retrieve, update, list, archive, delete.
 * Request shapes: SDK `EnvironmentCreateParams` / `EnvironmentUpdateParams`; response: `BetaEnvironment`.
 *
 * `config` on update follows the SDK's documented semantics (`BetaCloudConfigParams`: "on update, omitted fields
 * preserve the existing value"): a sent `config` replaces `networking` / `packages` only where it sends them; a
 * `limited` network sent over a stored `limited` one keeps the fields it omits; `null` resets a part to its default.
 * Changing `config.type` is refused with `invalid_config_type_change` (→ `BetaInvalidConfigTypeChangeError`).
 *
 * Deleting is refused with a 409 while sessions (archived ones included) still reference the environment
 * (API-NOTES "Environments"); archiving is always allowed, and an archived environment starts no new sessions.
 */

type Environment = BetaEnvironment;
type Config = Environment["config"];
type Networking = BetaCloudConfig["networking"];

const FIELDS = ["name", "config", "description", "metadata", "scope"] as const;
const PACKAGE_MANAGERS = ["apt", "cargo", "gem", "go", "npm", "pip"] as const;
const HOST = /^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

function sortStrings(list: string[]): string[] {
  return [...list].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function parseHosts(v: unknown, path: string): string[] {
  const hosts = strArr(v, path);
  hosts.forEach((h, i) => {
    if (!HOST.test(h))
      throw fieldError(at(path, i), "Input should be a hostname such as 'api.example.com' (no scheme, port or path)");
  });
  return sortStrings(hosts);
}

function parseNetworking(v: unknown, path: string, stored: Networking | undefined): Networking {
  if (v === undefined) return stored ? clone(stored) : { type: "unrestricted" };
  if (v === null) return { type: "unrestricted" };
  const o = obj(v, path);
  const type = tag(o, path, ["unrestricted", "limited"] as const);
  if (type === "unrestricted") {
    onlyKeys(o, ["type"], path);
    return { type };
  }
  onlyKeys(o, ["type", "allowed_hosts", "allow_mcp_servers", "allow_package_managers"], path);
  const base = stored?.type === "limited" ? stored : defaultLimitedNetwork();
  const defaults = defaultLimitedNetwork();
  const pick = <K extends "allowed_hosts" | "allow_mcp_servers" | "allow_package_managers">(
    k: K,
    parse: (x: unknown, p: string) => (typeof base)[K],
  ): (typeof base)[K] => (o[k] === undefined ? clone(base[k]) : o[k] === null ? defaults[k] : parse(o[k], at(path, k)));
  return {
    type,
    allowed_hosts: pick("allowed_hosts", parseHosts),
    allow_mcp_servers: pick("allow_mcp_servers", bool),
    allow_package_managers: pick("allow_package_managers", bool),
  };
}

function parsePackages(v: unknown, path: string, stored: BetaPackages | undefined): BetaPackages {
  if (v === undefined) return stored ? clone(stored) : defaultPackages();
  if (v === null) return defaultPackages();
  const o = obj(v, path);
  onlyKeys(o, ["type", ...PACKAGE_MANAGERS], path);
  if (has(o, "type")) oneOf(o.type, at(path, "type"), ["packages"] as const);
  const out = defaultPackages();
  for (const pm of PACKAGE_MANAGERS) {
    if (o[pm] !== undefined && o[pm] !== null) out[pm] = sortStrings(strArr(o[pm], at(path, pm)));
  }
  return out;
}

/**
 * `config` with defaults (see `defaults.ts`), merged over `stored` on update.
 * @throws 400 `invalid_config_type_change` when `config.type` differs from the stored type; 400 when packages are
 * requested under `limited` networking without `allow_package_managers`.
 */
function parseConfig(v: unknown, stored: Config | undefined): Config {
  const path = "config";
  if (v === undefined || v === null) return stored ? clone(stored) : defaultEnvironmentConfig();
  const o = obj(v, path);
  const type = tag(o, path, ["cloud", "self_hosted"] as const);
  if (stored && stored.type !== type) {
    throw fieldError(
      at(path, "type"),
      `cannot change the environment config type from '${stored.type}' to '${type}'; create a new environment instead`,
      "invalid_config_type_change",
    );
  }
  if (type === "self_hosted") {
    onlyKeys(o, ["type"], path);
    return { type };
  }
  onlyKeys(o, ["type", "networking", "packages"], path);
  const storedCloud = stored?.type === "cloud" ? stored : undefined;
  const networking = parseNetworking(o.networking, at(path, "networking"), storedCloud?.networking);
  const packages = parsePackages(o.packages, at(path, "packages"), storedCloud?.packages);
  const anyPackages = PACKAGE_MANAGERS.some((pm) => packages[pm].length > 0);
  if (networking.type === "limited" && !networking.allow_package_managers && anyPackages) {
    throw fieldError(
      at(path, "packages"),
      "packages require config.networking.allow_package_managers to be true under limited networking",
    );
  }
  return { type, networking, packages };
}

function parseScope(v: unknown): "organization" {
  if (v === undefined || v === null) return DEFAULT_ENVIRONMENT_SCOPE;
  const scope = oneOf(v, "scope", ["organization", "account"] as const);
  if (scope === "account") throw fieldError("scope", "'account' scope is not supported for API organizations");
  return scope;
}

function parseDescription(v: unknown): string | null {
  return v === null ? null : str(v, "description", { max: 2048 });
}

/** `EnvironmentUpdateParams.metadata`: `null` or `""` deletes a key; the field itself is not nullable. */
const ENVIRONMENT_METADATA: MetadataPatchRule = { emptyStringDeletes: true, nullKeeps: false };

/**
 * Environments (`/v1/environments`), with the rules of the module comment:
 * - create fills the defaults (`defaults.ts`).
 * - update: `description` `null` clears, `""` is stored as `""`; `metadata` per-key patch where `null` or `""`
 *   deletes; `name` `null` keeps the current name; an archived environment is a 400 `environment_archived` (the
 *   SDK's `BetaEnvironmentArchivedError`: "The environment is archived, so it cannot be updated").
 * - delete is a 409 while sessions (archived ones included) reference the environment.
 */
export const ENVIRONMENTS = new SimpleResource<Environment>({
  noun: "environment",
  type: "environment",
  idPrefix: "env",
  collection: "environments",
  fields: FIELDS,
  deletable: true,
  records: (ws) => ws.environments,
  build: (o) => ({
    name: str(required(o, "name", ""), "name", { min: 1, max: 256 }),
    description: o.description === undefined ? null : parseDescription(o.description),
    config: parseConfig(o.config, undefined),
    metadata: createdMetadata(o),
    scope: parseScope(o.scope),
  }),
  apply: (o, next, cur) => {
    if (o.name !== undefined && o.name !== null) next.name = str(o.name, "name", { min: 1, max: 256 });
    if (has(o, "description")) next.description = parseDescription(o.description);
    if (has(o, "config")) next.config = parseConfig(o.config, cur.config);
    applyMetadataPatch(o, next, cur.metadata, ENVIRONMENT_METADATA);
    if (has(o, "scope")) next.scope = parseScope(o.scope);
  },
  archivedUpdate: (id) => badRequest(`environment '${id}' is archived and cannot be updated`, "environment_archived"),
  beforeDelete: (ws, id) => {
    const users = [...ws.sessions.values()].filter((r) => r.session.environment_id === id).map((r) => r.session.id);
    if (users.length > 0) {
      throw conflict(
        `environment '${id}' is used by ${users.length} session(s) (${users.slice(0, 3).join(", ")}${users.length > 3 ? ", …" : ""}); delete those sessions first, or archive the environment instead`,
      );
    }
  },
});
