import type {
  BetaCloudConfig,
  BetaLimitedNetwork,
  BetaPackages,
} from "@anthropic-ai/sdk/resources/beta/environments/environments.js";

/**
 * Every value the emulator fills in on the server side, in one place. A client-side normalizer must mirror this
 * table so that a just-applied spec plans to zero changes (DESIGN "Specs are full desired state").
 *
 * | resource / field | when | becomes |
 * |---|---|---|
 * | agent `description`, `system` | omitted, `null` or `""` | `null` |
 * | agent `skills`, `tools`, `mcp_servers` | omitted or `null` | `[]` |
 * | agent `metadata` | omitted | `{}` |
 * | agent `multiagent` | omitted or `null` | `null` |
 * | agent `execution_identity` | omitted or `null` | `{type:"service_account"}` |
 * | agent `model` | a string `"m"` | `{id:"m", effort:{type:<default>}, speed:"standard"}` (ids, defaults and accepted combinations: `models.ts`) |
 * | agent `model.speed` | omitted or `null` | `"standard"` |
 * | agent `model.effort` | a string `"high"` | `{type:"high"}`; omitted or `null` on create: the model's default (`models.ts`); omitted on update keeps the stored one |
 * | agent `model.inference_geo` | omitted or `null` | omitted |
 * | toolset `default_config` | omitted/`null`, or its fields omitted/`null` | `enabled: true`; `permission_policy` `{type:"always_ask"}` for `mcp_toolset`, `{type:"always_allow"}` for `agent_toolset_20260401` |
 * | toolset `configs` | omitted | `[]` |
 * | toolset `configs[].enabled` / `.permission_policy` | omitted or `null` | the toolset's (filled) `default_config` value |
 * | agent-toolset `configs[].type` | omitted | the config's `name` |
 * | agent-toolset `web_fetch` config `url_sources` | omitted or `null` | `null`; a shorthand `"all"`/`"none"` becomes `{type:"all"}`/`{type:"none"}`, unset keys `null` |
 * | skill `version` | omitted or `null` | `"latest"` |
 * | multiagent_20261001 `advisor` | omitted or `null` | `{type:"disabled"}` |
 * | multiagent_20261001 `subagents` / `workflows` | omitted or `null` | `{type:"enabled", inline_agents:{type:"enabled"}, predefined_agents:[]}` |
 * | multiagent roster entry | `"agent_…"` or `{type:"agent", id}` | `{type:"agent", id, version:<its current version>}`; `{type:"self"}` → this agent |
 * | environment `config` | omitted or `null` | `{type:"cloud", networking:{type:"unrestricted"}, packages:{type:"packages", apt:[], cargo:[], gem:[], go:[], npm:[], pip:[]}}` |
 * | environment `config.networking` (limited) | fields omitted/`null` | `allowed_hosts: []`, `allow_mcp_servers: false`, `allow_package_managers: false` |
 * | environment `config.packages` | lists omitted/`null` | `[]`; `type: "packages"` always present |
 * | environment `allowed_hosts`, package lists | always | sorted (code-unit order) |
 * | environment `description` | omitted | `null` (update: `null` clears to `null`, `""` stays `""`) |
 * | environment `metadata` | omitted | `{}` |
 * | environment `scope` | omitted or `null` | `"organization"` (an API organization; `"account"` is rejected) |
 * | vault `metadata` | omitted | `{}` |
 * | credential `display_name` | omitted | `null` |
 * | credential `metadata` | omitted | `{}` |
 * | `environment_variable` `injection_location` | omitted (or a key omitted) | `{header: true, body: false}` |
 * | `environment_variable` `networking.allowed_hosts` | always | sorted |
 * | `mcp_oauth` `expires_at`, `refresh` | omitted | `null` |
 * | `mcp_oauth` `refresh.scope`, `refresh.resource` | omitted | `null` |
 * | metadata (every kind) | always | keys sorted |
 *
 * Order: lists of resources are newest first; inside an agent, `tools`, `mcp_servers` and each toolset's `configs`
 * come back in the reverse of the order they were sent (see `agents.ts`), so order-sensitive diffs get caught.
 */
/** The default execution principal (SDK: "`{"type": "service_account"}` when runs carry no customer-named principal"). */
export const DEFAULT_EXECUTION_IDENTITY = { type: "service_account" } as const;

/** The default `model.speed` (SDK: "Defaults to `standard`"). */
export const DEFAULT_MODEL_SPEED = "standard" as const;

/** The default skill `version` (SDK: "Version to pin. Defaults to latest if omitted."). */
export const DEFAULT_SKILL_VERSION = "latest";

/** The default `permission_policy` of a toolset's `default_config`, by toolset type (API-NOTES "Agents"). */
export const DEFAULT_TOOLSET_POLICY = {
  agent_toolset_20260401: "always_allow",
  mcp_toolset: "always_ask",
} as const;

/** The default `enabled` of a toolset's `default_config` (SDK: "Defaults to true if not specified"). */
export const DEFAULT_TOOLSET_ENABLED = true;

/** A fresh default `packages` block: every list empty. */
export function defaultPackages(): BetaPackages {
  return { type: "packages", apt: [], cargo: [], gem: [], go: [], npm: [], pip: [] };
}

/** A fresh default `limited` network (fields the SDK documents as "Defaults to `false`"/empty). */
export function defaultLimitedNetwork(): BetaLimitedNetwork {
  return { type: "limited", allowed_hosts: [], allow_mcp_servers: false, allow_package_managers: false };
}

/** A fresh default environment `config`: cloud, unrestricted network, no packages. */
export function defaultEnvironmentConfig(): BetaCloudConfig {
  return { type: "cloud", networking: { type: "unrestricted" }, packages: defaultPackages() };
}

/** The default environment `scope` for an API organization. */
export const DEFAULT_ENVIRONMENT_SCOPE = "organization" as const;

/** The default `injection_location` of an `environment_variable` credential. */
export const DEFAULT_INJECTION_LOCATION = { header: true, body: false } as const;
