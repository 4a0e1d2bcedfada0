import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { BetaManagedAgentsAgent } from "@anthropic-ai/sdk/resources/beta/agents/agents.js";
import type { BetaEnvironment } from "@anthropic-ai/sdk/resources/beta/environments/environments.js";
import type { BetaManagedAgentsCredential } from "@anthropic-ai/sdk/resources/beta/vaults/credentials.js";
import type { BetaManagedAgentsVault } from "@anthropic-ai/sdk/resources/beta/vaults/vaults.js";
import { isObj } from "./validate.js";

/** An agent and its history. `versions[n - 1]` is the snapshot written as version `n`; `agent` is the latest. */
export interface AgentRecord {
  agent: BetaManagedAgentsAgent;
  versions: BetaManagedAgentsAgent[];
}

/**
 * The write-only parts of a credential (`token`, `access_token`, `refresh_token`, `client_secret`, `secret_value`),
 * each as `sha256:<hex>` of the submitted value (see `secretDigest`). The emulator never needs a value back, so it
 * keeps only digests: enough to show that a rotation replaced a secret, and nothing that leaks if the state file
 * (`.reconcile/local-state.json`) is read or shared. Digests never appear in a response, log line or error message.
 */
export interface CredentialSecrets {
  token?: string;
  access_token?: string;
  refresh_token?: string;
  client_secret?: string;
  secret_value?: string;
}

/** What the emulator stores of a secret value: `sha256:` and the hex SHA-256 digest. */
export function secretDigest(value: string): string {
  return `sha256:${createHash("sha256").update(value).digest("hex")}`;
}

/** A credential as returned by the API, plus its secrets (kept apart so a response can never include them). */
export interface CredentialRecord {
  credential: BetaManagedAgentsCredential;
  secrets: CredentialSecrets;
}

/**
 * One workspace's resources. Workspaces are selected by the `anthropic-workspace-id` header (absent = the default
 * workspace, key `""`) and never see each other's resources.
 */
export interface Workspace {
  agents: Map<string, AgentRecord>;
  environments: Map<string, BetaEnvironment>;
  vaults: Map<string, BetaManagedAgentsVault>;
  credentials: Map<string, CredentialRecord>;
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
    }
  >;
}

function emptyWorkspace(): Workspace {
  return { agents: new Map(), environments: new Map(), vaults: new Map(), credentials: new Map() };
}

function hasId(v: unknown): v is { id: string } {
  return isObj(v) && typeof v.id === "string";
}

/** Reads one workspace section, or returns a reason why it is malformed. */
function readWorkspace(raw: unknown, name: string): Workspace | string {
  if (!isObj(raw)) return `workspace ${JSON.stringify(name)} is not an object`;
  const ws = emptyWorkspace();
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

  private constructor(
    readonly file: string | undefined,
    private readonly readOnly = false,
  ) {}

  /**
   * A store backed by `file` (loaded if it exists) or, without a file, in memory only. With `readOnly`, the file is
   * only read: `persist()` refuses, so a reader can never overwrite what a concurrent writer saved.
   * @throws Error naming the file when it exists but cannot be read, is not JSON, or is not a state file of a
   * supported version.
   */
  static open(file?: string, readOnly = false): Store {
    const store = new Store(file, readOnly);
    if (file === undefined) return store;
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return store;
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
    for (const [name, section] of Object.entries(raw.workspaces)) {
      const ws = readWorkspace(section, name);
      if (typeof ws === "string") throw fail(ws);
      store.workspaces.set(name, ws);
    }
    return store;
  }

  /** The workspace selected by an `anthropic-workspace-id` value (`""` = default), created empty on first use. */
  workspace(id: string): Workspace {
    let ws = this.workspaces.get(id);
    if (!ws) {
      ws = emptyWorkspace();
      this.workspaces.set(id, ws);
    }
    return ws;
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
