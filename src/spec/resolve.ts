import type { agent, vault } from "../generated/index.js";
import { atPath, type DataPath, locate } from "./position.js";
import { multiagentReferenceErrors, resolveMultiagent } from "./resolve-agent-multiagent.js";
import { resolveDeployment } from "./resolve-deployment.js";
import { resolveMemoryStore } from "./resolve-memory-store.js";
import { resolveAgentSkills, resolveSkill } from "./resolve-skill.js";
import { resolveTunnel, toolsetTunnel } from "./resolve-tunnel.js";
import { timeSlices } from "./slices.js";
import { didYouMean } from "./suggest.js";
import { readSystemFile } from "./system-file.js";
import type {
  DesiredSpecs,
  PermissionPolicyType,
  ResolvedAgent,
  ResolvedCredential,
  ResolvedCredentialAuth,
  ResolvedEnvironment,
  ResolvedMcpToolset,
  ResolvedSkill,
  ResolvedVault,
  SecretRef,
  SpecError,
  SpecKind,
  ToolsetTool,
} from "./types.js";
import type { ValidatedSpec, ValidationResult } from "./validate.js";

/** What resolve needs besides the valid specs. */
export interface ResolveOptions {
  /** The repository root, absolute: `system_file` paths must stay inside it. */
  root: string;
  /** Specs that exist but are invalid (from validate): references to them are not reported again. */
  invalid: ValidationResult["invalid"];
}

/** The default permission policy of an MCP toolset: a human approves each call (API-NOTES: the approval gate). */
const DEFAULT_PERMISSION_POLICY: PermissionPolicyType = "always_ask";

/**
 * Parses a secret reference. The schema (`common.schema.json#/$defs/secret_ref`) already guarantees the form
 * `${env:NAME}`; only the variable's name is kept.
 */
export function parseSecretRef(ref: string): SecretRef {
  const match = /^\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(ref);
  if (!match?.[1]) throw new Error(`not a secret reference of the form \${env:NAME}`);
  return { source: "env", name: match[1] };
}

/**
 * Turns valid specs into the desired state (`DesiredSpecs`): names become the objects they refer to, defaults are
 * filled in, secrets become `SecretRef`s, `system_file` is read. Reports, at the offending node:
 * - two specs of one kind with the same name (at the second, naming the first: `first defined at file:line:col`);
 * - an agent's `toolsets` entry or a credential's `toolset` naming no McpToolset (with "did you mean");
 * - two toolsets of one agent with the same `server_name` (the API wants unique `mcp_servers[].name`);
 * - an agent's `multiagent:` naming no Agent spec, or calls forming a cycle (see `resolve-agent-multiagent.ts`);
 * - a credential whose `toolset` URL and `mcp_server_url` disagree, or that names no MCP server at all;
 * - a credential whose `toolset` URL and `mcp_server_url` disagree, or that names no MCP server at all, or names a
 *   toolset behind a tunnel (its URL is known only after apply);
 * - a toolset's `tunnel` naming no Tunnel spec, a Tunnel with `on_prune: delete` (see `resolve-tunnel.ts`);
 * - `system_file` outside the repository, missing, not a file, not UTF-8 text, or longer than the API's 100,000
 *   characters (see `readSystemFile`);
 * - an agent with more than 256 tools across its toolsets (`MAX_TOOLS`, `toolCount`);
 * - the same name twice where the API needs unique names: credentials of a vault, tools of a toolset, custom tools
 *   and built-in tool configs of an agent; `agent_toolset_20260401` twice;
 * - `packages` under `limited` networking without `allow_package_managers: true` (SDK: `BetaCloudConfigParams`);
 * - a `previous_names` entry (of an Agent, Environment, Vault, or a credential within its vault) that is the spec's
 *   own name, the name of another spec of the kind (valid or not), or listed by another spec of the kind too: a
 *   previous name says which live resource a renamed spec takes over, so it must point at one spec only.
 * A spec with an error is left out of the result. Every list of the result is sorted by name.
 */
export async function resolveSpecs(
  specs: readonly ValidatedSpec[],
  options: ResolveOptions,
): Promise<{ specs: DesiredSpecs; errors: SpecError[] }> {
  const errors: SpecError[] = [];
  const declared = new Map<SpecKind, Set<string>>();
  const skipped = new Set(options.invalid.map((s) => `${s.kind}/${s.name}`));
  for (const s of options.invalid) declared.set(s.kind, (declared.get(s.kind) ?? new Set()).add(s.name));

  const unique: ValidatedSpec[] = [];
  const first = new Map<string, ValidatedSpec>();
  for (const spec of specs) {
    const key = `${spec.kind}/${spec.spec.name}`;
    declared.set(spec.kind, (declared.get(spec.kind) ?? new Set()).add(spec.spec.name));
    const earlier = first.get(key);
    if (earlier) {
      const { file, line, col } = earlier.document.location;
      errors.push(
        errorAt(
          spec,
          ["name"],
          `another ${spec.kind} is already named "${spec.spec.name}" (first defined at ${file}:${line}:${col})`,
        ),
      );
      continue;
    }
    first.set(key, spec);
    unique.push(spec);
  }

  const renameErrors = previousNameErrors(unique, declared);
  const callErrors = multiagentReferenceErrors(unique, declared.get("Agent") ?? new Set(), skipped);
  const skills: ResolvedSkill[] = [];
  const tunnels: NonNullable<DesiredSpecs["tunnels"]> = [];
  const result: DesiredSpecs = {
    agents: [],
    environments: [],
    vaults: [],
    toolsets: [],
    memory_stores: [],
    skills,
    tunnels,
    deployments: [],
  };
  const toolsets = new Map<string, ResolvedMcpToolset>();
  const refs: References = {
    toolsets,
    declaredToolsets: declared.get("McpToolset") ?? new Set(),
    skipped,
    declaredSkills: declared.get("Skill") ?? new Set(),
  };
  for (const spec of unique) {
    if (spec.kind !== "McpToolset") continue;
    const toolset = collect(errors, resolveToolset(spec, declared.get("Tunnel") ?? new Set(), skipped));
    if (toolset) toolsets.set(toolset.name, toolset);
    else skipped.add(`McpToolset/${spec.spec.name}`);
  }
  result.toolsets = [...toolsets.values()];
  // Skills read their folders concurrently; agents are resolved meanwhile, one by one, the event loop turning
  // between slices (`timeSlices`: `plan` observes the API while the specs load).
  const skillOutcomes = new Map<ValidatedSpec, Promise<Outcome<ResolvedSkill>>>();
  for (const spec of unique) {
    if (spec.kind !== "Skill") continue;
    const outcome = resolveSkill(spec, options.root);
    outcome.catch(() => undefined); // awaited below, after the agents: not an unhandled rejection meanwhile
    skillOutcomes.set(spec, outcome);
  }
  const agentOutcomes = new Map<ValidatedSpec, Outcome<ResolvedAgent>>();
  const pause = timeSlices();
  for (const spec of unique) {
    if (spec.kind !== "Agent" || renameErrors.has(spec)) continue;
    agentOutcomes.set(spec, resolveAgent(spec, refs, options.root));
    await pause();
  }
  for (const spec of unique) {
    const renames = renameErrors.get(spec);
    if (renames) {
      errors.push(...renames);
      continue;
    }
    if (spec.kind === "Environment") push(result.environments, collect(errors, resolveEnvironment(spec)));
    if (spec.kind === "Vault") push(result.vaults, collect(errors, resolveVault(spec, refs)));
    if (spec.kind === "MemoryStore") push(result.memory_stores ?? [], collect(errors, resolveMemoryStore(spec)));
    if (spec.kind === "Agent") {
      const outcome = agentOutcomes.get(spec) as Outcome<ResolvedAgent>;
      const calls = callErrors.get(spec) ?? [];
      push(result.agents, collect(errors, { ...outcome, errors: [...outcome.errors, ...calls] }));
    }
    if (spec.kind === "Skill")
      push(skills, collect(errors, await (skillOutcomes.get(spec) as Promise<Outcome<ResolvedSkill>>)));
    if (spec.kind === "Tunnel") push(tunnels, collect(errors, resolveTunnel(spec)));
  }
  // Deployments refer to the kinds above by name: resolved after them (src/spec/resolve-deployment.ts).
  const resolved = new Map<SpecKind, Set<string>>([
    ["Agent", new Set(result.agents.map((a) => a.name))],
    ["Environment", new Set(result.environments.map((e) => e.name))],
    ["Vault", new Set(result.vaults.map((v) => v.name))],
    ["MemoryStore", new Set((result.memory_stores ?? []).map((m) => m.name))],
  ]);
  for (const spec of unique) {
    if (spec.kind !== "Deployment" || renameErrors.has(spec)) continue;
    push(result.deployments ?? [], collect(errors, resolveDeployment(spec, { resolved, declared })));
  }
  for (const list of Object.values(result) as Array<Array<{ name: string }>>) {
    list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
  return { specs: result, errors };
}

/**
 * The `previous_names` conflicts of every Agent, Environment and Vault spec (`unique`: one spec per name), by spec.
 * `declared` holds every name of every kind, invalid specs included. Each conflict is reported at the entry of the
 * later spec (file order), naming the earlier one.
 */
function previousNameErrors(
  unique: readonly ValidatedSpec[],
  declared: ReadonlyMap<SpecKind, ReadonlySet<string>>,
): Map<ValidatedSpec, SpecError[]> {
  const out = new Map<ValidatedSpec, SpecError[]>();
  const defined = new Map<string, ValidatedSpec>(unique.map((s) => [`${s.kind}/${s.spec.name}`, s]));
  const claimed = new Map<string, { spec: ValidatedSpec; index: number }>();
  for (const spec of unique) {
    if (spec.kind === "McpToolset" || spec.kind === "Skill") continue;
    for (const [index, previous] of (spec.spec.previous_names ?? []).entries()) {
      const key = `${spec.kind}/${previous}`;
      const path = ["previous_names", index];
      let message: string | undefined;
      if (previous === spec.spec.name) {
        message = `"${previous}" is this spec's own name: list only the names it had before`;
      } else if (declared.get(spec.kind)?.has(previous)) {
        const other = defined.get(key);
        const at = other ? ` (defined at ${where(other.document.location)})` : "";
        message = `another ${spec.kind} is named "${previous}"${at}: a spec can only take over the resource of a name no spec uses any more`;
      } else {
        const earlier = claimed.get(key);
        if (earlier) {
          const at = where(locate(earlier.spec.document, ["previous_names", earlier.index]));
          message = `"${previous}" is also a previous name of ${spec.kind} "${earlier.spec.spec.name}" (at ${at}): only one spec can take over its resource`;
        } else {
          claimed.set(key, { spec, index });
        }
      }
      if (message) out.set(spec, [...(out.get(spec) ?? []), errorAt(spec, path, message)]);
    }
  }
  return out;
}

/** The same checks as `previousNameErrors`, for the credentials of one vault. */
function credentialPreviousNameErrors(spec: Extract<ValidatedSpec, { kind: "Vault" }>): SpecError[] {
  const list = spec.spec.credentials ?? [];
  const names = new Set(list.map((c) => c.name));
  const claimed = new Map<string, { name: string; index: number; at: number }>();
  const errors: SpecError[] = [];
  for (const [at, c] of list.entries()) {
    for (const [index, previous] of (c.previous_names ?? []).entries()) {
      const path = ["credentials", at, "previous_names", index];
      const earlier = claimed.get(previous);
      if (previous === c.name) {
        errors.push(
          errorAt(spec, path, `"${previous}" is this credential's own name: list only the names it had before`),
        );
      } else if (names.has(previous)) {
        errors.push(
          errorAt(
            spec,
            path,
            `another credential of this vault is named "${previous}": a credential can only take over a name no credential uses any more`,
          ),
        );
      } else if (earlier) {
        const line = lineOf(spec, ["credentials", earlier.at, "previous_names", earlier.index]);
        errors.push(
          errorAt(
            spec,
            path,
            `"${previous}" is also a previous name of credential "${earlier.name}" (at line ${line}): only one credential can take it over`,
          ),
        );
      } else {
        claimed.set(previous, { name: c.name, index, at });
      }
    }
  }
  return errors;
}

function where(location: { file: string; line: number; col: number }): string {
  return `${location.file}:${location.line}:${location.col}`;
}

/** What specs may refer to by name. */
interface References {
  toolsets: Map<string, ResolvedMcpToolset>;
  /** Every McpToolset name the repository declares, valid or not, for "did you mean". */
  declaredToolsets: Set<string>;
  /** `Kind/name` of specs that exist but are invalid: a reference to one is neither resolved nor reported. */
  skipped: Set<string>;
  /** Every Skill name the repository declares, valid or not. */
  declaredSkills: Set<string>;
}

/** A resolved value, or the errors that prevented it (`value` is then undefined). */
interface Outcome<T> {
  value?: T;
  errors: SpecError[];
}

function collect<T>(errors: SpecError[], outcome: Outcome<T>): T | undefined {
  errors.push(...outcome.errors);
  return outcome.errors.length === 0 ? outcome.value : undefined;
}

function push<T>(list: T[], value: T | undefined): void {
  if (value !== undefined) list.push(value);
}

function errorAt(spec: ValidatedSpec, path: DataPath, message: string, at: "key" | "value" = "value"): SpecError {
  return {
    location: locate(spec.document, path, at),
    kind: spec.kind,
    name: spec.spec.name,
    message: atPath(path, message),
  };
}

/** For each item whose key repeats an earlier one: its index and the earlier one's. */
function repeats<T>(items: readonly T[], key: (item: T) => string): Array<{ index: number; first: number }> {
  const seen = new Map<string, number>();
  const found: Array<{ index: number; first: number }> = [];
  for (const [index, item] of items.entries()) {
    const k = key(item);
    const first = seen.get(k);
    if (first === undefined) seen.set(k, index);
    else found.push({ index, first });
  }
  return found;
}

function lineOf(spec: ValidatedSpec, path: DataPath): number {
  return locate(spec.document, path).line;
}

function metadataOf(metadata: Record<string, string | undefined> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata ?? {})) if (value !== undefined) out[key] = value;
  return out;
}

function resolveToolset(
  spec: Extract<ValidatedSpec, { kind: "McpToolset" }>,
  declaredTunnels: ReadonlySet<string>,
  skipped: ReadonlySet<string>,
): Outcome<ResolvedMcpToolset> {
  const s = spec.spec;
  const invalidTunnels = new Set([...declaredTunnels].filter((name) => skipped.has(`Tunnel/${name}`)));
  const behind = toolsetTunnel(spec, declaredTunnels, invalidTunnels);
  const defaultPolicy = s.default_permission_policy ?? DEFAULT_PERMISSION_POLICY;
  const errors = repeats(s.tools ?? [], (t) => t.name).map(({ index, first }) =>
    errorAt(
      spec,
      ["tools", index, "name"],
      `tool "${s.tools?.[index]?.name}" is listed twice (first at line ${lineOf(spec, ["tools", first])})`,
    ),
  );
  errors.push(...behind.errors);
  if (behind.skip) return { errors }; // its Tunnel is invalid: the toolset is left out, like what refers to it
  const tools: ToolsetTool[] | null = s.tools
    ? s.tools
        .map((t) => ({ name: t.name, permission_policy: t.permission_policy ?? defaultPolicy }))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    : null;
  return {
    errors,
    value: {
      name: s.name,
      server_name: s.server_name ?? s.name,
      url: s.url ?? null,
      ...(behind.tunnel ? { tunnel: behind.tunnel } : {}),
      tools,
      default_permission_policy: defaultPolicy,
      source: spec.document.location,
    },
  };
}

/**
 * `on_prune` of an Environment or Vault spec (default `archive`); `delete` together with `protect: true` is a
 * contradiction and an error at `on_prune`.
 */
function lifecycleOnPrune(
  spec: Extract<ValidatedSpec, { kind: "Environment" | "Vault" }>,
  errors: SpecError[],
): "archive" | "delete" {
  const onPrune = spec.spec.on_prune ?? "archive";
  if (onPrune === "delete" && spec.spec.protect === true) {
    errors.push(
      errorAt(spec, ["on_prune"], "cannot be `delete` on a protected resource: protect: true means it is never pruned"),
    );
  }
  return onPrune;
}

function resolveEnvironment(spec: Extract<ValidatedSpec, { kind: "Environment" }>): Outcome<ResolvedEnvironment> {
  const s = spec.spec;
  const errors: SpecError[] = [];
  const config = s.config;
  if (config.type === "cloud" && config.packages && config.networking?.type === "limited") {
    if (!config.networking.allow_package_managers) {
      errors.push(
        errorAt(
          spec,
          ["config", "packages"],
          "packages need `networking.allow_package_managers: true` when networking is limited",
          "key",
        ),
      );
    }
  }
  return {
    errors,
    value: {
      kind: "Environment",
      name: s.name,
      description: s.description ?? null,
      config: { ...structuredClone(config) },
      metadata: metadataOf(s.metadata),
      protect: s.protect ?? false,
      on_prune: lifecycleOnPrune(spec, errors),
      previous_names: [...(s.previous_names ?? [])],
      source: spec.document.location,
    },
  };
}

/** Two URLs name the same server when they are equal once parsed (`https://a.example.com` = `https://a.example.com/`). */
function sameUrl(a: string, b: string): boolean {
  try {
    return new URL(a).href === new URL(b).href;
  } catch {
    return a === b;
  }
}

/**
 * The MCP server URL of a `static_bearer` or `mcp_oauth` credential: its `toolset`'s url, or `mcp_server_url`. Both
 * may be given if they agree. `undefined` with no error means the toolset exists but is invalid.
 */
function mcpServerUrl(
  spec: Extract<ValidatedSpec, { kind: "Vault" }>,
  path: DataPath,
  auth: { toolset?: string; mcp_server_url?: string },
  refs: References,
  errors: SpecError[],
): string | undefined {
  if (auth.toolset === undefined) {
    if (auth.mcp_server_url !== undefined) return auth.mcp_server_url;
    errors.push(
      errorAt(
        spec,
        path,
        "name the MCP server this credential is for: set `toolset` (an McpToolset spec name) or `mcp_server_url`",
        "key",
      ),
    );
    return undefined;
  }
  const toolset = refs.toolsets.get(auth.toolset);
  if (!toolset) {
    if (!refs.skipped.has(`McpToolset/${auth.toolset}`)) {
      const hint = didYouMean(auth.toolset, refs.declaredToolsets);
      errors.push(errorAt(spec, [...path, "toolset"], `unknown McpToolset "${auth.toolset}"${hint}`));
    }
    return undefined;
  }
  if (toolset.url === null) {
    errors.push(
      errorAt(
        spec,
        [...path, "toolset"],
        `the toolset "${toolset.name}" is behind tunnel "${toolset.tunnel?.name}", whose URL is known only after apply; a credential cannot name it yet: remove \`toolset\` and set \`mcp_server_url\` to the server's URL once the tunnel exists`,
      ),
    );
    return undefined;
  }
  if (auth.mcp_server_url !== undefined && !sameUrl(auth.mcp_server_url, toolset.url)) {
    errors.push(
      errorAt(
        spec,
        [...path, "mcp_server_url"],
        `the toolset "${toolset.name}" has url ${toolset.url} but mcp_server_url says ${auth.mcp_server_url}`,
      ),
    );
    return undefined;
  }
  return toolset.url;
}

function resolveAuth(
  spec: Extract<ValidatedSpec, { kind: "Vault" }>,
  path: DataPath,
  auth: vault.Credential["auth"],
  refs: References,
  errors: SpecError[],
): ResolvedCredentialAuth | undefined {
  switch (auth.type) {
    case "static_bearer": {
      const url = mcpServerUrl(spec, path, auth, refs, errors);
      return url === undefined
        ? undefined
        : { type: "static_bearer", mcp_server_url: url, token: parseSecretRef(auth.token) };
    }
    case "mcp_oauth": {
      const url = mcpServerUrl(spec, path, auth, refs, errors);
      if (url === undefined) return undefined;
      const r = auth.refresh;
      return {
        type: "mcp_oauth",
        mcp_server_url: url,
        access_token: parseSecretRef(auth.access_token),
        ...(auth.expires_at !== undefined ? { expires_at: auth.expires_at } : {}),
        ...(r
          ? {
              refresh: {
                client_id: r.client_id,
                refresh_token: parseSecretRef(r.refresh_token),
                token_endpoint: r.token_endpoint,
                token_endpoint_auth:
                  r.token_endpoint_auth.type === "none"
                    ? { type: "none" }
                    : {
                        type: r.token_endpoint_auth.type,
                        client_secret: parseSecretRef(r.token_endpoint_auth.client_secret),
                      },
                ...(r.scope !== undefined ? { scope: r.scope } : {}),
                ...(r.resource !== undefined ? { resource: r.resource } : {}),
              },
            }
          : {}),
      };
    }
    case "environment_variable":
      return {
        type: "environment_variable",
        secret_name: auth.secret_name,
        secret_value: parseSecretRef(auth.secret_value),
        networking: structuredClone(auth.networking),
        ...(auth.injection_location ? { injection_location: { ...auth.injection_location } } : {}),
      };
  }
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `rotation.max_age` (`30d`, `12h`; the schema guarantees the form) in milliseconds. */
export function parseMaxAge(text: string): number {
  const match = /^([1-9][0-9]{0,5})([smhd])$/.exec(text);
  if (!match?.[1] || !match[2]) throw new Error(`not a duration like 30d: ${JSON.stringify(text)}`);
  return Number(match[1]) * (UNIT_MS[match[2]] ?? 0);
}

function resolveVault(spec: Extract<ValidatedSpec, { kind: "Vault" }>, refs: References): Outcome<ResolvedVault> {
  const s = spec.spec;
  const list = s.credentials ?? [];
  const errors = repeats(list, (c) => c.name).map(({ index, first }) =>
    errorAt(
      spec,
      ["credentials", index, "name"],
      `credential "${list[index]?.name}" is defined twice in this vault (first at line ${lineOf(spec, ["credentials", first])})`,
    ),
  );
  errors.push(...credentialPreviousNameErrors(spec));
  const credentials: ResolvedCredential[] = [];
  let complete = true;
  for (const [index, c] of list.entries()) {
    const auth = resolveAuth(spec, ["credentials", index, "auth"], c.auth, refs, errors);
    if (!auth) {
      complete = false;
      continue;
    }
    credentials.push({
      name: c.name,
      display_name: c.display_name ?? c.name,
      metadata: metadataOf(c.metadata),
      auth,
      previous_names: [...(c.previous_names ?? [])],
      max_age_ms: c.rotation ? parseMaxAge(c.rotation.max_age) : null,
      source: locate(spec.document, ["credentials", index]),
    });
  }
  credentials.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const value: ResolvedVault = {
    kind: "Vault",
    name: s.name,
    display_name: s.display_name ?? s.name,
    metadata: metadataOf(s.metadata),
    credentials,
    protect: s.protect ?? false,
    on_prune: lifecycleOnPrune(spec, errors),
    previous_names: [...(s.previous_names ?? [])],
    source: spec.document.location,
  };
  return complete ? { errors, value } : { errors };
}

/** A permission policy in the API's object form (`always_ask` → `{ type: "always_ask" }`). */
function policyObject(policy: agent.ToolPermissionPolicy): { type: PermissionPolicyType } {
  return typeof policy === "string" ? { type: policy } : { type: policy.type };
}

/**
 * An agent's non-MCP tools as the SDK's create params take them. Permission policies written as a bare string are
 * expanded to the API's `{ type }` object; everything else is passed through.
 */
function toolParams(tool: agent.AgentTool): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...structuredClone(tool) };
  if (tool.type !== "agent_toolset_20260401") return copy;
  const policy = tool.default_config?.permission_policy;
  if (tool.default_config) {
    copy.default_config = { ...tool.default_config, ...(policy ? { permission_policy: policyObject(policy) } : {}) };
  }
  if (tool.configs) {
    copy.configs = tool.configs.map((c) => ({
      ...structuredClone(c),
      ...(c.permission_policy ? { permission_policy: policyObject(c.permission_policy) } : {}),
    }));
  }
  return copy;
}

/**
 * The most tools an agent may have: "Maximum of 256 tools across all toolsets allowed" (SDK
 * `AgentCreateParams.tools`). Counted as `toolCount` does.
 */
export const MAX_TOOLS = 256;

/**
 * How many tools an agent declares, as the API counts them against `MAX_TOOLS`: one per custom tool, one per
 * `configs` entry of the built-in toolset, and one per allowed tool of each MCP toolset (each becomes a `configs`
 * entry of its `mcp_toolset`; a toolset without an allowlist adds none, as the server's tools are not known).
 */
export function toolCount(tools: readonly agent.AgentTool[], toolsets: readonly ResolvedMcpToolset[]): number {
  let count = 0;
  for (const tool of tools)
    count += tool.type === "custom" ? 1 : ((tool as agent.AgentToolset20260401).configs ?? []).length;
  for (const toolset of toolsets) count += toolset.tools?.length ?? 0;
  return count;
}

function toolErrors(spec: Extract<ValidatedSpec, { kind: "Agent" }>): SpecError[] {
  const tools = spec.spec.tools ?? [];
  const errors: SpecError[] = [];
  const indexed = tools.map((tool, index) => ({ tool, index }));
  const builtIn = indexed.filter(({ tool }) => tool.type === "agent_toolset_20260401");
  for (const { index, first } of repeats(builtIn, () => "agent_toolset_20260401")) {
    const at = builtIn[index]?.index ?? 0;
    const firstLine = lineOf(spec, ["tools", builtIn[first]?.index ?? 0]);
    errors.push(
      errorAt(
        spec,
        ["tools", at, "type"],
        `agent_toolset_20260401 is listed twice (first at line ${firstLine}): configure every built-in tool in one entry`,
      ),
    );
  }
  const custom = indexed.filter((t): t is { tool: agent.CustomTool; index: number } => t.tool.type === "custom");
  for (const { index, first } of repeats(custom, (t) => t.tool.name)) {
    const at = custom[index]?.index ?? 0;
    const firstLine = lineOf(spec, ["tools", custom[first]?.index ?? 0]);
    errors.push(
      errorAt(
        spec,
        ["tools", at, "name"],
        `custom tool "${custom[index]?.tool.name}" is defined twice (first at line ${firstLine})`,
      ),
    );
  }
  for (const { tool, index } of builtIn) {
    const configs = (tool as agent.AgentToolset20260401).configs ?? [];
    for (const dup of repeats(configs, (c) => c.name)) {
      const path = ["tools", index, "configs", dup.index, "name"];
      const firstLine = lineOf(spec, ["tools", index, "configs", dup.first]);
      errors.push(
        errorAt(spec, path, `"${configs[dup.index]?.name}" is configured twice (first at line ${firstLine})`),
      );
    }
  }
  return errors;
}

function resolveAgent(
  spec: Extract<ValidatedSpec, { kind: "Agent" }>,
  refs: References,
  root: string,
): Outcome<ResolvedAgent> {
  const s = spec.spec;
  const errors = toolErrors(spec);
  let complete = true;

  let system = s.system ?? null;
  let systemFile: string | undefined;
  if (s.system_file !== undefined) {
    const read = readSystemFile(root, spec.document.absolutePath, s.system_file);
    if (read.ok) {
      system = read.text;
      systemFile = read.file;
    } else {
      errors.push(errorAt(spec, ["system_file"], read.message));
    }
  }

  const toolsets: ResolvedMcpToolset[] = [];
  const byServerName = new Map<string, string>();
  for (const [index, name] of (s.toolsets ?? []).entries()) {
    const toolset = refs.toolsets.get(name);
    if (!toolset) {
      complete = false;
      if (!refs.skipped.has(`McpToolset/${name}`)) {
        errors.push(
          errorAt(spec, ["toolsets", index], `unknown McpToolset "${name}"${didYouMean(name, refs.declaredToolsets)}`),
        );
      }
      continue;
    }
    const other = byServerName.get(toolset.server_name);
    if (other !== undefined) {
      errors.push(
        errorAt(
          spec,
          ["toolsets", index],
          `toolsets "${other}" and "${name}" both use server_name "${toolset.server_name}"; MCP server names must be unique on an agent (set server_name on one of them)`,
        ),
      );
      continue;
    }
    byServerName.set(toolset.server_name, name);
    toolsets.push(toolset);
  }

  const count = toolCount(s.tools ?? [], toolsets);
  if (count > MAX_TOOLS) {
    errors.push(
      errorAt(
        spec,
        [s.tools ? "tools" : "toolsets"],
        `the agent declares ${count} tools (custom tools, built-in tool configs and the allowlists of its toolsets); the API allows at most ${MAX_TOOLS} across all toolsets`,
        "key",
      ),
    );
  }

  const multiagent = resolveMultiagent(spec);
  errors.push(...multiagent.errors);
  const agentSkills = resolveAgentSkills(spec, { declared: refs.declaredSkills, skipped: refs.skipped });
  errors.push(...agentSkills.errors);
  if (!agentSkills.complete) complete = false;

  const model = typeof s.model === "string" ? { id: s.model } : { ...s.model };
  const value: ResolvedAgent = {
    kind: "Agent",
    name: s.name,
    display_name: s.display_name ?? s.name,
    ...(multiagent.value !== undefined ? { multiagent: multiagent.value } : {}),
    ...(s.execution_identity ? { execution_identity: { ...s.execution_identity } } : {}),
    description: s.description ?? null,
    model,
    system,
    ...(systemFile !== undefined ? { system_file: systemFile } : {}),
    toolsets,
    tools: (s.tools ?? []).map(toolParams),
    skills: agentSkills.skills,
    metadata: metadataOf(s.metadata),
    protect: s.protect ?? false,
    previous_names: [...(s.previous_names ?? [])],
    source: spec.document.location,
  };
  return complete ? { errors, value } : { errors };
}

/**
 * The reference errors of documents that failed their schema (`ValidationResult.failed`), so a file with a schema
 * error and an unknown reference reports both in one run (docs/design.md: "Validation reports every error at
 * once"). Checks only references whose own field validated: an Agent's `toolsets[i]` and a Vault credential's
 * `auth.toolset` that are strings, with no schema error at them or at a field containing them (a `toolsets` list
 * that is too long is one error, not one per entry). `toolsetNames` holds every McpToolset name declared, valid or
 * not (a reference to an invalid one is not reported, as in `resolveSpecs`).
 */
export function referenceErrorsOfInvalid(
  failed: ValidationResult["failed"],
  toolsetNames: ReadonlySet<string>,
): SpecError[] {
  const errors: SpecError[] = [];
  for (const { kind, document, errorPaths } of failed) {
    const data = document.data as Record<string, unknown>;
    const name = typeof data.name === "string" ? data.name : undefined;
    const check = (path: DataPath, ref: unknown) => {
      if (typeof ref !== "string" || toolsetNames.has(ref)) return;
      const covered = errorPaths.some(
        (p) => p.length > 0 && p.length <= path.length && p.every((segment, i) => String(segment) === String(path[i])),
      );
      if (covered) return;
      const location = locate(document, path);
      errors.push({
        location,
        kind,
        ...(name === undefined ? {} : { name }),
        message: atPath(path, `unknown McpToolset "${ref}"${didYouMean(ref, toolsetNames)}`),
      });
    };
    if (kind === "Agent" && Array.isArray(data.toolsets)) {
      for (const [index, ref] of data.toolsets.entries()) check(["toolsets", index], ref);
    }
    if (kind === "Vault" && Array.isArray(data.credentials)) {
      for (const [index, credential] of data.credentials.entries()) {
        const auth = (credential as { auth?: unknown } | null)?.auth;
        if (auth !== null && typeof auth === "object" && !Array.isArray(auth)) {
          check(["credentials", index, "auth", "toolset"], (auth as { toolset?: unknown }).toolset);
        }
      }
    }
  }
  return errors;
}
