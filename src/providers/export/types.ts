/**
 * The export interface: what `src/reconcile/export.ts` knows about a kind of live resource it can write specs for.
 * One module per kind implements `ResourceExporter`; `index.ts` holds the table.
 */
import type Anthropic from "@anthropic-ai/sdk";
import type { ReadSkill } from "../skill-content.js";
import type { ApiObject, ResourceType } from "../types.js";
import type { ExportContext } from "./context.js";

/** A spec document as plain data, in the field order it is written (`apiVersion`, `kind`, `name` first). */
export type SpecDocument = Record<string, unknown>;

/** The spec kinds export writes. `McpToolset` has no API resource: it is derived from agents. */
export type ExportKind =
  | "Agent"
  | "Environment"
  | "Vault"
  | "McpToolset"
  | "MemoryStore"
  | "Tunnel"
  | "Skill"
  | "Deployment";

/** Who owns a live object, from its ownership metadata (`managed-by`, `reconcile/stack`, `reconcile/name`). */
export interface Owner {
  stack: string;
  /** The spec name it was created under (for a credential `vault/credential`). */
  name: string;
  /** `protect` or `delete` (`reconcile/lifecycle`), or null for the default. */
  lifecycle: "protect" | "delete" | null;
}

/** One live object to export, with the child objects that go into the same spec (a vault's credentials). */
export interface LiveItem {
  object: ApiObject;
  children: ApiObject[];
  /**
   * Objects the spec refers to that this run may not export (a deployment's agent when only the deployment's id
   * was asked for): read so their spec names can be found from their ownership. Never exported themselves.
   */
  related?: ApiObject[];
  /** Content read with the object that the spec writes as files (a skill's latest version), already checked. */
  content?: ReadSkill;
}

/**
 * A folder written next to a spec (a skill's files), relative to the spec file's folder, holding exactly `files`.
 * Paths are POSIX, relative to `folder`, and safe: no `..`, no empty or absolute segment (`readSkillZip` checks).
 */
export interface SpecTree {
  folder: string;
  files: Array<{ path: string; data: Uint8Array }>;
}

/** One API resource a spec stands for, with its plan address (`agent.NAME`, `credential.VAULT/NAME`). */
export interface ExportedResource {
  address: string;
  id: string;
  /** The owner according to the live metadata, or null for a resource no reconcile stack manages. */
  owner: Owner | null;
}

/** What an exporter makes of one live item: the spec document and the resources it covers. */
export interface ExportedSpec {
  document: SpecDocument;
  resources: ExportedResource[];
  /** A folder of files the spec refers to (a Skill's `path`), written with it. */
  tree?: SpecTree;
}

/** Thrown for an id export cannot use (unknown prefix, no such resource). The message says what to do. */
export class ExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ExportError";
  }
}

/**
 * The exporter of one kind of API resource: lists or retrieves live objects through the SDK, names them, and maps
 * one to a spec document that plans to zero changes against it once adopted.
 */
export interface ResourceExporter {
  readonly kind: Exclude<ExportKind, "McpToolset">;
  /** The plan address type (`agent` in `agent.NAME`). */
  readonly type: ResourceType;
  /** The id prefixes this exporter accepts in `--id` (`agent_`); an id is this kind's when it starts with one. */
  readonly idPrefixes: readonly string[];
  /**
   * Every unarchived object of the kind (all pages) when `ids` is null, else the objects `ids` name. Archived
   * objects named by id are skipped with a warning through `ctx`.
   * @throws ExportError when an id names nothing; the SDK's `APIError` for other API failures
   */
  fetch(client: Anthropic, ids: readonly string[] | null, ctx: ExportContext): Promise<LiveItem[]>;
  /** The spec name the item wants (ownership `reconcile/name`, else a slug of its API name) and its owner. */
  wantedName(item: LiveItem): { name: string; owner: Owner | null };
  /**
   * The spec for `item` named `name`. Lossy mappings are reported through `ctx.warn`; null when no valid spec can be
   * written (a deployment whose agent has no spec name), with a note saying why and what to do.
   */
  toSpec(item: LiveItem, name: string, ctx: ExportContext): ExportedSpec | null;
}
