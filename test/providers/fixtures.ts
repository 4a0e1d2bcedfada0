/** Small resolved specs for provider and plan unit tests. */
import type { ResolvedAgent, ResolvedMcpToolset, ResolvedVault } from "../../src/spec/types.js";

const source = { file: "agents/x.yaml", line: 1, col: 1 };

export const jobsToolset: ResolvedMcpToolset = {
  name: "export-jobs",
  server_name: "export-jobs",
  url: "https://mcp.example.com/exports",
  tools: [
    { name: "get_latest_export_job", permission_policy: "always_allow" },
    { name: "retry_export_job", permission_policy: "always_ask" },
  ],
  default_permission_policy: "always_ask",
  source,
};

export const deskToolset: ResolvedMcpToolset = {
  name: "support-desk",
  server_name: "support-desk",
  url: "https://mcp.example.com/desk",
  tools: null,
  default_permission_policy: "always_ask",
  source,
};

export function agentSpec(overrides: Partial<ResolvedAgent> = {}): ResolvedAgent {
  return {
    kind: "Agent",
    name: "export-support",
    description: "Resolves export tickets",
    model: { id: "claude-sonnet-4-5", effort: "high" },
    system: "You help.\nBe brief.",
    toolsets: [jobsToolset, deskToolset],
    tools: [{ type: "agent_toolset_20260401", configs: [{ name: "bash", permission_policy: { type: "always_ask" } }] }],
    skills: [{ type: "anthropic", skill_id: "xlsx" }],
    metadata: { team: "support" },
    protect: false,
    previous_names: [],
    source,
    ...overrides,
  };
}

export function vaultSpec(): ResolvedVault {
  return {
    kind: "Vault",
    name: "mail",
    display_name: "Mail tokens",
    metadata: {},
    protect: false,
    on_prune: "archive",
    previous_names: [],
    source,
    credentials: [
      {
        name: "workspace",
        display_name: null,
        metadata: {},
        previous_names: [],
        source,
        auth: {
          type: "static_bearer",
          mcp_server_url: "https://mcp.example.com/mail",
          token: { source: "env", name: "MAIL_TOKEN" },
        },
      },
    ],
  };
}
