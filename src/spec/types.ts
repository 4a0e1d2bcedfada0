/**
 * The spec layer's output types: what `load → validate → resolve` hands to the providers.
 *
 * Raw document shapes are generated from `schemas/*.schema.json` into `src/generated/`; the types here are the
 * *resolved* forms, after references by name were turned into the values the API needs (a toolset's URL, a system
 * prompt read from `system_file`, a secret reference parsed out of `${env:NAME}`). Field names follow the SDK's
 * snake_case (`@anthropic-ai/sdk/resources/beta/**`) wherever a spec field maps onto an API field.
 */

/** The spec kinds a repository may declare (the `kind:` field of a document). */
export type SpecKind =
  | "Agent"
  | "Environment"
  | "Vault"
  | "McpToolset"
  | "MemoryStore"
  | "Skill"
  | "Tunnel"
  | "Deployment";

/** Every spec kind, in the order validate reports and resolve processes them. */
export const SPEC_KINDS: readonly SpecKind[] = [
  "McpToolset",
  "Environment",
  "Vault",
  "MemoryStore",
  "Skill",
  "Agent",
  "Tunnel",
  "Deployment",
];

/** The format version every document declares in `apiVersion:`. */
export const API_VERSION = "reconcile/v1";

/** A position in a spec file: `file` relative to the repository root (POSIX separators), `line`/`col` 1-based. */
export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

/**
 * One problem found in the specs. Printed as `file:line:col: Kind/name: message` (see `formatSpecError`); `kind` and
 * `name` are absent when the document is too broken to tell them.
 */
export interface SpecError {
  location: SourceLocation;
  kind?: string;
  name?: string;
  message: string;
}

/** A permission policy as the spec writes it; the API's `{ type }` object is built by the provider. */
export type PermissionPolicyType = "always_allow" | "always_ask" | "auto";

/**
 * A reference to a secret, parsed from `${env:NAME}`. Only apply (and rotation) read the value, through a
 * `SecretSource`; plans, logs and errors show `(sensitive)`.
 */
export interface SecretRef {
  readonly source: "env";
  readonly name: string;
}

/** Reads secret values at apply time. Returns undefined when the secret is not available. */
export type SecretSource = (ref: SecretRef) => string | undefined;

/** One allowed tool of an MCP toolset. */
export interface ToolsetTool {
  name: string;
  permission_policy: PermissionPolicyType;
}

/**
 * Where a toolset's MCP server is when it sits behind a `Tunnel`: its URL is `https://<host>.<domain><path>`, the
 * tunnel's API-assigned `domain` known only once the tunnel exists (built by `tunnelServerUrl`, src/providers/tunnel.ts).
 */
export interface ToolsetTunnel {
  /** The Tunnel spec name. */
  name: string;
  /** DNS labels below the tunnel's domain (`db`). */
  host: string;
  /** The URL path, `""` for none (`/mcp`). */
  path: string;
}

/**
 * A resolved `McpToolset` spec: one MCP server and what an agent may call on it. It has no API resource of its own;
 * each agent that names it gets an `mcp_servers` entry and an `mcp_toolset` tool generated from it.
 */
export interface ResolvedMcpToolset {
  name: string;
  /** `mcp_servers[].name` in the API; defaults to the spec name. */
  server_name: string;
  /** The server's URL; null when the server is behind a tunnel (`tunnel`), whose domain is known only after apply. */
  url: string | null;
  /** Set instead of `url` for a server behind a Tunnel. */
  tunnel?: ToolsetTunnel;
  /** The allowlist. `null` means every tool of the server, with `default_permission_policy`. */
  tools: ToolsetTool[] | null;
  /** Policy for tools the allowlist does not name (only relevant when `tools` is null). Default `always_ask`. */
  default_permission_policy: PermissionPolicyType;
  source: SourceLocation;
}

/** The model of an agent, always in object form (`model: claude-haiku-4-5` resolves to `{ id: "claude-haiku-4-5" }`). */
export interface ResolvedModel {
  id: string;
  effort?: "low" | "medium" | "high" | "xhigh" | "max";
  speed?: "standard" | "fast";
  inference_geo?: string;
}

/**
 * One agent of a resolved multiagent roster: another Agent spec by name (its `version` either `current`, the version
 * it has once the apply ran, or `latest`, resolved by the API when the calling agent is saved), or the agent itself.
 */
export type ResolvedAgentRef = { agent: string; version: "current" | "latest" } | { self: true };

/** Session threads or workflow runs of a multiagent agent (`subagents` / `workflows` of `multiagent_20261001`). */
export type ResolvedMultiagentMember =
  | { enabled: false }
  | { enabled: true; inline_agents: boolean; agents: ResolvedAgentRef[] };

/** A resolved `multiagent:` (see schemas/agent.schema.json `#/$defs/multiagent`), every API default filled in. */
export interface ResolvedMultiagent {
  subagents: ResolvedMultiagentMember;
  workflows: ResolvedMultiagentMember;
  /** The advisor model id, or null for none. */
  advisor: string | null;
}

/**
 * One skill of an agent: the SDK's `BetaManagedAgentsSkillParams` (`type`, `skill_id`, `version`) for an Anthropic
 * skill or a custom one named by id, or `{ type: "custom", skill }` for a Skill spec of the repository by name (its
 * id is known only once it exists: the agent provider refers to it). `version` defaults to `latest`.
 */
export type ResolvedAgentSkill =
  | { type: "anthropic" | "custom"; skill_id: string; version?: string }
  | { type: "custom"; skill: string; version?: string };

/** A resolved `Agent` spec. `tools` holds only the non-MCP tools (agent toolset, custom tools), as SDK params. */
export interface ResolvedAgent {
  kind: "Agent";
  name: string;
  /** The API's `name` (`display_name:`; resolve sets it, default the spec name; absent means the spec name). */
  display_name?: string;
  /**
   * `multiagent:`: the roster by spec name; `null` for `multiagent: false` (single-threaded); absent when the spec
   * says nothing (the live value is then kept and not drift).
   */
  multiagent?: ResolvedMultiagent | null;
  /** `execution_identity:` as the SDK's params; absent when the spec says nothing (kept, not drift). */
  execution_identity?: { type: "service_account" } | { type: "aws_role"; role_arn: string };
  description: string | null;
  model: ResolvedModel;
  /** The system prompt, read from `system_file` when the spec used one. */
  system: string | null;
  /** The file the system prompt came from, relative to the repository root, if any. */
  system_file?: string;
  /** The toolsets the agent names, in spec order. */
  toolsets: ResolvedMcpToolset[];
  /** `agent_toolset_20260401` and `custom` tools, exactly as the SDK's create params take them. */
  tools: Array<Record<string, unknown>>;
  /** Skills in spec order (see `ResolvedAgentSkill`). */
  skills: ResolvedAgentSkill[];
  metadata: Record<string, string>;
  protect: boolean;
  /** Names this spec had before (`previous_names:`): a live resource under one of them is renamed, not recreated. */
  previous_names: string[];
  source: SourceLocation;
}

/** A resolved `Environment` spec; `config` is the SDK's `BetaCloudConfigParams | BetaSelfHostedConfigParams`. */
export interface ResolvedEnvironment {
  kind: "Environment";
  name: string;
  description: string | null;
  config: Record<string, unknown> & { type: "cloud" | "self_hosted" };
  metadata: Record<string, string>;
  protect: boolean;
  /** What prune does once the spec is removed (`on_prune:`); default `archive`. */
  on_prune: "archive" | "delete";
  previous_names: string[];
  source: SourceLocation;
}

/** Credential auth with secrets as references and `mcp_server_url` resolved from a named toolset. */
export type ResolvedCredentialAuth =
  | { type: "static_bearer"; mcp_server_url: string; token: SecretRef }
  | {
      type: "mcp_oauth";
      mcp_server_url: string;
      access_token: SecretRef;
      expires_at?: string | null;
      refresh?: {
        client_id: string;
        refresh_token: SecretRef;
        token_endpoint: string;
        token_endpoint_auth:
          | { type: "none" }
          | { type: "client_secret_basic" | "client_secret_post"; client_secret: SecretRef };
        scope?: string | null;
        resource?: string | null;
      } | null;
    }
  | {
      type: "environment_variable";
      secret_name: string;
      secret_value: SecretRef;
      networking: { type: "unrestricted" } | { type: "limited"; allowed_hosts: string[] };
      injection_location?: { body?: boolean; header?: boolean };
    };

/** One credential of a vault spec. Its name is unique within the vault. */
export interface ResolvedCredential {
  name: string;
  display_name: string | null;
  metadata: Record<string, string>;
  auth: ResolvedCredentialAuth;
  previous_names: string[];
  /** `rotation.max_age` in milliseconds: the secret is due once last written longer ago; null without `rotation`. */
  max_age_ms?: number | null;
  source: SourceLocation;
}

/** A resolved `Vault` spec with its credentials. `display_name` defaults to the spec name. */
export interface ResolvedVault {
  kind: "Vault";
  name: string;
  display_name: string;
  metadata: Record<string, string>;
  credentials: ResolvedCredential[];
  protect: boolean;
  /** What prune does once the spec is removed (`on_prune:`); default `archive`. Deleting a vault deletes its credentials. */
  on_prune: "archive" | "delete";
  previous_names: string[];
  source: SourceLocation;
}

/**
 * A resolved `Deployment` spec (schemas/deployment.schema.json). Other specs stay named by their spec names (the
 * provider turns them into references to their live ids); `message` became `initial_events`; `schedule.cron` is the
 * API's `expression`, already checked (`src/spec/schedule.ts`).
 */
export interface ResolvedDeployment {
  kind: "Deployment";
  name: string;
  description: string | null;
  /** The Agent spec it runs. */
  agent: string;
  /** `pinned` (the version this apply leaves the agent at), `latest` (the API's agent-id form), or a version. */
  agent_version: "pinned" | "latest" | number;
  /** The Environment spec. */
  environment: string;
  /** Vault spec names, sorted. */
  vaults: string[];
  /** MemoryStore spec names with the mount options (`access` defaults to the API's `read_write`), sorted by name. */
  memory_stores: Array<{ name: string; access: "read_write" | "read_only"; instructions: string | null }>;
  /** The SDK's `BetaManagedAgentsDeploymentInitialEventParams`, in spec order. */
  initial_events: Array<Record<string, unknown>>;
  /** The SDK's `BetaManagedAgentsBudgetLimit`, or null for none. */
  budget: { type: "limit"; max_list_cost: { amount: string; currency: "USD" } } | null;
  /** The cron schedule (the SDK's `BetaManagedAgentsCronScheduleParams` without `type`), or null for manual only. */
  schedule: { expression: string; timezone: string } | null;
  paused: boolean;
  metadata: Record<string, string>;
  protect: boolean;
  previous_names: string[];
  source: SourceLocation;
}

/**
 * A resolved `MemoryStore` spec (SDK `MemoryStoreCreateParams`). `display_name` (the API's `name`) defaults to the
 * spec name; `description` is `""` when unset, as the API stores it. The memories inside are not part of the spec.
 */
export interface ResolvedMemoryStore {
  kind: "MemoryStore";
  name: string;
  display_name: string;
  description: string;
  metadata: Record<string, string>;
  protect: boolean;
  /** What prune does once the spec is removed (`on_prune:`); default `archive`. Deleting deletes its memories too. */
  on_prune: "archive" | "delete";
  previous_names: string[];
  source: SourceLocation;
}

/**
 * A resolved `Tunnel` spec (SDK `TunnelCreateParams`). `display_name` defaults to the spec name. The API can neither
 * update nor delete a tunnel: `on_prune` is always `archive`.
 */
export interface ResolvedTunnel {
  kind: "Tunnel";
  name: string;
  display_name: string;
  protect: boolean;
  on_prune: "archive";
  previous_names: string[];
  source: SourceLocation;
}

/**
 * A resolved `Skill` spec: the folder read, checked and ready to upload (`src/providers/skill-content.ts`).
 * `display_name` defaults to the spec name; reconcile's ownership marker is added by the provider.
 */
export interface ResolvedSkill {
  kind: "Skill";
  name: string;
  display_name: string;
  /** The folder, relative to the repository root (POSIX separators). */
  path: string;
  /** The skill's slug: SKILL.md's frontmatter `name`, else the folder's name. */
  slug: string;
  /** SKILL.md's frontmatter `description`. */
  description: string;
  /** Every file of the folder, path relative to it, sorted by path, bytes as read. */
  files: Array<{ path: string; data: Uint8Array }>;
  protect: boolean;
  source: SourceLocation;
}

/** The whole desired state of a repository, as resolve returns it. Each list is sorted by name. */
export interface DesiredSpecs {
  agents: ResolvedAgent[];
  environments: ResolvedEnvironment[];
  vaults: ResolvedVault[];
  toolsets: ResolvedMcpToolset[];
  /** Absent is none (desired states built by hand, in tests, before memory stores existed); resolve always sets it. */
  memory_stores?: ResolvedMemoryStore[];
  /** Absent is the same as none (resolve always sets it). */
  skills?: ResolvedSkill[];
  /** Absent where a caller builds specs without tunnels (tests); `resolveSpecs` always sets it. */
  tunnels?: ResolvedTunnel[];
  /** Absent is none, like `memory_stores`; resolve always sets it. */
  deployments?: ResolvedDeployment[];
}
