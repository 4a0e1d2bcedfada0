import { createHmac, randomBytes } from "node:crypto";
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { BetaManagedAgentsAgent } from "@anthropic-ai/sdk/resources/beta/agents/agents.js";
import type { BetaManagedAgentsDeploymentRun } from "@anthropic-ai/sdk/resources/beta/deployment-runs.js";
import type { BetaManagedAgentsDeployment } from "@anthropic-ai/sdk/resources/beta/deployments.js";
import type { BetaEnvironment } from "@anthropic-ai/sdk/resources/beta/environments/environments.js";
import type { BetaManagedAgentsMemory } from "@anthropic-ai/sdk/resources/beta/memory-stores/memories.js";
import type { BetaManagedAgentsMemoryStore } from "@anthropic-ai/sdk/resources/beta/memory-stores/memory-stores.js";
import type { BetaManagedAgentsSessionEvent } from "@anthropic-ai/sdk/resources/beta/sessions/events.js";
import type { BetaManagedAgentsSession } from "@anthropic-ai/sdk/resources/beta/sessions/sessions.js";
import type { BetaSkill } from "@anthropic-ai/sdk/resources/beta/skills/skills.js";
import type { BetaSkillVersion } from "@anthropic-ai/sdk/resources/beta/skills/versions.js";
import type { BetaTunnel } from "@anthropic-ai/sdk/resources/beta/tunnels/tunnels.js";
import type { BetaManagedAgentsCredential } from "@anthropic-ai/sdk/resources/beta/vaults/credentials.js";
import type { BetaManagedAgentsVault } from "@anthropic-ai/sdk/resources/beta/vaults/vaults.js";
import { RecordMap } from "./record-map.js";
import type { ScriptState } from "./session-script.js";
import { isObj } from "./validate.js";

/** An agent and its history. `versions[n - 1]` is the snapshot written as version `n`; `agent` is the latest. */
export interface AgentRecord {
  agent: BetaManagedAgentsAgent;
  versions: BetaManagedAgentsAgent[];
}

/**
 * The write-only parts of a credential (`token`, `access_token`, `refresh_token`, `client_secret`, `secret_value`),
 * each as a keyed digest of the submitted value (`hmac-sha256:<hex>`, see `Store.sealSecret`). The emulator never
 * needs a value back, so it keeps only digests: enough to tell a rotation (a new value moves `updated_at`) from the
 * same value sent again, and whether a refresh token exists. The key is kept out of the state file (a `.key` file
 * beside it, or memory only), so the state file alone is no guessing oracle for the secrets
 * (docs/adr/0012-safe-rendering.md). Digests never appear in a response, log line or error message.
 */
export interface CredentialSecrets {
  token?: string;
  access_token?: string;
  refresh_token?: string;
  client_secret?: string;
  secret_value?: string;
}

/** The prefix of a secret digest the emulator makes (HMAC-SHA256 under the store's key, hex). */
export const SECRET_DIGEST_PREFIX = "hmac-sha256:";

/**
 * What replaces a secret digest the emulator cannot check any more (an unkeyed `sha256:` digest written by an older
 * version): it still says the secret is set, and equals no new digest, so the next value sent counts as a rotation.
 */
export const UNVERIFIABLE_SECRET = "unverifiable";

/** The file that holds the digest key of `stateFile`: the same path with `.key` appended (mode 0600). */
export const keyFileOf = (stateFile: string): string => `${stateFile}.key`;

const KEY_TEXT = /^[0-9a-f]{64}$/;

/**
 * Reads the 32-byte digest key from `keyFile` (64 hex digits), or creates it: random, mode 0600, written to a temporary
 * file and hard-linked into place, so the key file appears complete or not at all and two processes starting together
 * agree on one key. A malformed key file is replaced by a new key; digests made with the old one then match nothing,
 * so the next value sent for each secret counts as a rotation.
 * @throws Error when the key file exists but cannot be read, or cannot be created
 */
function loadOrCreateKey(keyFile: string): Buffer {
  const read = (): Buffer | undefined => {
    try {
      const text = readFileSync(keyFile, "utf8").trim();
      return KEY_TEXT.test(text) ? Buffer.from(text, "hex") : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new Error(`Cannot read emulator key file ${keyFile}: ${(err as Error).message}`);
    }
  };
  const existing = read();
  if (existing) return existing;
  const key = randomBytes(32);
  const tmp = `${keyFile}.${process.pid}.${Date.now()}.tmp`;
  mkdirSync(dirname(keyFile), { recursive: true });
  writeFileSync(tmp, `${key.toString("hex")}\n`, { mode: 0o600 });
  try {
    linkSync(tmp, keyFile);
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    // Another process linked its key first (use it), or a malformed file is in the way (replace it).
    const theirs = read();
    if (theirs) return theirs;
    renameSync(tmp, keyFile);
    return key;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** A credential as returned by the API, plus its secrets (kept apart so a response can never include them). */
export interface CredentialRecord {
  credential: BetaManagedAgentsCredential;
  secrets: CredentialSecrets;
}

/** A memory as stored (`memory-stores.ts`): the API object with its content always present. */
export type StoredMemory = BetaManagedAgentsMemory & { content: string };
/**
 * A tunnel and its connector token. The token itself is never stored: `tunnels.ts` derives it from the store's key
 * and `token.id`, and keeps `token.digest` (`Store.sealSecret` of the value) to check a presented token. `token` is
 * null once the tunnel is archived (SDK `archive`: "the tunnel token is invalidated").
 */
export interface TunnelRecord {
  tunnel: BetaTunnel;
  token: { id: string; digest: string } | null;
}

/** A session, its event history (oldest first) and the scripted agent's state (see `session-script.ts`). */
export interface SessionRecord {
  session: BetaManagedAgentsSession;
  events: BetaManagedAgentsSessionEvent[];
  script: ScriptState;
  /** Start of the current `running` period in ms since the epoch (for `stats.active_seconds`), else null. */
  running_since: number | null;
}

/** A stored file of a skill version: its path inside the skill's directory (`scripts/run.sh`) and its bytes, base64. */
export interface StoredSkillFile {
  path: string;
  data: string;
}

/** A custom skill and its versions (oldest first), each with its files. `skill.latest_version_id` is the newest. */
export interface SkillRecord {
  skill: BetaSkill;
  versions: Array<{ version: BetaSkillVersion; files: StoredSkillFile[] }>;
}

/**
 * One workspace's resources. Workspaces are selected by the `anthropic-workspace-id` header (absent = the default
 * workspace, key `""`) and never see each other's resources.
 */
export interface Workspace {
  agents: RecordMap<AgentRecord>;
  environments: RecordMap<BetaEnvironment>;
  vaults: RecordMap<BetaManagedAgentsVault>;
  credentials: RecordMap<CredentialRecord>;
  sessions: RecordMap<SessionRecord>;
  /** Deployments (`deployments.ts`), stored as returned except `schedule.upcoming_runs_at`, computed when read. */
  deployments: RecordMap<BetaManagedAgentsDeployment>;
  /** Deployment runs (`deployments.ts`): append-only records of each run. */
  deploymentRuns: RecordMap<BetaManagedAgentsDeploymentRun>;
  memoryStores: RecordMap<BetaManagedAgentsMemoryStore>;
  /** The memories of every memory store of the workspace, by memory id. */
  memories: RecordMap<StoredMemory>;
  /** Custom skills (Anthropic's are constants of `skills.ts`, not stored). */
  skills: RecordMap<SkillRecord>;
  tunnels: RecordMap<TunnelRecord>;
  /** The digest the store keeps of a secret value (`Store.sealSecret`); not part of the state file. */
  sealSecret: (value: string) => string;
}

/** The `format` tag of a state file. */
export const STATE_FORMAT = "reconcile-emulator-state";
/** The state file format version this emulator reads and writes. */
export const STATE_VERSION = 1;

/** The JSON layout of a state file (version 1). */
export interface StateFileV1 {
  format: typeof STATE_FORMAT;
  version: typeof STATE_VERSION;
  workspaces: Record<
    string,
    {
      agents: AgentRecord[];
      environments: BetaEnvironment[];
      vaults: BetaManagedAgentsVault[];
      credentials: CredentialRecord[];
      /** Absent in files written before sessions existed. */
      sessions?: SessionRecord[];
      /** Absent in files written before deployments existed. */
      deployments?: BetaManagedAgentsDeployment[];
      /** Absent in files written before deployments existed. */
      deployment_runs?: BetaManagedAgentsDeploymentRun[];
      /** Absent in files written before memory stores existed. */
      memory_stores?: BetaManagedAgentsMemoryStore[];
      /** Absent in files written before memory stores existed. */
      memories?: StoredMemory[];
      /** Absent in files written before skills existed. */
      skills?: SkillRecord[];
      /** Absent in files written before tunnels existed. */
      tunnels?: TunnelRecord[];
    }
  >;
}

function emptyWorkspace(sealSecret: (value: string) => string): Workspace {
  return {
    agents: new RecordMap(),
    environments: new RecordMap(),
    vaults: new RecordMap(),
    credentials: new RecordMap(),
    sessions: new RecordMap(),
    deployments: new RecordMap(),
    deploymentRuns: new RecordMap(),
    memoryStores: new RecordMap(),
    memories: new RecordMap(),
    skills: new RecordMap(),
    tunnels: new RecordMap(),
    sealSecret,
  };
}

/** Replaces unkeyed `sha256:` digests (written by older versions) with `UNVERIFIABLE_SECRET`; true if any was. */
function scrubLegacyDigests(secrets: Record<string, unknown>): boolean {
  let scrubbed = false;
  for (const [name, value] of Object.entries(secrets)) {
    if (typeof value === "string" && !value.startsWith(SECRET_DIGEST_PREFIX) && value !== UNVERIFIABLE_SECRET) {
      secrets[name] = UNVERIFIABLE_SECRET;
      scrubbed = true;
    }
  }
  return scrubbed;
}

function hasId(v: unknown): v is { id: string } {
  return isObj(v) && typeof v.id === "string";
}

/** Reads one workspace section, or returns a reason why it is malformed. */
function readWorkspace(raw: unknown, name: string, sealSecret: (value: string) => string): Workspace | string {
  if (!isObj(raw)) return `workspace ${JSON.stringify(name)} is not an object`;
  const ws = emptyWorkspace(sealSecret);
  const sections = ["agents", "environments", "vaults", "credentials"] as const;
  for (const section of sections) {
    const list = raw[section];
    if (!Array.isArray(list)) return `workspace ${JSON.stringify(name)}: "${section}" is not an array`;
    for (const [i, item] of list.entries()) {
      const where = `workspace ${JSON.stringify(name)}: ${section}[${i}]`;
      if (section === "agents") {
        if (!isObj(item) || !hasId(item.agent) || !Array.isArray(item.versions))
          return `${where} is not an agent record`;
        ws.agents.set(item.agent.id, item as unknown as AgentRecord);
      } else if (section === "credentials") {
        if (!isObj(item) || !hasId(item.credential) || !isObj(item.secrets))
          return `${where} is not a credential record`;
        ws.credentials.set(item.credential.id, item as unknown as CredentialRecord);
      } else if (section === "environments") {
        if (!hasId(item)) return `${where} has no id`;
        ws.environments.set(item.id, item as unknown as BetaEnvironment);
      } else {
        if (!hasId(item)) return `${where} has no id`;
        ws.vaults.set(item.id, item as unknown as BetaManagedAgentsVault);
      }
    }
  }
  const sessions = raw.sessions ?? [];
  if (!Array.isArray(sessions)) return `workspace ${JSON.stringify(name)}: "sessions" is not an array`;
  for (const [i, item] of sessions.entries()) {
    if (!isObj(item) || !hasId(item.session) || !Array.isArray(item.events) || !isObj(item.script))
      return `workspace ${JSON.stringify(name)}: sessions[${i}] is not a session record`;
    ws.sessions.set(item.session.id, item as unknown as SessionRecord);
  }
  for (const section of ["memory_stores", "memories"] as const) {
    const list = raw[section] ?? [];
    if (!Array.isArray(list)) return `workspace ${JSON.stringify(name)}: "${section}" is not an array`;
    for (const [i, item] of list.entries()) {
      if (!hasId(item)) return `workspace ${JSON.stringify(name)}: ${section}[${i}] has no id`;
      if (section === "memory_stores") ws.memoryStores.set(item.id, item as unknown as BetaManagedAgentsMemoryStore);
      else ws.memories.set(item.id, item as unknown as StoredMemory);
    }
  }
  const skills = raw.skills ?? [];
  if (!Array.isArray(skills)) return `workspace ${JSON.stringify(name)}: "skills" is not an array`;
  for (const [i, item] of skills.entries()) {
    if (!isObj(item) || !hasId(item.skill) || !Array.isArray(item.versions) || item.versions.length === 0)
      return `workspace ${JSON.stringify(name)}: skills[${i}] is not a skill record`;
    ws.skills.set(item.skill.id, item as unknown as SkillRecord);
  }
  const tunnels = raw.tunnels ?? [];
  if (!Array.isArray(tunnels)) return `workspace ${JSON.stringify(name)}: "tunnels" is not an array`;
  for (const [i, item] of tunnels.entries()) {
    const token = isObj(item) ? item.token : undefined;
    const tokenOk =
      token === null || (isObj(token) && typeof token.id === "string" && typeof token.digest === "string");
    if (!isObj(item) || !hasId(item.tunnel) || !tokenOk)
      return `workspace ${JSON.stringify(name)}: tunnels[${i}] is not a tunnel record`;
    ws.tunnels.set(item.tunnel.id, item as unknown as TunnelRecord);
  }
  for (const [section, map] of [
    ["deployments", ws.deployments],
    ["deployment_runs", ws.deploymentRuns],
  ] as const) {
    const list = raw[section] ?? [];
    if (!Array.isArray(list)) return `workspace ${JSON.stringify(name)}: "${section}" is not an array`;
    for (const [i, item] of list.entries()) {
      if (!hasId(item)) return `workspace ${JSON.stringify(name)}: ${section}[${i}] has no id`;
      (map as Map<string, unknown>).set(item.id, item);
    }
  }
  return ws;
}

/**
 * All emulator state, per workspace, with optional persistence to a JSON file.
 *
 * Persistence: `open(file)` loads the file when it exists; `persist()` rewrites it atomically (a temporary file in
 * the same directory, then `rename`), so a crash leaves either the old or the new state, never half of one.
 */
export class Store {
  private readonly workspaces = new Map<string, Workspace>();
  private key: Buffer | undefined;

  private constructor(
    readonly file: string | undefined,
    private readonly readOnly = false,
  ) {}

  /**
   * The digest kept of a secret value: `hmac-sha256:` and the hex HMAC-SHA256 of the value under this store's key.
   * The key is random: for a file-backed store it lives in `keyFileOf(file)` (created on first use, mode 0600), so
   * digests stay comparable across restarts while the state file alone lets no one test a guess; in memory
   * otherwise. Equal values give equal digests under one key, different values different ones.
   * @throws Error when the key file exists but cannot be read
   */
  readonly sealSecret = (value: string): string => {
    this.key ??= this.file === undefined ? randomBytes(32) : loadOrCreateKey(keyFileOf(this.file));
    return `${SECRET_DIGEST_PREFIX}${createHmac("sha256", this.key).update(value).digest("hex")}`;
  };

  /**
   * A store backed by `file` (loaded if it exists) or, without a file, in memory only. With `readOnly`, the file is
   * only read: `persist()` refuses, so a reader can never overwrite what a concurrent writer saved.
   * Unkeyed `sha256:` secret digests from older versions are replaced (`UNVERIFIABLE_SECRET`) and, unless
   * `readOnly`, the file rewritten at once, so it no longer holds them.
   * @throws Error naming the file when it exists but cannot be read, is a directory, is not JSON, or is not a state
   * file of a supported version.
   */
  static open(file?: string, readOnly = false): Store {
    const store = new Store(file, readOnly);
    if (file === undefined) return store;
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return store;
      if ((err as NodeJS.ErrnoException).code === "EISDIR") {
        throw new Error(
          `Emulator state file ${file} is a directory; pass the path of a file (it is created if missing)`,
        );
      }
      throw new Error(`Cannot read emulator state file ${file}: ${(err as Error).message}`);
    }
    const fail = (reason: string) => new Error(`Emulator state file ${file} is corrupt: ${reason}`);
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw fail(`not valid JSON (${(err as Error).message.slice(0, 120)})`);
    }
    if (!isObj(raw) || raw.format !== STATE_FORMAT) throw fail(`expected {"format": "${STATE_FORMAT}", …}`);
    if (raw.version !== STATE_VERSION) {
      throw new Error(
        `Emulator state file ${file} has format version ${JSON.stringify(raw.version)}; this emulator reads version ${STATE_VERSION}`,
      );
    }
    if (!isObj(raw.workspaces)) throw fail(`"workspaces" is not an object`);
    let scrubbed = false;
    for (const [name, section] of Object.entries(raw.workspaces)) {
      const ws = readWorkspace(section, name, store.sealSecret);
      if (typeof ws === "string") throw fail(ws);
      for (const rec of ws.credentials.values())
        scrubbed = scrubLegacyDigests(rec.secrets as Record<string, unknown>) || scrubbed;
      store.workspaces.set(name, ws);
    }
    if (scrubbed && !readOnly) store.persist();
    return store;
  }

  /** The workspace selected by an `anthropic-workspace-id` value (`""` = default), created empty on first use. */
  workspace(id: string): Workspace {
    let ws = this.workspaces.get(id);
    if (!ws) {
      ws = emptyWorkspace(this.sealSecret);
      this.workspaces.set(id, ws);
    }
    return ws;
  }

  /** Every workspace created so far, as `[anthropic-workspace-id value, workspace]` pairs. */
  entries(): [string, Workspace][] {
    return [...this.workspaces.entries()];
  }

  /** The whole state in the state-file layout (includes credential secrets: see `CredentialSecrets`). */
  snapshot(): StateFileV1 {
    const workspaces: StateFileV1["workspaces"] = {};
    for (const [name, ws] of this.workspaces) {
      workspaces[name] = {
        agents: [...ws.agents.values()],
        environments: [...ws.environments.values()],
        vaults: [...ws.vaults.values()],
        credentials: [...ws.credentials.values()],
        sessions: [...ws.sessions.values()],
        deployments: [...ws.deployments.values()],
        deployment_runs: [...ws.deploymentRuns.values()],
        memory_stores: [...ws.memoryStores.values()],
        memories: [...ws.memories.values()],
        skills: [...ws.skills.values()],
        tunnels: [...ws.tunnels.values()],
      };
    }
    return { format: STATE_FORMAT, version: STATE_VERSION, workspaces };
  }

  /** Writes the state file atomically (no-op without a file). Called after every mutating request. */
  persist(): void {
    if (this.file === undefined) return;
    if (this.readOnly) throw new Error(`the state file ${this.file} was opened read-only; this command may not write`);
    const tmp = `${this.file}.${process.pid}.${Date.now()}.tmp`;
    try {
      mkdirSync(dirname(this.file), { recursive: true });
      writeFileSync(tmp, `${JSON.stringify(this.snapshot(), null, 2)}\n`, { mode: 0o600 });
      renameSync(tmp, this.file);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
  }
}
