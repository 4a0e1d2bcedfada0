/**
 * The MCP server's view of the stack: which agents, environments, vaults and memory stores it offers, by spec name, and the
 * allowlist of agent ids every session tool checks. Built from `observeOutputs` (the same observe and ownership
 * metadata as `reconcile plan`), so the server offers exactly the declared resources this repository manages, and
 * refreshed on an interval so a new apply shows up without a restart. An owned object without a `reconcile/name`
 * (the apply lock agent) is not a resource and never appears.
 */
import type Anthropic from "@anthropic-ai/sdk";
import type { ObservedOutputs } from "../reconcile/outputs.js";

/** One agent the server offers. */
export interface StackAgent {
  name: string;
  id: string;
  version: number;
  model: string;
  description: string | null;
}

/** One environment, vault or memory store the server offers. */
export interface StackEntry {
  name: string;
  id: string;
}

/** A consistent picture of the stack at one refresh. */
export interface StackSnapshot {
  stack: string;
  target: string;
  agents: StackAgent[];
  environments: StackEntry[];
  vaults: StackEntry[];
  /** The stack's memory stores (`session_start` attaches them by spec name). */
  memory_stores: StackEntry[];
  /** When this picture was observed (epoch ms). */
  observedAt: number;
}

/** A lookup that misses on a snapshot at least this old (milliseconds) refreshes it first. */
export const MISS_REFRESH_MS = 5_000;

/** Reads the stack's outputs and live state (`observeOutputs` with the project and client bound). */
export type StackObserver = () => Promise<ObservedOutputs>;

/** Builds a snapshot from observed outputs, keeping only the agents `allow` names (all when null). */
export function snapshotOf(observed: ObservedOutputs, allow: readonly string[] | null, now: number): StackSnapshot {
  const { outputs, live } = observed;
  const agents: StackAgent[] = [];
  for (const [name, entry] of Object.entries(outputs.agents)) {
    if (allow && !allow.includes(name)) continue;
    const state = live.resources.get(`agent.${name}`)?.state ?? {};
    const model = state.model as { id?: unknown } | undefined;
    agents.push({
      name,
      id: entry.id,
      version: entry.version ?? 1,
      model: typeof model?.id === "string" ? model.id : "",
      description: typeof state.description === "string" ? state.description : null,
    });
  }
  const entries = (section: Record<string, { id: string }>) =>
    Object.entries(section).map(([name, entry]) => ({ name, id: entry.id }));
  return {
    stack: outputs.stack,
    target: outputs.target,
    agents,
    environments: entries(outputs.environments),
    vaults: entries(outputs.vaults),
    memory_stores: entries((outputs.memory_stores ?? {}) as Record<string, { id: string }>),
    observedAt: now,
  };
}

/** Options of a `StackIndex`. */
export interface StackIndexOptions {
  observe: StackObserver;
  /** Spec names of the agents to offer (a narrowing of the stack); null offers every declared agent. */
  allowAgents?: readonly string[] | null;
  /** How old a snapshot may get before the next read refreshes it, in milliseconds. Default 60 000. */
  refreshMs?: number;
  /** The clock (epoch ms); tests pass their own. */
  now?: () => number;
}

/**
 * The stack index: a snapshot refreshed when older than `refreshMs` (on the read that finds it stale, one refresh
 * at a time), and the name/id lookups the tools use. A failed refresh keeps serving the last good snapshot only
 * until the next read tries again; the first observe must succeed.
 */
export class StackIndex {
  private snapshot: StackSnapshot | null = null;
  private refreshing: Promise<StackSnapshot> | null = null;
  private readonly refreshMs: number;
  private readonly now: () => number;

  constructor(private readonly options: StackIndexOptions) {
    this.refreshMs = options.refreshMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * The current snapshot, refreshed first when it is missing or stale.
   * @throws the SDK's `APIError` when there is no snapshot yet and observing fails
   */
  async current(): Promise<StackSnapshot> {
    if (this.snapshot && this.now() - this.snapshot.observedAt < this.refreshMs) return this.snapshot;
    try {
      return await this.refresh();
    } catch (error) {
      if (this.snapshot) return this.snapshot;
      throw error;
    }
  }

  /** Observes again now (one observe at a time; concurrent callers share it). */
  refresh(): Promise<StackSnapshot> {
    this.refreshing ??= this.options
      .observe()
      .then((observed) => {
        this.snapshot = snapshotOf(observed, this.options.allowAgents ?? null, this.now());
        return this.snapshot;
      })
      .finally(() => {
        this.refreshing = null;
      });
    return this.refreshing;
  }

  /**
   * The offered agent named `nameOrId` (a spec name or a live id), or undefined. A miss on a snapshot older than
   * `MISS_REFRESH_MS` observes again first, so an agent applied a moment ago is found without waiting for the
   * interval.
   */
  async agent(nameOrId: string): Promise<StackAgent | undefined> {
    const find = (snap: StackSnapshot) =>
      snap.agents.find((a) => a.name === nameOrId) ?? snap.agents.find((a) => a.id === nameOrId);
    const snap = await this.current();
    const found = find(snap);
    if (found || this.now() - snap.observedAt < MISS_REFRESH_MS) return found;
    return find(await this.refresh().catch(() => snap));
  }

  /** True when `agentId` is one of the offered agents (the session allowlist); a miss refreshes like `agent`. */
  async offersAgentId(agentId: string): Promise<boolean> {
    return (await this.agent(agentId))?.id === agentId;
  }
}

/** The client and index every tool works with. */
export interface StackContext {
  client: Anthropic;
  index: StackIndex;
}
