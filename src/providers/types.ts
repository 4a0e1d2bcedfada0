/**
 * The provider interface: everything the reconcile engine knows about a kind of API resource.
 *
 * The engine (`src/reconcile/`) never names a kind; it calls these functions through the registry
 * (`src/providers/registry.ts`). Adding a kind means one module implementing `Provider`, one registry line, its
 * schema and its emulator routes (DESIGN.md, "Rooms").
 */
import type Anthropic from "@anthropic-ai/sdk";
import type { DesiredSpecs, SecretSource, SourceLocation } from "../spec/types.js";
import type { AppliedStamp } from "./ownership.js";

/** API resource types, lower-case as in plan addresses (`agent.export-support`). */
export type ResourceType =
  | "agent"
  | "environment"
  | "vault"
  | "credential"
  | "memory_store"
  | "skill"
  | "tunnel"
  | "deployment";

/** A JSON value as it appears in comparable state and in plans. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * The comparable form of a resource: API field names, server defaults filled in, order-insensitive lists turned
 * into maps keyed by their identity (so `tools` in any order compare equal and a change has a readable path like
 * `tools["mcp_toolset:export-jobs"].configs.retry_export_job.permission_policy`), ownership metadata removed.
 * Both sides of the diff are in this form.
 */
export type ComparableState = { [key: string]: Json };

/** What the run is about: the stack that owns resources, and where secret values come from. */
export interface ProviderContext {
  /** The stack id from the project configuration; written into every created resource's metadata. */
  stack: string;
  /** Reads secret values (`${env:NAME}`); plan uses it only to fingerprint, never to print. */
  secrets: SecretSource;
}

/**
 * One resource the specs declare. `spec` holds the resolved spec; secret fields stay `SecretRef` objects until
 * `create`/`update` substitute them.
 */
export interface DesiredResource {
  type: ResourceType;
  /** Unique within the type. A credential's name is `<vault>/<credential>`. */
  name: string;
  /** `type.name`, the plan address. */
  address: string;
  /** Addresses this resource had before (`previous_names:`); a live resource found there is renamed, not recreated. */
  previousAddresses: string[];
  /** Addresses this resource needs to exist first (a credential needs its vault). */
  dependsOn: string[];
  state: ComparableState;
  /** Top-level or dotted paths in `state` whose values are secrets; shown as `(sensitive)`. */
  sensitive: string[];
  /**
   * Paths the server fills with a value of its own choosing when the spec leaves them out (an agent's
   * `model.effort` defaults per model). A live value there is not drift while the spec says nothing.
   */
  serverChosen: string[];
  /** Set when a secret the resource needs is not available now (the name of the missing variable). */
  missingSecrets: string[];
  /** Never archive or replace (`protect: true`); recorded on the live resource too. */
  protect: boolean;
  /** Prune deletes rather than archives (`on_prune: delete`); recorded on the live resource too. */
  deleteOnPrune: boolean;
  source?: SourceLocation;
  /** Provider-private: the resolved spec this resource came from. */
  spec: unknown;
  /**
   * Lines the plan prints under this resource's action, for the reviewer (a schedule's next run times). Never
   * compared, never applied, and not part of the plan digest (they may depend on the time the plan is made).
   * Computed on demand, for the resources a plan acts on only (computing every schedule's run times was a good part
   * of a no-op plan's time on the benchmark fleet).
   */
  annotations?: () => readonly string[];
}

/** One resource observed in the live API (owned by this stack, or named by an `adopt:` entry). */
export interface LiveResource {
  type: ResourceType;
  name: string;
  address: string;
  id: string;
  /** The parent's id (a credential's vault id). */
  parentId?: string;
  /** The resource's version where the kind has one (agents): the update precondition. */
  version?: number;
  state: ComparableState;
  /** Raw metadata, ownership keys included. */
  metadata: Record<string, string>;
  /** The live resource is marked protected (`reconcile/lifecycle: protect`). */
  protected: boolean;
  /** The live resource is marked for deletion on prune (`reconcile/lifecycle: delete`). */
  deleteOnPrune: boolean;
  created_at: string;
  /** The API object's `updated_at` (ISO 8601), when it has one: the time of the last write, by anyone. */
  updated_at?: string;
  /** What the `reconcile/applied` key says about reconcile's last write; absent when it has none (or none readable). */
  applied?: AppliedStamp;
  /** Outputs besides `id` and `version` that other resources may refer to (`Provider.outputs`: a tunnel's `domain`). */
  outputs?: Record<string, Json>;
}

/** What create/update return: enough to continue (a credential needs its vault's id). */
export interface AppliedRef {
  id: string;
  version?: number;
  /** Outputs the write made known (a created tunnel's `domain`), for references resolved later in the same apply. */
  outputs?: Record<string, Json>;
}

/** Called with the objects of one list page as it arrives (`Provider.list`, `listObjects`). */
export type PageCallback = (objects: readonly ApiObject[]) => void;

/** A raw API object as listed (`BetaManagedAgentsAgent`, `BetaEnvironment`, ...). */
export type ApiObject = { id: string; metadata?: Record<string, string>; [key: string]: unknown };

/** What an update changes: the top-level state fields to send, and metadata keys reconcile itself sets or removes. */
export interface UpdateRequest {
  /** Top-level fields of the comparable state that differ (`system`, `tools`, `metadata`...). */
  fields: readonly string[];
  /** Reserved metadata keys to upsert (string) or delete (null): ownership on adopt, name on rename, lifecycle. */
  ownership: Record<string, string | null>;
}

/**
 * The provider of one resource type. All API calls go through the official SDK client. Ownership (which objects
 * are ours, protection, adoption, renames) is the engine's business; a provider maps specs and objects to
 * comparable state and makes the calls.
 */
export interface Provider {
  readonly type: ResourceType;
  /** The parent type whose live objects this type is listed under (credentials under vaults). */
  readonly parent?: ResourceType;
  /** Field paths (prefixes of change paths) the API cannot change in place: a change forces `-/+` replace. */
  readonly replaceOn: readonly string[];
  /**
   * How a replacement runs. `create-first` (dependents keep working) creates the new resource and then archives
   * the old; `archive-first` is for kinds where two cannot coexist (a vault holds one active credential per MCP
   * server URL, so the old one must go first).
   */
  readonly replaceOrder: "create-first" | "archive-first";
  /** The resources this type's specs declare, in name order. */
  desired(specs: DesiredSpecs, ctx: ProviderContext): DesiredResource[];
  /**
   * The list of `DesiredSpecs` whose items `desired` maps one by one, each item's resources depending on that item
   * alone (and `ctx`): `desiredResourcesInSlices` may then call `desired` with parts of that list, in order, and let
   * the event loop turn in between. Absent: `desired` is called once with every spec.
   */
  readonly desiredPerItemOf?: "agents" | "vaults";
  /**
   * Every live, unarchived object of this type (all pages); for a child type, those under `parentId`. `onPage`, when
   * given, is called with each page's objects as it arrives (after the next page is asked for), so a caller can work
   * on them while the rest of the list is in flight; a provider that does not page may never call it. Resolves to
   * the objects not handed to `onPage`: all of them without it, none when every page went to it (`listObjects`).
   */
  list(client: Anthropic, parentId?: string, onPage?: PageCallback): Promise<ApiObject[]>;
  /** One object by id (404 is the SDK's `NotFoundError`). */
  retrieve(client: Anthropic, id: string, parentId?: string): Promise<ApiObject>;
  /** The comparable state of a live object (server defaults filled, reserved metadata removed). */
  state(object: ApiObject): ComparableState;
  /**
   * Creates the resource with `ownership` (reserved metadata keys) added to its metadata. Sent without SDK retries
   * (`maxRetries: 0`): apply retries writes itself, after checking whether the lost one landed (ADR 7).
   * Throws the SDK's `APIError` on failure.
   */
  create(
    client: Anthropic,
    desired: DesiredResource,
    ctx: ProviderContext,
    ownership: Record<string, string>,
    parentId?: string,
  ): Promise<AppliedRef>;
  /**
   * Updates `request.fields` and the reserved metadata keys in `request.ownership`, with the live `version` as a
   * precondition where the kind has one (a mismatch is the API's 409). Sent without SDK retries, like `create`.
   * Throws the SDK's `APIError` on failure.
   */
  update(
    client: Anthropic,
    desired: DesiredResource,
    live: LiveResource,
    request: UpdateRequest,
    ctx: ProviderContext,
  ): Promise<AppliedRef>;
  /**
   * Archives the live resource (reversible; the API keeps it readable). Absent for kinds the API can only delete
   * (skills): prune, duplicates and the old half of a replace then delete instead.
   */
  archive?(client: Anthropic, live: LiveResource): Promise<void>;
  /** Deletes the live resource, for kinds the API can delete (`on_prune: delete`). Absent: the kind cannot. */
  delete?(client: Anthropic, live: LiveResource): Promise<void>;
  /**
   * Outputs of a live object besides `id` and `version` that other resources refer to with an `OutputRef` (a
   * tunnel's API-assigned `domain`). Observe stores them in `LiveResource.outputs`.
   */
  outputs?(object: ApiObject): Record<string, Json>;
  /** The outputs an update changes (references to them are `(known after apply)` while one is planned). Default `["version"]`. */
  readonly outputsChangedByUpdate?: readonly string[];
  /**
   * The metadata ownership is read from (default: `object.metadata`). A kind without a metadata field (skills)
   * rebuilds the ownership keys (`ownershipMetadata`) from what it can store, such as a display-name convention.
   */
  metadataOf?(object: ApiObject): Record<string, string> | undefined;
  /**
   * False for a kind that cannot write ownership after creation (no metadata, no update of the field that carries
   * it). An `adopt:` entry of such a kind makes observe treat the object as owned for as long as the entry stays in
   * reconcile.yaml, instead of planning an adopt that could never be recorded. Default true.
   */
  readonly recordsOwnership?: boolean;
}
