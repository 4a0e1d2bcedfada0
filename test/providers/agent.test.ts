import { describe, expect, it } from "vitest";
import { agentParams, agentProvider, agentState } from "../../src/providers/agent.js";
import type { DesiredResource } from "../../src/providers/types.js";
import { diffState } from "../../src/reconcile/diff.js";
import { specChanges } from "../../src/reconcile/duplicates.js";
import type { ResolvedAgent } from "../../src/spec/types.js";
import { agentSpec } from "./fixtures.js";

/** The desired resource the provider builds for `spec`. */
function desiredOf(spec: ResolvedAgent): DesiredResource {
  const [desired] = agentProvider.desired(
    { agents: [spec], environments: [], vaults: [], toolsets: [] },
    { stack: "s", secrets: () => undefined },
  );
  if (!desired) throw new Error("no desired resource");
  return desired;
}

/** What the API echoes for `params`: defaults filled, lists in another order, ownership metadata added. */
function serverEcho(params: Record<string, unknown>): Record<string, unknown> {
  const tools = (params.tools as Array<Record<string, unknown>>).map((tool) => {
    if (tool.type !== "mcp_toolset" && tool.type !== "agent_toolset_20260401") return tool;
    const fallback = tool.type === "mcp_toolset" ? "always_ask" : "always_allow";
    const given = (tool.default_config ?? {}) as Record<string, unknown>;
    const def = { enabled: given.enabled ?? true, permission_policy: given.permission_policy ?? { type: fallback } };
    const configs = ((tool.configs ?? []) as Array<Record<string, unknown>>)
      .map((c) => ({
        enabled: def.enabled,
        permission_policy: def.permission_policy,
        ...c,
        ...(tool.type === "agent_toolset_20260401" ? { type: c.name } : {}),
      }))
      .reverse();
    return { ...tool, default_config: def, configs };
  });
  const model = params.model as Record<string, unknown>;
  return {
    id: "agent_011CTest",
    type: "agent",
    version: 3,
    ...params,
    model: { id: model.id, speed: "standard", ...(model.effort ? { effort: { type: model.effort } } : {}) },
    tools: tools.reverse(),
    mcp_servers: [...(params.mcp_servers as unknown[])].reverse(),
    skills: (params.skills as Array<Record<string, unknown>>).map((s) => ({ ...s, version: "latest" })),
    execution_identity: { type: "service_account" },
    multiagent: null,
    metadata: {
      ...(params.metadata as object),
      "managed-by": "reconcile",
      "reconcile/stack": "s",
      "reconcile/name": "export-support",
    },
  };
}

describe("agent comparable state", () => {
  it("turns toolsets into mcp_servers and an allowlisted mcp_toolset", () => {
    const params = agentParams(agentSpec());
    expect(params.mcp_servers).toEqual([
      { type: "url", name: "export-jobs", url: "https://mcp.example.com/exports" },
      { type: "url", name: "support-desk", url: "https://mcp.example.com/desk" },
    ]);
    expect((params.tools as unknown[])[0]).toEqual({
      type: "mcp_toolset",
      mcp_server_name: "export-jobs",
      default_config: { enabled: false, permission_policy: { type: "always_ask" } },
      configs: [
        { name: "get_latest_export_job", enabled: true, permission_policy: { type: "always_allow" } },
        { name: "retry_export_job", enabled: true, permission_policy: { type: "always_ask" } },
      ],
    });
    expect((params.tools as unknown[])[1]).toMatchObject({ default_config: { enabled: true }, configs: [] });
  });

  it("shows no change between the spec and the server's echo of it (defaults, order, ownership)", () => {
    const params = agentParams(agentSpec());
    expect(specChanges(desiredOf(agentSpec()), agentState(serverEcho(params)))).toEqual([]);
  });

  it("shows a real change on the echo with a readable path", () => {
    const live = agentState(serverEcho(agentParams(agentSpec())));
    const toolsets = agentSpec().toolsets.map((t) =>
      t.tools ? { ...t, tools: t.tools.map((tool) => ({ ...tool, permission_policy: "auto" as const })) } : t,
    );
    const changes = specChanges(desiredOf(agentSpec({ toolsets })), live);
    expect(changes.map((c) => c.path)).toEqual([
      'tools["mcp_toolset:export-jobs"].configs.get_latest_export_job.permission_policy',
      'tools["mcp_toolset:export-jobs"].configs.retry_export_job.permission_policy',
    ]);
  });

  it("treats a model string and the server's object form alike", () => {
    expect(agentState({ name: "a", model: "claude-haiku-4-5" }).model).toEqual({
      id: "claude-haiku-4-5",
      speed: "standard",
    });
    expect(agentState({ name: "a", model: { id: "claude-haiku-4-5", speed: "standard" } }).model).toEqual({
      id: "claude-haiku-4-5",
      speed: "standard",
    });
  });

  it("treats a config field the server returns as null like an absent one (web_fetch url_sources)", () => {
    const sent = { type: "agent_toolset_20260401", configs: [{ name: "web_fetch", enabled: true }] };
    const echoed = {
      type: "agent_toolset_20260401",
      default_config: { enabled: true, permission_policy: { type: "always_allow" } },
      configs: [
        {
          name: "web_fetch",
          type: "web_fetch",
          enabled: true,
          permission_policy: { type: "always_allow" },
          url_sources: null,
        },
      ],
    };
    expect(
      diffState(
        agentState({ name: "a", model: "m", tools: [echoed] }),
        agentState({ name: "a", model: "m", tools: [sent] }),
      ),
    ).toEqual([]);
  });

  it("keeps ownership metadata out of the comparable state", () => {
    expect(agentState(serverEcho(agentParams(agentSpec()))).metadata).toEqual({ team: "support" });
  });
});
