import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { AnySchemaObject, ValidateFunction } from "ajv";
import type {
  AgentSpec,
  DeploymentSpec,
  EnvironmentSpec,
  McpToolsetSpec,
  MemoryStoreSpec,
  SkillSpec,
  TunnelSpec,
  VaultSpec,
} from "../generated/index.js";
import { VALIDATORS } from "../generated/validators/standalone.js";
import { describeAjvErrors, type Problem } from "./ajv-messages.js";
import { classifyApiVersion } from "./api-version.js";
import type { LoadedDocument } from "./load.js";
import { type DataPath, documentLocation, locate, type SourceDocument } from "./position.js";
import { didYouMean } from "./suggest.js";
import { API_VERSION, SPEC_KINDS, type SpecError, type SpecKind } from "./types.js";

/** A document that passed its kind's schema, typed by the types generated from that schema. */
export type ValidatedSpec =
  | { kind: "Agent"; spec: AgentSpec; document: LoadedDocument }
  | { kind: "Environment"; spec: EnvironmentSpec; document: LoadedDocument }
  | { kind: "McpToolset"; spec: McpToolsetSpec; document: LoadedDocument }
  | { kind: "Skill"; spec: SkillSpec; document: LoadedDocument }
  | { kind: "Tunnel"; spec: TunnelSpec; document: LoadedDocument }
  | { kind: "Vault"; spec: VaultSpec; document: LoadedDocument }
  | { kind: "MemoryStore"; spec: MemoryStoreSpec; document: LoadedDocument }
  | { kind: "Deployment"; spec: DeploymentSpec; document: LoadedDocument };

/** What `validateDocuments` returns. */
export interface ValidationResult {
  /** The documents that are valid, in input order. */
  specs: ValidatedSpec[];
  errors: SpecError[];
  /**
   * Specs that declare a kind and a name but are invalid: resolve does not report references to them as unknown
   * (the spec's own error says what is wrong), nor resolves what refers to them.
   */
  invalid: Array<{ kind: SpecKind; name: string }>;
  /**
   * The documents of a known kind that failed their schema, with their kind: resolve still checks the references
   * of the fields that did validate (`referenceErrorsOfInvalid`), so one run reports every error of a file.
   */
  failed: Array<{ kind: SpecKind; document: LoadedDocument; errorPaths: DataPath[] }>;
}

/**
 * The `schemas/` folder, found relative to this module: `src/spec/validate.ts` under vitest and
 * `dist/spec/validate.js` after the build both sit two levels below the package root.
 */
export const SCHEMA_DIR = fileURLToPath(new URL("../../schemas/", import.meta.url));

interface Validators {
  /** Each kind's validator and the `$id` of its schema. */
  byKind: Map<string, { validate: ValidateFunction; id: string }>;
  /** The raw schemas by `$id`: error wording and `secretFieldPaths` read them (`schemaAt`). */
  raw: Map<string, AnySchemaObject>;
}

let cached: Validators | undefined;

/**
 * The validators of every schema of `schemas/`, compiled at build time by `scripts/gen-validators.mjs` (ajv
 * 2020-12, `allErrors`, `verbose`, formats, discriminators; `src/generated/validators/standalone.ts`), so nothing is
 * compiled at run time. The raw schemas are read once per process (small JSON files) for what the validators do not
 * carry: which schema is a kind (its `kind` property is a `const`; the same rule drives `scripts/gen-types.mjs`),
 * and the targets of `$ref`s. `npm run gen:check` fails when the generated code is older than a schema.
 */
function validators(): Validators {
  if (cached) return cached;
  const raw = new Map<string, AnySchemaObject>();
  for (const file of readdirSync(SCHEMA_DIR)
    .filter((f) => f.endsWith(".schema.json"))
    .sort()) {
    const schema = JSON.parse(readFileSync(`${SCHEMA_DIR}${file}`, "utf8")) as AnySchemaObject;
    if (typeof schema.$id === "string") raw.set(new URL(schema.$id).href, schema);
  }
  const byKind = new Map<string, { validate: ValidateFunction; id: string }>();
  for (const [id, schema] of raw) {
    const kind = (schema.properties as Record<string, AnySchemaObject> | undefined)?.kind?.const;
    const validate = VALIDATORS[id];
    if (typeof kind === "string" && validate) byKind.set(kind, { validate, id });
  }
  cached = { byKind, raw };
  return cached;
}

/**
 * The raw schema (or sub-schema) at `url`: a schema's `$id`, optionally with a JSON-pointer fragment
 * (`...common.schema.json#/$defs/secret_ref`), as ajv's `getSchema(url).schema` gave it. Undefined when there is none.
 */
function schemaAt(url: string): AnySchemaObject | undefined {
  const [base = "", fragment = ""] = url.split("#");
  let node: unknown = validators().raw.get(base);
  for (const segment of fragment.split("/").slice(1)) {
    if (node === null || typeof node !== "object") return undefined;
    const key = decodeURIComponent(segment).replaceAll("~1", "/").replaceAll("~0", "~");
    node = (node as Record<string, unknown>)[key];
  }
  return node !== null && typeof node === "object" ? (node as AnySchemaObject) : undefined;
}

/** The base URL of every schema's `$id`; a file name resolves against it (`project.schema.json#/$defs/target`). */
const SCHEMA_BASE = "https://reconcile.dev/schemas/v1/";

/**
 * Validates `data` against a schema of `schemas/`, named by file and optional fragment, relative to the schemas'
 * `$id` base (`project.schema.json`, `project.schema.json#/$defs/adopt_entry`). Every schema and every `$defs` entry
 * has a validator (`scripts/gen-validators.mjs`).
 * @returns the problems, worded by `describeAjvErrors` (empty when `data` is valid)
 * @throws when no such schema exists (a programming error)
 */
export function schemaProblems(schema: string, data: unknown): Problem[] {
  const id = new URL(schema, SCHEMA_BASE).href;
  const validate = VALIDATORS[id];
  if (!validate) throw new Error(`no schema ${schema} in ${SCHEMA_DIR}`);
  if (validate(data)) return [];
  const resolveRef = (ref: string) => schemaAt(new URL(ref, id).href);
  return describeAjvErrors(validate.errors ?? [], data, resolveRef);
}

/**
 * Validates the data of a parsed YAML file against a schema of `schemas/` (see `schemaProblems`), each problem located
 * at its node as `file:line:col`. Used for `reconcile.yaml`; spec documents go through `validateDocuments`.
 */
export function checkAgainstSchema(
  schema: string,
  source: SourceDocument,
  data: unknown,
): Array<Pick<SpecError, "location" | "message">> {
  return schemaProblems(schema, data).map((p) => ({ location: locate(source, p.path, p.at), message: p.message }));
}

/** A data path pattern: `*` stands for any list index or mapping key. */
export type PathPattern = ReadonlyArray<string>;

const SECRET_REF = new URL("common.schema.json#/$defs/secret_ref", SCHEMA_BASE).href;
const secretPathsByKind = new Map<string, PathPattern[]>();

/**
 * The data paths of a kind's secret fields (those whose schema is `common.schema.json#/$defs/secret_ref`), as
 * patterns where `*` is any list index or key: for a Vault `credentials.*.auth.token`, `...auth.secret_value`, ...
 * Read from the schemas (every branch of a union counts), so a secret field added to a schema is covered. Empty for
 * an unknown kind.
 */
export function secretFieldPaths(kind: string): PathPattern[] {
  const cachedPaths = secretPathsByKind.get(kind);
  if (cachedPaths) return cachedPaths;
  const { byKind } = validators();
  const entry = byKind.get(kind);
  const out: PathPattern[] = [];
  const walk = (schema: unknown, base: string, path: string[], seen: ReadonlySet<string>): void => {
    if (schema === null || typeof schema !== "object" || Array.isArray(schema)) return;
    const node = schema as AnySchemaObject;
    if (typeof node.$ref === "string") {
      const url = new URL(node.$ref, base).href;
      if (url === SECRET_REF) {
        out.push(path);
        return;
      }
      if (!seen.has(url)) walk(schemaAt(url), url.split("#")[0] ?? url, path, new Set([...seen, url]));
    }
    for (const [key, sub] of Object.entries((node.properties as Record<string, unknown> | undefined) ?? {})) {
      walk(sub, base, [...path, key], seen);
    }
    walk(node.items, base, [...path, "*"], seen);
    walk(node.additionalProperties, base, [...path, "*"], seen);
    for (const union of ["oneOf", "anyOf", "allOf"]) {
      const branches = node[union];
      if (Array.isArray(branches)) for (const branch of branches) walk(branch, base, path, seen);
    }
  };
  if (entry) walk(schemaAt(entry.id), entry.id, [], new Set());
  secretPathsByKind.set(kind, out);
  return out;
}

/** Whether a data path matches one of the patterns (`*` matches any one segment). */
export function matchesPath(path: DataPath, patterns: readonly PathPattern[]): boolean {
  return patterns.some(
    (p) => p.length === path.length && p.every((segment, i) => segment === "*" || segment === String(path[i])),
  );
}

function isSpecKind(kind: unknown): kind is SpecKind {
  return typeof kind === "string" && (SPEC_KINDS as readonly string[]).includes(kind);
}

/**
 * Checks each document's `apiVersion` (must be `reconcile/v1`; a near miss such as `reconcle/v1`, a bare `v1` or a
 * non-string gets "did you mean") and `kind` (one of `SPEC_KINDS`), then validates it
 * against its kind's schema in `schemas/`. Every problem of every document is reported, located at the offending
 * node (see `describeAjvErrors` for the wording). Documents are independent: cross-references are resolve's job.
 */
export function validateDocuments(documents: readonly LoadedDocument[]): ValidationResult {
  const { byKind } = validators();
  const result: ValidationResult = { specs: [], errors: [], invalid: [], failed: [] };
  const kinds = [...byKind.keys()].sort();
  for (const document of documents) {
    const { data } = document;
    const kind = isSpecKind(data.kind) ? data.kind : undefined;
    const name = typeof data.name === "string" ? data.name : undefined;
    const fail = (location: SpecError["location"], message: string) => {
      result.errors.push({ location, message, ...(kind ? { kind } : {}), ...(kind && name ? { name } : {}) });
    };
    if (data.apiVersion === undefined) {
      fail(documentLocation(document), `missing apiVersion: add "apiVersion: ${API_VERSION}"`);
    } else if (data.apiVersion !== API_VERSION) {
      const version = data.apiVersion;
      const given = typeof version === "string" ? version : JSON.stringify(version);
      const typo =
        typeof version !== "string" ||
        classifyApiVersion(version) !== "reconcile" ||
        version.trim().toLowerCase() === API_VERSION;
      const hint = typo ? ` (did you mean "${API_VERSION}"?)` : "";
      fail(
        locate(document, ["apiVersion"]),
        `unsupported apiVersion "${given}"${hint}: this version of reconcile reads ${API_VERSION}`,
      );
    } else if (data.kind === undefined) {
      fail(documentLocation(document), `missing required field "kind" (one of ${kinds.join(", ")})`);
    } else if (!kind || !byKind.has(kind)) {
      const given = typeof data.kind === "string" ? `"${data.kind}"` : "a non-string value";
      const hint = typeof data.kind === "string" ? didYouMean(data.kind, kinds) : "";
      fail(locate(document, ["kind"]), `unknown kind ${given}; expected one of ${kinds.join(", ")}${hint}`);
    } else {
      const { validate, id } = byKind.get(kind) as { validate: ValidateFunction; id: string };
      if (validate(data)) {
        // The schema just checked `data`, and the spec types are generated from that schema.
        result.specs.push({ kind, spec: data, document } as unknown as ValidatedSpec);
        continue;
      }
      const resolveRef = (ref: string) => schemaAt(new URL(ref, id).href);
      const errorPaths: DataPath[] = [];
      for (const problem of describeAjvErrors(validate.errors ?? [], data, resolveRef)) {
        fail(locate(document, problem.path, problem.at), problem.message);
        errorPaths.push(problem.path);
      }
      result.failed.push({ kind, document, errorPaths });
    }
    if (kind && name) result.invalid.push({ kind, name });
  }
  return result;
}
