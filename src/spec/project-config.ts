/**
 * The project configuration: `reconcile.yaml` at the repository root. It names the stack, the set of resources
 * this repository owns (written into every resource's ownership metadata), so two repositories can manage
 * different agents in one workspace without touching each other's (DESIGN.md, "Identity lives on the live
 * resource").
 *
 * It also declares the targets (workspaces) the specs are applied to, with their `${var:NAME}` values, prune
 * settings, and `adopt:` entries. Its format is `schemas/project.schema.json`; it is checked with the same ajv
 * machinery and `file:line:col` locations as the specs.
 */
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Document, isMap, isScalar, isSeq, LineCounter, parseDocument, type YAMLMap } from "yaml";
import type { ProjectConfigFile } from "../generated/index.js";
import { compareSpecErrors } from "./errors.js";
import { atPath, locate, locationAt, type SourceDocument } from "./position.js";
import { didYouMean } from "./suggest.js";
import type { SourceLocation, SpecError } from "./types.js";
import { checkAgainstSchema, schemaProblems } from "./validate.js";

/**
 * One target: a workspace (and endpoint) the same specs are applied to, with the values that differ there.
 * `${var:NAME}` in any spec string is replaced by `values[NAME]` of the selected target before validation.
 */
export interface TargetConfig {
  name: string;
  /** The environment variable holding this target's API key. Default `ANTHROPIC_API_KEY`. */
  api_key_env: string;
  /** Sent as `anthropic-workspace-id`; null to use the key's own workspace. */
  workspace_id: string | null;
  /** The API base URL; null for `ANTHROPIC_BASE_URL` or the SDK default. */
  base_url: string | null;
  /** Values for `${var:NAME}` in specs (model ids, MCP server URLs, allowed hosts...). */
  values: Record<string, string>;
  /**
   * The environment variables specs may read as secrets in this target (`${env:NAME}`): the target's `secret_env`,
   * else the top-level one, else none. See `src/spec/secret-env.ts`.
   */
  secret_env: string[];
  /**
   * Variables no spec may read in this target, declared or not: every target's `api_key_env` (see
   * `reservedEnvNames`). Names matching `RESERVED_ENV_PREFIXES`/`RESERVED_ENV_NAMES` are refused too.
   */
  reserved_env: string[];
  /** Where the target is declared; null for the implicit `default` target of a file with no `targets:`. */
  source: SourceLocation | null;
}

/** An `adopt:` entry: take over the live resource `id` as the spec at `address` (like a Terraform import block). */
export interface AdoptEntry {
  /** A plan address: `agent.NAME`, `environment.NAME`, `vault.NAME`, `memory_store.NAME`, `skill.NAME`, `deployment.NAME`, `tunnel.NAME` or `credential.VAULT/NAME`. */
  address: string;
  id: string;
  /** The target the id exists in (`target:`); absent: the default target (see `adoptEntriesFor`). */
  target?: string;
  source: SourceLocation;
}

/**
 * An `ignore:` entry: a glob (picomatch syntax) of YAML files under the repository root that are not reconcile specs
 * (Kubernetes manifests, compose files, Helm charts). See `isIgnored` in `load.ts` for how it matches.
 */
export interface IgnoreEntry {
  pattern: string;
  source: SourceLocation;
}

/** The parsed `reconcile.yaml`. */
export interface ProjectConfig {
  /** The stack id: lower-case letters, digits and dashes, at most 63 characters. */
  stack: string;
  /** The file the configuration came from, or null when the defaults are used (no `reconcile.yaml`). */
  file: string | null;
  /** Archive owned resources whose spec was removed (like `--prune`). Default false. */
  prune: boolean;
  /** Top-level `secret_env`: the variables specs may read as secrets where a target does not declare its own. */
  secret_env: string[];
  /** `mcp.agents`: the agents `reconcile mcp` offers (spec names); absent offers every declared agent. */
  mcp_agents?: string[];
  /**
   * The largest share (0 to 1) of the stack's live resources one plan may archive before it is refused without
   * `--allow-mass-prune`. Default 0.5: an empty or mis-pointed checkout must never wipe a workspace.
   */
  max_prune_share: number;
  /** Declared targets; when `targets:` is absent, one implicit target named `default` with default settings. */
  targets: TargetConfig[];
  /** The target used when `--target` is not given: `default_target:`, or the only target, or null (must choose). */
  default_target: string | null;
  adopt: AdoptEntry[];
  /** YAML files that are not specs, by glob; every other YAML file must be a valid spec (or a foreign manifest). */
  ignore: IgnoreEntry[];
}

/** The file name of the project configuration, at the repository root. */
export const PROJECT_CONFIG_FILE = "reconcile.yaml";

/** The stack used when a repository has no `reconcile.yaml`. */
export const DEFAULT_STACK = "default";

/** The name of the implicit target of a configuration without `targets:`. */
export const DEFAULT_TARGET = "default";

/** The environment variable a target reads its API key from unless it sets `api_key_env`. */
export const DEFAULT_API_KEY_ENV = "ANTHROPIC_API_KEY";

/** `max_prune_share` when `reconcile.yaml` does not set it. */
export const DEFAULT_MAX_PRUNE_SHARE = 0.5;

/** The schema of `reconcile.yaml`, in `schemas/`. */
const SCHEMA = "project.schema.json";

/**
 * Environment variables that hold API keys or CI/GitHub credentials and that no spec may read, whatever
 * `secret_env` says (issue 7 item 5: a pull request must not be able to ship them to an MCP server of its choosing).
 */
export const RESERVED_ENV_NAMES: readonly string[] = [
  "ANTHROPIC_API_KEY",
  "ANTHROPIC_AUTH_TOKEN",
  "GITHUB_TOKEN",
  "GH_TOKEN",
  "GITHUB_APP_PRIVATE_KEY",
  "GITHUB_WEBHOOK_SECRET",
  "CI_JOB_TOKEN",
];

/** Prefixes of variables no spec may read: the API's own (`ANTHROPIC_`), GitHub's and the Actions runner's. */
export const RESERVED_ENV_PREFIXES: readonly string[] = ["ANTHROPIC_", "GITHUB_", "ACTIONS_", "RUNNER_"];

/**
 * Why `name` may never be read by a spec in a configuration whose targets read their API keys from `apiKeyEnvs`, or
 * undefined when it may be declared.
 */
export function reservedEnvReason(name: string, apiKeyEnvs: readonly string[]): string | undefined {
  if (apiKeyEnvs.includes(name)) return `${name} holds a target's API key (api_key_env)`;
  if (RESERVED_ENV_NAMES.includes(name)) return `${name} holds an API key or CI credential`;
  const prefix = RESERVED_ENV_PREFIXES.find((p) => name.startsWith(p));
  if (prefix) return `variables starting with ${prefix} hold API keys or CI/GitHub credentials`;
  return undefined;
}

/** The implicit target of a configuration that declares none: the default key, the key's workspace, no values. */
function implicitTarget(secretEnv: string[] = []): TargetConfig {
  return {
    name: DEFAULT_TARGET,
    api_key_env: DEFAULT_API_KEY_ENV,
    workspace_id: null,
    base_url: null,
    values: {},
    secret_env: secretEnv,
    reserved_env: [DEFAULT_API_KEY_ENV],
    source: null,
  };
}

/** The configuration of a repository without `reconcile.yaml` (`file` null, stack `default`, one implicit target). */
function defaults(file: string | null): ProjectConfig {
  return {
    stack: DEFAULT_STACK,
    file,
    prune: false,
    secret_env: [],
    max_prune_share: DEFAULT_MAX_PRUNE_SHARE,
    targets: [implicitTarget()],
    default_target: DEFAULT_TARGET,
    adopt: [],
    ignore: [],
  };
}

/**
 * Reads `reconcile.yaml` under `root` (see `parseProjectConfig`). A missing file gives the defaults: stack
 * `default`, no prune, `max_prune_share` 0.5, one implicit target `default` (`ANTHROPIC_API_KEY`, no values), which
 * is the default target, nothing to adopt and nothing ignored. Never throws: an unreadable file is an error at `reconcile.yaml:1:1`.
 * @returns the configuration, and the errors (with file:line:col) that make it unusable; with errors, `config` is a
 *   best effort (every valid setting kept, defaults elsewhere), so `validate` can still check the specs against it
 */
export async function loadProjectConfig(root: string): Promise<{ config: ProjectConfig; errors: SpecError[] }> {
  let text: string;
  try {
    text = await readFile(join(root, PROJECT_CONFIG_FILE), "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { config: defaults(null), errors: [] };
    const location = { file: PROJECT_CONFIG_FILE, line: 1, col: 1 };
    return {
      config: defaults(PROJECT_CONFIG_FILE),
      errors: [{ location, message: `cannot read the file (${code ?? (e as Error).message})` }],
    };
  }
  return parseProjectConfig(text);
}

/**
 * Parses and checks the text of a `reconcile.yaml`. Reports, located at the node (`reconcile.yaml:line:col`):
 * YAML syntax errors (duplicate keys included); everything `schemas/project.schema.json` refuses (unknown settings
 * with "did you mean", a missing or malformed `stack`, a bad target name, `max_prune_share` outside 0..1, an
 * `api_key_env` that is not a variable name, a `base_url` that is not an http(s) URL, non-string values, a malformed
 * adopt address or id); a `default_target` that names no declared target; the same adopt address or the same id
 * twice. `targets` keeps the file's order; see `ProjectConfig` for the defaults.
 */
export function parseProjectConfig(
  text: string,
  file: string = PROJECT_CONFIG_FILE,
): { config: ProjectConfig; errors: SpecError[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true, uniqueKeys: true });
  const source: SourceDocument = { file, doc, lineCounter };
  if (doc.errors.length > 0) {
    const errors = doc.errors.map((e) => ({
      location: locationAt(source, e.pos[0]),
      message: `invalid YAML: ${e.message}`,
    }));
    return { config: defaults(file), errors };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (e) {
    return {
      config: defaults(file),
      errors: [{ location: locationAt(source, 0), message: `invalid YAML: ${(e as Error).message}` }],
    };
  }
  const errors: SpecError[] = [...checkAgainstSchema(SCHEMA, source, data)];
  const config = bestEffort(data, source);
  if (isRecord(data)) errors.push(...crossChecks(data as Partial<ProjectConfigFile>, config, source));
  return { config, errors: errors.sort(compareSpecErrors) };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The configuration read from `data`, keeping each setting that has the right type and using defaults elsewhere. */
function bestEffort(data: unknown, source: SourceDocument): ProjectConfig {
  const config = defaults(source.file);
  if (!isRecord(data)) return config;
  if (typeof data.stack === "string") config.stack = data.stack;
  if (typeof data.prune === "boolean") config.prune = data.prune;
  const envNames = (list: unknown): string[] | undefined =>
    Array.isArray(list) ? list.filter((n): n is string => typeof n === "string") : undefined;
  config.secret_env = envNames(data.secret_env) ?? [];
  config.targets = [implicitTarget(config.secret_env)];
  if (isRecord(data.mcp) && Array.isArray(data.mcp.agents)) {
    config.mcp_agents = data.mcp.agents.filter((name): name is string => typeof name === "string");
  }
  const share = data.max_prune_share;
  if (typeof share === "number" && share >= 0 && share <= 1) config.max_prune_share = share;
  if (isRecord(data.targets) && Object.keys(data.targets).length > 0) {
    config.targets = Object.entries(data.targets).map(([name, raw]) => {
      const t = isRecord(raw) ? raw : {};
      const values: Record<string, string> = {};
      if (isRecord(t.values)) {
        for (const [key, value] of Object.entries(t.values)) {
          // A number is an error (quote it), but it is still defined: no second, misleading "not defined" error.
          if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
            values[key] = String(value);
          }
        }
      }
      return {
        name,
        api_key_env: typeof t.api_key_env === "string" ? t.api_key_env : DEFAULT_API_KEY_ENV,
        workspace_id: typeof t.workspace_id === "string" ? t.workspace_id : null,
        base_url: typeof t.base_url === "string" ? t.base_url : null,
        values,
        secret_env: envNames(t.secret_env) ?? config.secret_env,
        reserved_env: [],
        source: locate(source, ["targets", name], "key"),
      };
    });
    const keys = [...new Set(config.targets.map((t) => t.api_key_env))];
    for (const target of config.targets) target.reserved_env = keys;
    const names = config.targets.map((t) => t.name);
    const chosen = data.default_target;
    // A default_target naming nothing is an error (crossChecks); until it is fixed, fall back as if it were absent.
    config.default_target =
      typeof chosen === "string" && names.includes(chosen) ? chosen : names.length === 1 ? (names[0] ?? null) : null;
  }
  if (Array.isArray(data.adopt)) {
    for (const [index, entry] of data.adopt.entries()) {
      if (isRecord(entry) && typeof entry.address === "string" && typeof entry.id === "string") {
        config.adopt.push({
          address: entry.address,
          id: entry.id,
          ...(typeof entry.target === "string" ? { target: entry.target } : {}),
          source: locate(source, ["adopt", index]),
        });
      }
    }
  }
  if (Array.isArray(data.ignore)) {
    for (const [index, pattern] of data.ignore.entries()) {
      // Only well-formed patterns: a malformed one is an error (the schema's), and must not hide any file meanwhile.
      if (typeof pattern === "string" && schemaProblems(`${SCHEMA}#/$defs/ignore_pattern`, pattern).length === 0) {
        config.ignore.push({ pattern, source: locate(source, ["ignore", index]) });
      }
    }
  }
  return config;
}

/** What the schema cannot say: `default_target` names a declared target; adopt addresses and ids are unique. */
function crossChecks(data: Partial<ProjectConfigFile>, config: ProjectConfig, source: SourceDocument): SpecError[] {
  const errors: SpecError[] = [];
  const fail = (path: Array<string | number>, message: string) =>
    errors.push({ location: locate(source, path), message: atPath(path, message) });
  const chosen = data.default_target;
  if (typeof chosen === "string") {
    const declared = isRecord(data.targets) ? Object.keys(data.targets) : [];
    if (declared.length === 0 && chosen !== DEFAULT_TARGET) {
      fail(
        ["default_target"],
        `"${chosen}" names no target: reconcile.yaml declares no targets (declare it under targets:)`,
      );
    } else if (declared.length > 0 && !declared.includes(chosen)) {
      fail(
        ["default_target"],
        `"${chosen}" is not a declared target${didYouMean(chosen, declared)}; declared targets: ${declared.join(", ")}`,
      );
    }
  }
  const keys = config.targets.map((t) => t.api_key_env);
  const declaredEnv: Array<{ path: Array<string | number>; list: unknown }> = [
    { path: ["secret_env"], list: data.secret_env },
    ...Object.entries(isRecord(data.targets) ? data.targets : {}).map(([name, t]) => ({
      path: ["targets", name, "secret_env"],
      list: isRecord(t) ? t.secret_env : undefined,
    })),
  ];
  for (const { path, list } of declaredEnv) {
    if (!Array.isArray(list)) continue;
    for (const [index, name] of list.entries()) {
      const why = typeof name === "string" ? reservedEnvReason(name, keys) : undefined;
      if (why) fail([...path, index], `${why}: no spec may read it; remove it from the list`);
    }
  }
  const byAddress = new Map<string, number>();
  const byId = new Map<string, number>();
  const declared = isRecord(data.targets) ? Object.keys(data.targets) : [];
  if (Array.isArray(data.adopt)) {
    for (const [index, entry] of data.adopt.entries()) {
      if (!isRecord(entry)) continue;
      const { address, id, target } = entry as Partial<Record<string, unknown>>;
      if (typeof target === "string" && declared.length > 0 && !declared.includes(target)) {
        fail(
          ["adopt", index, "target"],
          `"${target}" is not a declared target${didYouMean(target, declared)}; declared targets: ${declared.join(", ")}`,
        );
      } else if (typeof target === "string" && declared.length === 0 && target !== DEFAULT_TARGET) {
        fail(["adopt", index, "target"], `"${target}" names no target: reconcile.yaml declares no targets`);
      } else if (target === undefined && config.default_target === null) {
        fail(
          ["adopt", index],
          `several targets are declared (${declared.join(", ")}) and there is no default_target: say which one the id exists in, with target: NAME`,
        );
      }
      // An id exists in one workspace: uniqueness is per target.
      const scope = `${typeof target === "string" ? target : config.default_target}\u0000`;
      if (typeof address === "string") {
        const first = byAddress.get(scope + address);
        if (first === undefined) byAddress.set(scope + address, index);
        else
          fail(["adopt", index, "address"], `"${address}" is adopted twice (first at line ${lineOf(source, first)})`);
      }
      if (typeof id === "string") {
        const first = byId.get(scope + id);
        if (first === undefined) byId.set(scope + id, index);
        else {
          const as = config.adopt.find((a) => a.source.line === lineOf(source, first))?.address;
          const what = as ? `, as ${as}` : "";
          fail(
            ["adopt", index, "id"],
            `"${id}" is adopted twice (first at line ${lineOf(source, first)}${what}): one live resource can back one spec only`,
          );
        }
      }
    }
  }
  return errors;
}

function lineOf(source: SourceDocument, index: number): number {
  return locate(source, ["adopt", index]).line;
}

/**
 * The target a command runs against: the one named by `--target` (`name`), else `default_target` (which is the only
 * declared target when there is one, or `default` when `reconcile.yaml` declares none).
 * @throws Error, saying what to do, when `name` is not a declared target (`unknown target "prod"; declared targets:
 *   staging, production`; for a resource address like `agent.x`, the hint to use `--only agent.x`), or when no name is given and several targets are declared without a `default_target`
 *   (`several targets are declared (a, b) and reconcile.yaml has no default_target: pass --target NAME`)
 */
export function selectTarget(config: ProjectConfig, name: string | undefined): TargetConfig {
  const names = config.targets.map((t) => t.name);
  const implicit = config.targets.every((t) => t.source === null);
  const wanted = name ?? config.default_target;
  if (wanted === null) {
    throw new Error(
      `several targets are declared (${names.join(", ")}) and reconcile.yaml has no default_target: pass --target NAME`,
    );
  }
  const target = config.targets.find((t) => t.name === wanted);
  if (target) return target;
  if (/^(agent|environment|vault|credential|memory_store|skill|deployment|tunnel)\./.test(wanted)) {
    throw new Error(
      `--target selects a target (workspace) from reconcile.yaml, and "${wanted}" is a resource address; to plan or apply only some resources (Terraform's -target), use --only ${wanted}`,
    );
  }
  if (implicit) {
    throw new Error(
      `unknown target "${wanted}"; reconcile.yaml declares no targets (declare it under targets:, or leave out --target)`,
    );
  }
  throw new Error(`unknown target "${wanted}"${didYouMean(wanted, names)}; declared targets: ${names.join(", ")}`);
}

/**
 * The `adopt:` entries of `targetName`: those with `target: targetName`, and those without a `target:` when
 * `targetName` is the default target (so a repository with one target needs no `target:` at all). An id exists in
 * one workspace only (issue 10), so an entry never applies to two targets.
 */
export function adoptEntriesFor(config: ProjectConfig, targetName: string): AdoptEntry[] {
  return config.adopt.filter((a) => (a.target ?? config.default_target) === targetName);
}

/**
 * The `target:` a new `adopt:` entry for `targetName` gets (from `reconcile import` and `export`): the target's name
 * when `reconcile.yaml` declares targets, so the entry is bound to the workspace its id exists in; undefined for the
 * implicit `default` target of a file without `targets:`.
 */
export function adoptTargetField(config: ProjectConfig, targetName: string): string | undefined {
  return config.targets.some((t) => t.source !== null) ? targetName : undefined;
}

/** What `addAdoptEntry` did to `reconcile.yaml`. */
export type AdoptEdit = "added" | "updated" | "unchanged";

/**
 * Records in `reconcile.yaml` (under `root`) that the live resource `id` is to be adopted as the spec at `address`:
 * adds an `adopt:` entry (creating the list if needed), or updates the id of the entry for `address`. With `target`,
 * the entry gets `target: NAME` and only entries of that target are matched (an id exists in one workspace only). The rest of
 * the file (comments, order, quoting, blank lines) is kept: the file is edited through `yaml`'s Document API and
 * written atomically (a temporary file renamed over it). Nothing is written when the entry is already there.
 * @returns `added`, `updated` (the address had another id) or `unchanged`
 * @throws Error when `address` or `id` is malformed (the rules of `schemas/project.schema.json#/$defs/adopt_entry`),
 *   when there is no `reconcile.yaml` (it is not created: the stack must be chosen deliberately), when the file is
 *   not valid YAML or not a mapping, when its `adopt:` is not a list, or when `id` is already adopted under
 *   another address
 */
export async function addAdoptEntry(root: string, address: string, id: string, target?: string): Promise<AdoptEdit> {
  const entry = { address, id, ...(target ? { target } : {}) };
  const problems = schemaProblems(`${SCHEMA}#/$defs/adopt_entry`, entry);
  if (problems.length > 0)
    throw new Error(`cannot adopt ${JSON.stringify(address)}: ${problems.map((p) => p.message).join("; ")}`);
  const file = join(root, PROJECT_CONFIG_FILE);
  const loaded = await readForEdit(file);
  const { doc, contents } = loaded;
  const adopt = contents.get("adopt", true);
  if (adopt === undefined || (isScalar(adopt) && adopt.value === null)) {
    contents.set("adopt", doc.createNode([entry]));
    await writeAtomically(file, render(loaded));
    return "added";
  }
  if (!isSeq(adopt)) throw new Error(`${PROJECT_CONFIG_FILE}: adopt: must be a list of {address, id} entries`);
  let edit: AdoptEdit = "added";
  let existing: YAMLMap | undefined;
  for (const item of adopt.items) {
    if (!isMap(item) || (item.get("target") ?? undefined) !== target) continue;
    const itemAddress = item.get("address");
    const itemId = item.get("id");
    if (itemAddress === address) existing = item;
    else if (itemId === id) {
      throw new Error(
        `${id} is already adopted as ${String(itemAddress)} in ${PROJECT_CONFIG_FILE}: one live resource can back one spec only`,
      );
    }
  }
  if (existing) {
    if (existing.get("id") === id) return "unchanged";
    existing.set("id", id);
    edit = "updated";
  } else {
    if (adopt.items.length === 0) adopt.flow = false;
    adopt.add(doc.createNode(entry));
  }
  await writeAtomically(file, render(loaded));
  return edit;
}

/**
 * Declares `names` as secret variables in `reconcile.yaml` under `root` (top-level `secret_env:`, created if absent),
 * keeping the rest of the file as it is (like `addAdoptEntry`); names already declared are left alone, and nothing
 * is written when all are. Used by `reconcile export`, whose specs refer to the variables it names.
 * @returns the names added, in the order given
 * @throws Error when a name is not a variable name or may never be declared (`reservedEnvReason`), when there is no
 *   `reconcile.yaml`, when it is not valid YAML or not a mapping, or when its `secret_env:` is not a list
 */
export async function addSecretEnv(root: string, names: readonly string[]): Promise<string[]> {
  for (const name of names) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`${JSON.stringify(name)} is not a variable name`);
    const why = reservedEnvReason(name, []);
    if (why) throw new Error(`${name} cannot be declared: ${why}`);
  }
  const file = join(root, PROJECT_CONFIG_FILE);
  const loaded = await readForEdit(file);
  const { doc, contents } = loaded;
  const list = contents.get("secret_env", true);
  const wanted = [...new Set(names)];
  if (list === undefined || (isScalar(list) && list.value === null)) {
    if (wanted.length === 0) return [];
    contents.set("secret_env", doc.createNode(wanted));
    await writeAtomically(file, render(loaded));
    return wanted;
  }
  if (!isSeq(list)) throw new Error(`${PROJECT_CONFIG_FILE}: secret_env: must be a list of variable names`);
  const have = new Set(list.items.map((item) => (isScalar(item) ? String(item.value) : "")));
  const added = wanted.filter((name) => !have.has(name));
  if (added.length === 0) return [];
  if (list.items.length === 0) list.flow = false;
  for (const name of added) list.add(doc.createNode(name));
  await writeAtomically(file, render(loaded));
  return added;
}

/**
 * Adds `patterns` to `ignore:` in `reconcile.yaml` under `root` (created if absent), keeping the rest of the file as
 * it is (like `addSecretEnv`); patterns already listed are left alone, and nothing is written when all are. Used by
 * `reconcile export` for the folders it writes that hold YAML files which are not specs (a skill's files).
 * @returns the patterns added, in the order given
 * @throws Error when a pattern is not an ignore pattern (`schemas/project.schema.json#/$defs/ignore_pattern`), when
 *   there is no `reconcile.yaml`, when it is not valid YAML or not a mapping, or when its `ignore:` is not a list
 */
export async function addIgnorePatterns(root: string, patterns: readonly string[]): Promise<string[]> {
  for (const pattern of patterns) {
    const problems = schemaProblems(`${SCHEMA}#/$defs/ignore_pattern`, pattern);
    if (problems.length > 0) throw new Error(`cannot ignore ${JSON.stringify(pattern)}: ${problems[0]?.message}`);
  }
  const file = join(root, PROJECT_CONFIG_FILE);
  const loaded = await readForEdit(file);
  const { doc, contents } = loaded;
  const list = contents.get("ignore", true);
  const wanted = [...new Set(patterns)];
  if (list === undefined || (isScalar(list) && list.value === null)) {
    if (wanted.length === 0) return [];
    contents.set("ignore", doc.createNode(wanted));
    await writeAtomically(file, render(loaded));
    return wanted;
  }
  if (!isSeq(list)) throw new Error(`${PROJECT_CONFIG_FILE}: ignore: must be a list of patterns`);
  const have = new Set(list.items.map((item) => (isScalar(item) ? String(item.value) : "")));
  const added = wanted.filter((pattern) => !have.has(pattern));
  if (added.length === 0) return [];
  if (list.items.length === 0) list.flow = false;
  for (const pattern of added) list.add(doc.createNode(pattern));
  await writeAtomically(file, render(loaded));
  return added;
}

/**
 * Removes the `adopt:` entries of `addresses` from `reconcile.yaml` under `root` (once the adoptions were applied),
 * keeping the rest of the file as it is; the `adopt:` key goes when its list becomes empty. A missing file, or no
 * matching entry, writes nothing.
 * @returns the addresses whose entries were removed, in file order
 * @throws Error when the file is not valid YAML, not a mapping, or its `adopt:` is not a list
 */
export async function removeAdoptEntries(root: string, addresses: readonly string[]): Promise<string[]> {
  const file = join(root, PROJECT_CONFIG_FILE);
  let loaded: Awaited<ReturnType<typeof readForEdit>>;
  try {
    loaded = await readForEdit(file);
  } catch (e) {
    if ((e as { missing?: boolean }).missing) return [];
    throw e;
  }
  const { contents } = loaded;
  const adopt = contents.get("adopt", true);
  if (adopt === undefined || (isScalar(adopt) && adopt.value === null)) return [];
  if (!isSeq(adopt)) throw new Error(`${PROJECT_CONFIG_FILE}: adopt: must be a list of {address, id} entries`);
  const wanted = new Set(addresses);
  const removed: string[] = [];
  adopt.items = adopt.items.filter((item) => {
    const address = isMap(item) ? item.get("address") : undefined;
    if (typeof address !== "string" || !wanted.has(address)) return true;
    removed.push(address);
    return false;
  });
  if (removed.length === 0) return [];
  if (adopt.items.length === 0) contents.delete("adopt");
  await writeAtomically(file, render(loaded));
  return removed;
}

/** Reads `reconcile.yaml` for editing; the error of a missing file has `missing: true`. */
async function readForEdit(file: string) {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      throw Object.assign(
        new Error(
          `no ${PROJECT_CONFIG_FILE} at ${file}: create it with a \`stack:\` first (the stack must be chosen deliberately, for example \`stack: support-agents\`)`,
        ),
        { missing: true },
      );
    }
    throw e;
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const { line, col } = lineCounter.linePos(first.pos[0]);
    throw new Error(`${PROJECT_CONFIG_FILE}:${line}:${col}: invalid YAML: ${first.message}; fix it first`);
  }
  if (!isMap(doc.contents)) {
    throw new Error(`${PROJECT_CONFIG_FILE} must be a mapping with a \`stack:\`, like \`stack: support-agents\``);
  }
  return { doc, contents: doc.contents as YAMLMap, text };
}

/**
 * The edited document as text, in the style of the original where `yaml` does not keep it by itself: its indent,
 * whether block lists are indented under their key, no padding inside flow collections, no line folding.
 */
function render({ doc, text }: { doc: Document; text: string }): string {
  const indents = [...text.matchAll(/^( +)[^ #\n]/gm)].map((m) => m[1]?.length ?? 2);
  const indent = Math.min(8, Math.max(1, indents.length > 0 ? Math.min(...indents) : 2));
  const indentSeq = !/^( *)[^\s#-][^\n]*:[ \t]*(#[^\n]*)?\n\1- /m.test(text);
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false, indent, indentSeq });
}

/** Writes through a temporary file and a rename, so a crash never leaves a half-written `reconcile.yaml`. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, file);
}
