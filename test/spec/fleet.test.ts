import { existsSync } from "node:fs";
import { cp, mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { loadProject } from "../../src/spec/index.js";
import { FIXTURE_ROOT } from "./helpers.js";

/** The fleet's folders, copied so that YAML elsewhere in the repository (other tests' fixtures) cannot interfere. */
const FLEET = [
  "agents",
  "deployments",
  "environments",
  "memory-stores",
  "prompts",
  "skills",
  "toolsets",
  "tunnels",
  "vaults",
];

describe("the test fleet (a copy of the example)", async () => {
  const root = await mkdtemp(path.join(tmpdir(), "reconcile-fleet-"));
  for (const dir of FLEET) await cp(path.join(FIXTURE_ROOT, dir), path.join(root, dir), { recursive: true });
  const project = await loadProject(root);
  const { specs } = project;
  const agent = (name: string) => specs.agents.find((a) => a.name === name);

  test("loads with zero errors", () => {
    expect(project.errors).toEqual([]);
  });

  test("reads one spec per file, in sorted order", () => {
    expect(project.files).toEqual([
      "agents/email-meeting-manager.yaml",
      "agents/export-support.yaml",
      "agents/ops-agent.yaml",
      "deployments/ops-nightly.yaml",
      "environments/export-sandbox.yaml",
      "environments/ops.yaml",
      "memory-stores/ops-notes.yaml",
      "skills/incident-runbook.yaml",
      "toolsets/export-jobs.yaml",
      "toolsets/internal-db.yaml",
      "toolsets/support-desk.yaml",
      "toolsets/workspace-mail-calendar.yaml",
      "tunnels/corp.yaml",
      "vaults/email-meeting-manager.yaml",
    ]);
    expect(specs.agents.map((a) => a.name)).toEqual(["email-meeting-manager", "export-support", "ops-agent"]);
    expect(specs.environments.map((e) => e.name)).toEqual(["export-sandbox", "ops"]);
    expect(specs.vaults.map((v) => v.name)).toEqual(["email-meeting-manager"]);
    expect(specs.memory_stores?.map((m) => m.name)).toEqual(["ops-notes"]);
    expect(specs.toolsets.map((t) => t.name)).toEqual([
      "export-jobs",
      "internal-db",
      "support-desk",
      "workspace-mail-calendar",
    ]);
  });

  test("every file starts with a yaml-language-server line naming its kind's schema, by a path that resolves", async () => {
    const schemaOf: Record<string, string> = {
      agents: "agent",
      deployments: "deployment",
      environments: "environment",
      skills: "skill",
      "memory-stores": "memory-store",
      toolsets: "mcp-toolset",
      tunnels: "tunnel",
      vaults: "vault",
    };
    for (const file of project.files) {
      const first = (await readFile(path.join(FIXTURE_ROOT, file), "utf8")).split("\n")[0];
      const folder = file.split("/")[0] ?? "";
      const schema = (first ?? "").match(/^# yaml-language-server: \$schema=(.+)$/)?.[1] ?? "";
      expect(path.basename(schema), file).toBe(`${schemaOf[folder]}.schema.json`);
      expect(existsSync(path.resolve(FIXTURE_ROOT, path.dirname(file), schema)), `${file}: ${schema}`).toBe(true);
    }
  });

  test("export-support reads its prompt from prompts/ and puts the customer reply behind an approval gate", async () => {
    const a = agent("export-support");
    expect(a?.system_file).toBe("prompts/export-support.md");
    expect(a?.system).toBe(await readFile(path.join(FIXTURE_ROOT, "prompts/export-support.md"), "utf8"));
    expect(a?.model).toEqual({ id: "claude-sonnet-4-6" });
    expect(a?.toolsets.map((t) => t.name)).toEqual(["export-jobs", "support-desk"]);
    const [jobs, desk] = a?.toolsets ?? [];
    expect(jobs?.url).toBe("https://exports-mcp.example.com/mcp");
    expect(jobs?.tools?.map((t) => t.name)).toEqual([
      "get_export_download_url",
      "get_latest_export_job",
      "retry_export_job",
    ]);
    expect(jobs?.tools?.find((t) => t.name === "get_latest_export_job")?.permission_policy).toBe("always_allow");
    expect(jobs?.tools?.find((t) => t.name === "retry_export_job")?.permission_policy).toBe("always_ask");
    expect(desk?.tools?.find((t) => t.name === "send_customer_reply")?.permission_policy).toBe("always_ask");
    expect(a?.tools).toEqual([]);
    expect(a?.protect).toBe(false);
  });

  test("export-sandbox only reaches the export server's host and the agent's MCP servers", () => {
    const env = specs.environments.find((e) => e.name === "export-sandbox");
    expect(env?.config).toEqual({
      type: "cloud",
      networking: { type: "limited", allowed_hosts: ["exports-mcp.example.com"], allow_mcp_servers: true },
    });
  });

  test("email-meeting-manager uses one virtual MCP server whose token is in its vault", () => {
    const a = agent("email-meeting-manager");
    expect(a?.model).toEqual({ id: "claude-haiku-4-5" });
    expect(a?.system_file).toBeUndefined();
    expect(a?.system).toMatch(/^You manage meetings for one mailbox\./);
    expect(a?.toolsets.map((t) => t.server_name)).toEqual(["workspace-mail-calendar"]);
    expect(a?.toolsets[0]?.tools?.map((t) => t.name)).toEqual([
      "calendar_create_event",
      "calendar_list_events",
      "gmail_read_message",
      "gmail_search_messages",
    ]);
    const vault = specs.vaults[0];
    expect(vault?.display_name).toBe("Email meeting manager");
    expect(vault?.credentials).toEqual([
      {
        name: "workspace-mcp",
        display_name: "Workspace mail and calendar MCP token",
        metadata: {},
        max_age_ms: 86_400_000, // rotation: { max_age: 1d }
        auth: {
          type: "static_bearer",
          mcp_server_url: "https://workspace-mcp.example.com/mcp",
          token: { source: "env", name: "WORKSPACE_MCP_TOKEN" },
        },
        previous_names: [],
        source: { file: "vaults/email-meeting-manager.yaml", line: 9, col: 5 },
      },
    ]);
  });

  test("ops-nightly runs ops-agent, pinned, every night at 02:00 Paris time, with a budget", () => {
    expect(specs.deployments).toEqual([
      expect.objectContaining({
        name: "ops-nightly",
        agent: "ops-agent",
        agent_version: "pinned",
        environment: "ops",
        schedule: { expression: "0 2 * * *", timezone: "Europe/Paris" },
        budget: { type: "limit", max_list_cost: { amount: "2500", currency: "USD" } },
        paused: false,
      }),
    ]);
  });

  test("ops-agent: high effort, read-only database tool, bash behind approval", () => {
    const a = agent("ops-agent");
    expect(a?.model).toEqual({ id: "claude-opus-4-7", effort: "high" });
    expect(a?.metadata).toEqual({ team: "platform", tier: "production" });
    expect(a?.toolsets[0]?.tools).toEqual([{ name: "run_readonly_query", permission_policy: "always_allow" }]);
    expect(a?.tools).toEqual([
      {
        type: "agent_toolset_20260401",
        configs: [
          { name: "bash", permission_policy: { type: "always_ask" } },
          { name: "web_search", enabled: false },
        ],
      },
    ]);
    expect(a?.source).toEqual({ file: "agents/ops-agent.yaml", line: 2, col: 1 });
  });
});
