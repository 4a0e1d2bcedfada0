/**
 * The state one export run shares between the kind modules: the stack, warnings, the secret variables the specs
 * refer to, and the catalog of MCP toolsets derived from agents (which vault credentials may then name).
 */
import type { DesiredSpecs, ResolvedMcpToolset } from "../../spec/types.js";
import { ownerOf, userMetadata } from "../ownership.js";
import { ID_PREFIX } from "../response.js";
import type { ApiObject, ResourceType } from "../types.js";
import { envVarName, NameBook } from "./naming.js";
import { ToolsetCatalog } from "./toolset.js";
import type { Owner } from "./types.js";

/** One environment variable an exported spec refers to (`${env:NAME}`): its value must be provided before apply. */
export interface SecretVariable {
  /** The variable, like `MAIL_WORKSPACE_MCP_TOKEN`. */
  name: string;
  /** The resource that needs it: `credential.mail/workspace-mcp`. */
  address: string;
  /** The secret field it fills, like `auth.token`. */
  field: string;
}

/** Per-run export state (see the module comment). */
export class ExportContext {
  /** Human-readable notes about what could not be exported exactly, in the order they were found. */
  readonly warnings: string[] = [];
  /** Every secret reference written, in the order they were made. */
  readonly secrets: SecretVariable[] = [];
  /** The toolsets agents use, shared between agents with the same server and tool configuration. */
  readonly toolsets: ToolsetCatalog;
  private readonly variables = new NameBook();
  /**
   * Every live object being exported, by id, with the spec name it gets: filled for all objects of a kind before
   * any of them is mapped, so a spec can name another one (an agent's multiagent roster).
   */
  readonly exported = new Map<string, { name: string; object: ApiObject }>();

  /** The plan addresses the repository declares (`agent.NAME`, `vault.NAME`, ...): specs a new spec may name. */
  private readonly declared: ReadonlySet<string>;
  /** The `adopt:` entries of the target exported from: live id → plan address. */
  private readonly adopted: ReadonlyMap<string, string>;

  /**
   * @param stack the stack of the repository exported into (`reconcile.yaml`)
   * @param existingToolsets McpToolset specs already in the repository: reused when identical, names avoided
   * @param repository the repository's specs and the `adopt:` entries of the target exported from, so that a spec
   *   can name a resource this run does not export but the repository already declares (`specNameFor`)
   */
  constructor(
    readonly stack: string,
    existingToolsets: readonly ResolvedMcpToolset[] = [],
    repository?: { specs: DesiredSpecs; adopt: ReadonlyArray<{ address: string; id: string }> },
  ) {
    this.toolsets = new ToolsetCatalog(
      existingToolsets,
      (message) => this.warn(message),
      () => this.tunnels(),
    );
    this.declared = new Set(repository ? declaredAddresses(repository.specs) : []);
    this.adopted = new Map((repository?.adopt ?? []).map((a) => [a.id, a.address]));
  }

  /** The tunnels exported in this run, by spec name with their live domain (for toolsets behind them). */
  tunnels(): Array<{ name: string; domain: string }> {
    return exportedTunnels(this.exported);
  }

  /**
   * The spec name under which a spec of this export may refer to the live object `id` of `type`: the name it is
   * exported under in this run; else, when the repository declares that spec, the name its `adopt:` entry gives it,
   * or the name its ownership records for this stack (`related`: objects read for that, like a deployment's agent
   * when only the deployment was asked for). Undefined when none applies (another stack's, or not declared).
   */
  specNameFor(type: ResourceType, id: string, related: readonly ApiObject[] = []): string | undefined {
    const exported = this.exported.get(id);
    if (exported) return exported.name;
    const address = this.adopted.get(id);
    if (address?.startsWith(`${type}.`) && this.declared.has(address)) return address.slice(type.length + 1);
    const owner = ownerOf(related.find((o) => o.id === id)?.metadata);
    if (owner && owner.stack === this.stack && this.declared.has(`${type}.${owner.name}`)) return owner.name;
    return undefined;
  }

  /** Records a warning (printed once, at the end). */
  warn(message: string): void {
    this.warnings.push(message);
  }

  /**
   * A secret reference `${env:NAME}` for the secret `field` of the resource at `address`, with a variable name
   * derived from `parts` (made unique with `_2`, `_3`...), recorded for the list printed at the end.
   */
  secretRef(parts: readonly string[], address: string, field: string): string {
    const base = envVarName(parts);
    let name = base;
    for (let n = 2; this.variables.has(name); n++) name = `${base}_${n}`;
    this.variables.claim(name);
    this.secrets.push({ name, address, field });
    return `\${env:${name}}`;
  }
}

/** The tunnels exported in this run (`tnl_` ids, `tunnelExporter`), by spec name with their live domain. */
function exportedTunnels(exported: ExportContext["exported"]): Array<{ name: string; domain: string }> {
  return [...exported.entries()]
    .filter(([id, e]) => id.startsWith(`${ID_PREFIX.tunnel}_`) && typeof e.object.domain === "string")
    .map(([, e]) => ({ name: e.name, domain: String(e.object.domain) }));
}

/** The owner a live object's ownership metadata names, or null when no reconcile stack manages it. */
export function ownerFromMetadata(metadata: Record<string, string> | undefined): Owner | null {
  return ownerOf(metadata);
}

/** The most metadata keys a spec may set (`common.schema.json`: the API's 16 minus the keys reconcile reserves). */
export const MAX_SPEC_METADATA_KEYS = 11;

/**
 * The `metadata:`, `protect:` and `on_prune:` fields of a spec for a live object: user metadata (reserved keys
 * `managed-by` and `reconcile/*` removed, keys sorted) when there is any; with `withProtect`, `protect: true` or
 * `on_prune: delete` from the object's `reconcile/lifecycle`. Warns when there are more keys than a spec may hold
 * (validation will then say so).
 */
export function commonFields(
  metadata: Record<string, string> | undefined,
  withProtect: boolean,
  address: string,
  ctx: ExportContext,
): Record<string, unknown> {
  const user = userMetadata(metadata);
  const count = Object.keys(user).length;
  if (count > MAX_SPEC_METADATA_KEYS) {
    ctx.warn(
      `${address}: has ${count} metadata keys; a spec may set at most ${MAX_SPEC_METADATA_KEYS} (reconcile reserves the rest), so validate will fail until you remove some`,
    );
  }
  const out: Record<string, unknown> = {};
  if (Object.keys(user).length > 0) {
    out.metadata = Object.fromEntries(Object.entries(user).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
  const lifecycle = withProtect ? ownerOf(metadata)?.lifecycle : null;
  if (lifecycle === "protect") out.protect = true;
  if (lifecycle === "delete") out.on_prune = "delete";
  return out;
}

/** The plan addresses of the specs in `specs` that a spec may name (credentials and toolsets aside). */
function declaredAddresses(specs: DesiredSpecs): string[] {
  const named = (type: ResourceType, list: ReadonlyArray<{ name: string }> | undefined) =>
    (list ?? []).map((s) => `${type}.${s.name}`);
  return [
    ...named("agent", specs.agents),
    ...named("environment", specs.environments),
    ...named("vault", specs.vaults),
    ...named("memory_store", specs.memory_stores),
    ...named("skill", specs.skills),
    ...named("tunnel", specs.tunnels),
    ...named("deployment", specs.deployments),
  ];
}
