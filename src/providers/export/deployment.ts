/**
 * Deployments → `Deployment` specs: a `BetaManagedAgentsDeployment` (SDK `client.beta.deployments`) becomes the spec
 * whose desired state (`providers/deployment.ts`, `deploymentState`) is the live one once its references resolve.
 *
 * - The agent, environment, vaults and memory stores are written by spec name (`ExportContext.specNameFor`): the
 *   name they are exported under in this run, else the name of a spec the repository already declares (through its
 *   `adopt:` entry, or the ownership this stack recorded on the object). With `--id` of the deployment alone, those
 *   objects are read so their ownership can be checked. A deployment whose agent or environment has no spec name is
 *   not exported (a spec must name both), with a note; a vault or memory store without one is left out, with a note
 *   that the next plan shows it removed.
 * - `agent_version`: the version number the deployment runs, always. The API holds only a number ("resolved to a
 *   concrete version"), so whether it was created with `latest` cannot be told, and `pinned` (the spec's default)
 *   would not plan zero changes: adopting the agent writes its ownership metadata, which makes a new agent version,
 *   and a pinned deployment would follow it (docs/adr/0026). Removing `agent_version` afterwards makes reconcile
 *   repoint the deployment whenever it changes the agent.
 * - `initial_events` that are one text-only user message become `message:`; others are written as the API holds
 *   them (null fields dropped). `budget` without its `type: limit` (the only type), `schedule` as `{cron, timezone}`
 *   without its computed times, `paused: true` for a paused deployment, `description`, `metadata`, `protect`.
 * - Vaults and memory stores are sent sorted by spec name and compared in order (ADR 26): a live order that is not
 *   that order is noted (the next plan shows them reordered).
 */
import Anthropic from "@anthropic-ai/sdk";
import { providerFor } from "../registry.js";
import type { ApiObject, ResourceType } from "../types.js";
import type { ExportContext } from "./context.js";
import { commonFields, ownerFromMetadata } from "./context.js";
import { fetchLive, nameFor, withOwnership } from "./fetch.js";
import type { ExportedSpec, LiveItem, ResourceExporter, SpecDocument } from "./types.js";

type Obj = Record<string, unknown>;

/** Drops `null` values recursively (the API's "not set"), which the spec schema does not accept. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value as Obj)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => [k, withoutNulls(v)]),
  );
}

/** The text of `events` when they are exactly one user message of one text block (the spec's `message:`). */
function messageOf(events: unknown): string | undefined {
  if (!Array.isArray(events) || events.length !== 1) return undefined;
  const event = events[0] as Obj;
  if (event.type !== "user.message" || Object.keys(event).some((k) => k !== "type" && k !== "content")) return;
  const content = event.content as Obj[] | undefined;
  if (!Array.isArray(content) || content.length !== 1) return undefined;
  const block = content[0] as Obj;
  if (block.type !== "text" || typeof block.text !== "string" || block.text === "") return undefined;
  if (Object.keys(block).some((k) => k !== "type" && k !== "text")) return undefined;
  return block.text;
}

/** The ids a deployment refers to, by type. */
function referencedIds(deployment: ApiObject): Array<{ type: ResourceType; id: string }> {
  const agent = deployment.agent as Obj | string | undefined;
  const agentId = typeof agent === "string" ? agent : agent?.id;
  return [
    ...(typeof agentId === "string" ? [{ type: "agent" as const, id: agentId }] : []),
    ...(typeof deployment.environment_id === "string"
      ? [{ type: "environment" as const, id: deployment.environment_id }]
      : []),
    ...((deployment.vault_ids ?? []) as string[]).map((id) => ({ type: "vault" as const, id })),
    ...((deployment.resources ?? []) as Obj[])
      .filter((r) => r.type === "memory_store" && typeof r.memory_store_id === "string")
      .map((r) => ({ type: "memory_store" as const, id: String(r.memory_store_id) })),
  ];
}

/**
 * The objects `deployments` refer to, read one by one (for `--id`, when they may not be exported in this run). An
 * object that cannot be read is left out: the reference then has no spec name, which the mapping notes.
 */
async function readRelated(client: Anthropic, deployments: readonly ApiObject[]): Promise<ApiObject[]> {
  const wanted = new Map<string, ResourceType>();
  for (const d of deployments) for (const { type, id } of referencedIds(d)) wanted.set(id, type);
  const out: ApiObject[] = [];
  for (const [id, type] of wanted) {
    try {
      out.push(withOwnership(type, await providerFor(type).retrieve(client, id)));
    } catch (error) {
      // Gone or not readable with this key: noted at mapping as a reference without a spec name. Anything else
      // (the API failing) stops the export, as a failed list does.
      if (!(error instanceof Anthropic.NotFoundError || error instanceof Anthropic.PermissionDeniedError)) throw error;
    }
  }
  return out;
}

const sorted = (names: readonly string[]) => [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/** The spec for one live deployment, or null (with a note) when its agent or environment has no spec name. */
function deploymentSpec(item: LiveItem, name: string, ctx: ExportContext): ExportedSpec | null {
  const d = item.object;
  const address = `deployment.${name}`;
  const related = item.related ?? [];
  const specName = (type: ResourceType, id: string) => ctx.specNameFor(type, id, related);
  const agentRef = (typeof d.agent === "string" ? { id: d.agent } : (d.agent ?? {})) as Obj;
  const agentId = String(agentRef.id);
  const agent = specName("agent", agentId);
  const environmentId = String(d.environment_id);
  const environment = specName("environment", environmentId);
  const missing = [
    ...(agent === undefined ? [`agent ${agentId}`] : []),
    ...(environment === undefined ? [`environment ${environmentId}`] : []),
  ];
  if (missing.length > 0) {
    ctx.warn(
      `deployment ${d.id} ("${String(d.name)}") was not exported: its ${missing.join(" and ")} ha${missing.length === 1 ? "s" : "ve"} no spec here (not exported in this run, not declared and adopted or owned by this stack); export ${missing.length === 1 ? "it" : "them"} too, for example with --id ${[...missing.map((m) => m.split(" ")[1]), d.id].join(" ")}`,
    );
    return null;
  }

  const doc: SpecDocument = { apiVersion: "reconcile/v1", kind: "Deployment", name };
  if (d.name !== name) {
    ctx.warn(
      `${address}: the deployment is named "${String(d.name)}" in the API; the spec name is "${name}", so apply renames it`,
    );
  }
  if (typeof d.description === "string" && d.description !== "") doc.description = d.description;
  doc.agent = agent;
  if (typeof agentRef.version === "number") doc.agent_version = agentRef.version;
  else doc.agent_version = "latest";
  doc.environment = environment;

  const vaults: string[] = [];
  for (const id of (d.vault_ids ?? []) as string[]) {
    const vault = specName("vault", id);
    if (vault === undefined) {
      ctx.warn(
        `${address}: vault ${id} has no spec here and is left out; the next plan shows it removed from the deployment (export it too, then export the deployment again)`,
      );
    } else vaults.push(vault);
  }
  if (vaults.length > 0) doc.vaults = sorted(vaults);
  if (vaults.join("\0") !== sorted(vaults).join("\0")) {
    ctx.warn(
      `${address}: its vaults are not in spec-name order, which is the order reconcile sends; the next plan shows them reordered`,
    );
  }

  const stores: Obj[] = [];
  for (const resource of (d.resources ?? []) as Obj[]) {
    if (resource.type !== "memory_store") {
      ctx.warn(
        `${address}: a "${String(resource.type)}" resource cannot be written in a Deployment spec (memory stores only) and is left out; the next plan shows it removed`,
      );
      continue;
    }
    const id = String(resource.memory_store_id);
    const store = specName("memory_store", id);
    if (store === undefined) {
      ctx.warn(
        `${address}: memory store ${id} has no spec here and is left out; the next plan shows it removed from the deployment (export it too, then export the deployment again)`,
      );
      continue;
    }
    stores.push({
      name: store,
      ...(resource.access === "read_only" ? { access: "read_only" } : {}),
      ...(typeof resource.instructions === "string" && resource.instructions !== ""
        ? { instructions: resource.instructions }
        : {}),
    });
  }
  const storeNames = stores.map((s) => String(s.name));
  if (storeNames.join("\0") !== sorted(storeNames).join("\0")) {
    ctx.warn(
      `${address}: its memory stores are not in spec-name order, which is the order reconcile sends; the next plan shows them reordered`,
    );
  }
  if (stores.length > 0) doc.memory_stores = [...stores].sort((a, b) => (String(a.name) < String(b.name) ? -1 : 1));

  const message = messageOf(d.initial_events);
  if (message !== undefined) doc.message = message;
  else doc.initial_events = withoutNulls(d.initial_events ?? []);
  const budget = d.budget as Obj | null | undefined;
  if (budget) doc.budget = { max_list_cost: withoutNulls(budget.max_list_cost) };
  const schedule = d.schedule as Obj | null | undefined;
  if (schedule) doc.schedule = { cron: String(schedule.expression), timezone: String(schedule.timezone) };
  if (d.status === "paused") doc.paused = true;
  Object.assign(doc, commonFields(d.metadata as Record<string, string> | undefined, true, address, ctx));
  return { document: doc, resources: [{ address, id: d.id, owner: ownerFromMetadata(d.metadata) }] };
}

/** The `Deployment` exporter (`depl_` ids); mapped after the kinds it names (see `index.ts`). */
export const deploymentExporter: ResourceExporter = {
  kind: "Deployment",
  type: "deployment",
  idPrefixes: ["depl_"],
  async fetch(client: Anthropic, ids, ctx) {
    const deployments = await fetchLive(client, "deployment", ids, ctx);
    // Everything a deployment names is listed in a full export; with --id it may not be, so read it.
    const related = ids === null ? [] : await readRelated(client, deployments);
    return deployments.map((object) => ({ object, children: [], related }));
  },
  wantedName: (item: LiveItem) => nameFor(item.object, String(item.object.name), "deployment"),
  toSpec: deploymentSpec,
};
