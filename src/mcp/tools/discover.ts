/**
 * Discovery tools and resources: what the stack offers, by spec name. `agent_list`, `agent_get`,
 * `environment_list`, `vault_list`, and the resource template `reconcile://agent/{name}`. All read-only; all read
 * the stack index (the same observe as `reconcile plan`), so an agent this repository does not manage is never
 * listed. Vaults show names and ids only; agents carry no secrets (credentials live in vaults, write-only).
 */
import { type McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { userMetadata } from "../../providers/ownership.js";
import type { AuditSink } from "../audit.js";
import type { StackAgent, StackContext } from "../stack.js";
import { registerTool, ToolError } from "../tool.js";

const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

const agentShape = {
  name: z.string().describe("The agent's spec name (use it in session_start)"),
  id: z.string().describe("The live agent id"),
  version: z.number().int().describe("The live version"),
  model: z.string(),
  description: z.string().nullable(),
};
const entryShape = { name: z.string().describe("The spec name"), id: z.string().describe("The live id") };

/** The applied definition of `agent`, without ownership metadata. Agents hold no secret values. */
export async function agentDefinition(ctx: StackContext, agent: StackAgent): Promise<Record<string, unknown>> {
  const live = await ctx.client.beta.agents.retrieve(agent.id);
  return {
    spec_name: agent.name,
    id: live.id,
    version: live.version,
    name: live.name,
    description: live.description,
    model: live.model,
    system: live.system,
    tools: live.tools,
    mcp_servers: live.mcp_servers,
    skills: live.skills,
    metadata: userMetadata(live.metadata),
    created_at: live.created_at,
    updated_at: live.updated_at,
  };
}

/** The offered agent `nameOrId`, or a ToolError naming the agents there are. */
export async function requireAgent(ctx: StackContext, nameOrId: string): Promise<StackAgent> {
  const agent = await ctx.index.agent(nameOrId);
  if (agent) return agent;
  const names = (await ctx.index.current()).agents.map((a) => a.name);
  throw new ToolError(
    `no agent "${nameOrId}" in this stack; the agents offered are: ${names.join(", ") || "(none: run reconcile apply)"}`,
    "refused",
  );
}

/** Registers the discovery tools and the agent resource template. */
export function registerDiscoveryTools(
  server: McpServer,
  ctx: StackContext,
  audit: AuditSink,
  log: (line: string) => void,
): void {
  registerTool(server, audit, log, {
    name: "agent_list",
    title: "List agents",
    description:
      "List the agents this repository manages (by spec name), with live id, version, model and description. Start sessions with session_start using the spec name.",
    input: { name_contains: z.string().max(200).optional().describe("Only agents whose spec name contains this") },
    output: { stack: z.string(), target: z.string(), agents: z.array(z.object(agentShape)) },
    annotations: READ_ONLY,
    async run(args) {
      const snap = await ctx.index.current();
      const filter = args.name_contains?.toLowerCase();
      const agents = snap.agents.filter((a) => !filter || a.name.toLowerCase().includes(filter));
      return {
        structured: { stack: snap.stack, target: snap.target, agents },
        summary:
          agents.length === 0
            ? filter
              ? "No agents match."
              : "This stack has no agents yet: run reconcile apply."
            : `${agents.length} agent(s): ${agents.map((a) => `${a.name} (v${a.version}, ${a.model})`).join(", ")}`,
      };
    },
  });

  registerTool(server, audit, log, {
    name: "agent_get",
    title: "Get an agent",
    description:
      "The definition of one of the stack's agents as applied (model, system prompt, tools and their permission policies, MCP servers). By spec name or id.",
    input: { agent: z.string().min(1).max(200).describe("Spec name or live id") },
    output: { agent: z.record(z.string(), z.unknown()) },
    annotations: READ_ONLY,
    async run(args, call) {
      const agent = await requireAgent(ctx, args.agent);
      call.target("agent_id", agent.id);
      const definition = await agentDefinition(ctx, agent);
      return {
        structured: { agent: definition },
        summary: `${agent.name}: ${agent.id} version ${String(definition.version)}, model ${agent.model}`,
      };
    },
  });

  registerTool(server, audit, log, {
    name: "environment_list",
    title: "List environments",
    description: "The environments this repository manages, by spec name (use the name in session_start).",
    input: {},
    output: { environments: z.array(z.object(entryShape)) },
    annotations: READ_ONLY,
    async run() {
      const { environments } = await ctx.index.current();
      return {
        structured: { environments },
        summary: `${environments.length} environment(s): ${environments.map((e) => e.name).join(", ") || "none"}`,
      };
    },
  });

  registerTool(server, audit, log, {
    name: "vault_list",
    title: "List vaults",
    description: "The vaults this repository manages: spec names and ids only (never credentials or secrets).",
    input: {},
    output: { vaults: z.array(z.object(entryShape)) },
    annotations: READ_ONLY,
    async run() {
      const { vaults } = await ctx.index.current();
      return {
        structured: { vaults },
        summary: `${vaults.length} vault(s): ${vaults.map((v) => v.name).join(", ") || "none"}`,
      };
    },
  });

  registerTool(server, audit, log, {
    name: "memory_store_list",
    title: "List memory stores",
    description:
      "The memory stores this repository manages, by spec name (pass the names to session_start's memory_stores). Ids only; never their memories.",
    input: {},
    output: { memory_stores: z.array(z.object(entryShape)) },
    annotations: READ_ONLY,
    async run() {
      const { memory_stores } = await ctx.index.current();
      return {
        structured: { memory_stores },
        summary: `${memory_stores.length} memory store(s): ${memory_stores.map((m) => m.name).join(", ") || "none"}`,
      };
    },
  });

  server.registerResource(
    "agent",
    new ResourceTemplate("reconcile://agent/{name}", {
      list: async () => ({
        resources: (await ctx.index.current()).agents.map((a) => ({
          uri: `reconcile://agent/${encodeURIComponent(a.name)}`,
          name: a.name,
          description: a.description ?? undefined,
          mimeType: "application/json",
        })),
      }),
    }),
    {
      title: "Agent definition",
      description: "An agent of this stack as applied, by spec name",
      mimeType: "application/json",
    },
    async (uri, variables) => {
      const name = decodeURIComponent(String(variables.name));
      const agent = await ctx.index.agent(name);
      if (!agent || agent.name !== name) throw new Error(`no agent "${name}" in this stack`);
      return {
        contents: [
          {
            uri: uri.href,
            mimeType: "application/json",
            text: JSON.stringify(await agentDefinition(ctx, agent), null, 2),
          },
        ],
      };
    },
  );
}
