/**
 * Issue 8's required flow, with the MCP SDK's own `Client`, over stdio (the built `bin/reconcile mcp`) and over
 * Streamable HTTP, against the emulator with the example fleet applied: list agents by spec name → start a session
 * of export-support → wait_for_idle returns the pending approval of retry_export_job → an allow is refused for a
 * client without elicitation and confirmed through the elicitation handler of one that has it → wait_for_idle
 * returns the reply → session_archive only with --allow-destructive. Plus the allowlist (a foreign agent and its
 * sessions answer like unknown ones) and the secret canary across every result and audit line.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AuditRecorder,
  CANARY,
  call,
  connectHttp,
  connectStdio,
  type Elicitations,
  type Fixture,
  fleetFixture,
  newClient,
  startHttp,
} from "./helpers.js";

let fix: Fixture;
const texts: string[] = [];
const audits: AuditRecorder[] = [];
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  fix = await fleetFixture();
}, 120_000);

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => {});
  await fix?.close();
  // No secret reached any tool result or audit line, on either transport.
  for (const text of [...texts, ...audits.flatMap((a) => a.lines)]) expect(text).not.toContain(CANARY);
});

/** Calls a tool and records its text and structured content for the canary check. */
async function tool(client: Client, name: string, args: Record<string, unknown> = {}) {
  const result = await call(client, name, args);
  texts.push(result.text, JSON.stringify(result.structured));
  return result;
}

type Connect = (client: Client, audit: AuditRecorder, args?: string[]) => Promise<void>;

const transports: [string, () => Promise<Connect>][] = [
  ["stdio", async () => (client, audit, args) => connectStdio(client, fix, audit, args)],
  [
    "HTTP",
    async () => {
      const servers = new Map<string, string>();
      return async (client, audit, args = []) => {
        const key = args.join(" ");
        let url = servers.get(key);
        if (!url) {
          const http = await startHttp(fix, audit, {
            tools: { allowDestructive: args.includes("--allow-destructive") },
          });
          closers.push(() => http.close());
          url = http.url;
          servers.set(key, url);
        }
        await connectHttp(client, url);
      };
    },
  ],
];

describe.each(transports)("the MCP server over %s", (_name, makeConnect) => {
  let connect: Connect;
  let client: Client;
  let audit: AuditRecorder;
  const elicit: Elicitations = { messages: [], answer: { action: "accept", content: { approve: true } } };

  beforeAll(async () => {
    connect = await makeConnect();
    audit = new AuditRecorder();
    audits.push(audit);
    client = newClient(elicit);
    closers.push(() => client.close());
    await connect(client, audit);
  }, 60_000);

  it("lists the stack's agents by spec name, and nothing the stack does not own", async () => {
    const tools = (await client.listTools()).tools;
    const names = tools.map((t) => t.name);
    for (const n of ["agent_list", "agent_get", "session_start", "wait_for_idle", "session_respond"]) {
      expect(names).toContain(n);
    }
    expect(names).not.toContain("session_archive");
    for (const t of tools) {
      expect(t.inputSchema.type).toBe("object");
      expect(t.outputSchema?.type).toBe("object");
      expect(typeof t.annotations?.readOnlyHint).toBe("boolean");
      expect(typeof t.annotations?.destructiveHint).toBe("boolean");
    }
    const result = await tool(client, "agent_list");
    expect(result.isError).toBe(false);
    const agents = result.structured.agents as { name: string; id: string; version: number }[];
    expect(agents.map((a) => a.name).sort()).toEqual(["email-meeting-manager", "export-support", "ops-agent"]);
    expect(agents.map((a) => a.id)).not.toContain(fix.foreign.agentId);
    expect(agents.map((a) => a.id)).not.toContain(fix.lockAgentId);
    expect(result.text).toContain("export-support");
  });

  it("runs export-support through the approval gate, confirmed by the person through elicitation", async () => {
    const started = await tool(client, "session_start", {
      agent: "export-support",
      environment: "export-sandbox",
      title: "Ticket 4711",
      message: "The export of customer 42 failed; please run retry_export_job.",
    });
    expect(started.isError, started.text).toBe(false);
    const sessionId = started.structured.session_id as string;
    expect(sessionId).toMatch(/^sesn_/);
    expect(started.structured.agent).toBe("export-support");

    const waited = await tool(client, "wait_for_idle", { session_id: sessionId, timeout_seconds: 60 });
    expect(waited.isError, waited.text).toBe(false);
    expect(waited.structured.status).toBe("requires_action");
    const pending = waited.structured.pending_approvals as { tool_use_id: string; tool: string; server: string }[];
    expect(pending).toHaveLength(1);
    expect(pending[0]?.tool).toBe("retry_export_job");
    expect(waited.text).toContain("retry_export_job");
    const toolUseId = pending[0]?.tool_use_id as string;

    // A client that cannot ask its person is refused for allow, and nothing is sent.
    const plain = newClient();
    closers.push(() => plain.close());
    await connect(plain, audit);
    const refused = await tool(plain, "session_respond", {
      session_id: sessionId,
      tool_use_id: toolUseId,
      decision: "allow",
    });
    expect(refused.isError).toBe(true);
    expect(refused.text).toContain("elicitation");
    expect(refused.text).toContain("--approvals client");
    const still = await tool(client, "session_get", { session_id: sessionId });
    expect(still.structured.stop_reason).toBe("requires_action");
    expect(still.structured.waiting_on).toEqual([toolUseId]);

    // The person confirms through this client's elicitation handler.
    const allowed = await tool(client, "session_respond", {
      session_id: sessionId,
      tool_use_id: toolUseId,
      decision: "allow",
    });
    expect(allowed.isError, allowed.text).toBe(false);
    expect(allowed.structured).toMatchObject({ result: "allow", confirmed_by: "person" });
    expect(elicit.messages).toHaveLength(1);
    expect(elicit.messages[0]).toContain("retry_export_job");
    expect(elicit.messages[0]).toContain(sessionId);
    expect(elicit.messages[0]).toContain("export-support");

    const done = await tool(client, "wait_for_idle", {
      session_id: sessionId,
      cursor: allowed.structured.cursor,
      timeout_seconds: 60,
    });
    expect(done.structured.status).toBe("idle");
    expect(done.structured.stop_reason).toBe("end_turn");
    expect(done.structured.reply).toContain("I ran retry_export_job");
    expect(done.structured.pending_approvals).toEqual([]);

    const events = await tool(client, "session_events", { session_id: sessionId, types: ["agent.mcp_tool_result"] });
    expect((events.structured.events as { tool_use_id: string }[]).map((e) => e.tool_use_id)).toEqual([toolUseId]);

    const listed = await tool(client, "session_list", { agent: "export-support" });
    expect((listed.structured.sessions as { session_id: string }[]).map((s) => s.session_id)).toContain(sessionId);

    // Not offered without --allow-destructive.
    const archive = await client
      .callTool({ name: "session_archive", arguments: { session_id: sessionId } })
      .catch((e: Error) => ({ isError: true, content: [{ type: "text", text: e.message }] }));
    expect(archive.isError).toBe(true);
    expect((await fix.sdk.beta.sessions.retrieve(sessionId)).archived_at).toBeNull();

    // Every call left one audit line with its subject, tool, ids and outcome; none holds the message text.
    await expect
      .poll(() => audit.records.some((r) => r.tool === "session_respond" && r.outcome === "refused"))
      .toBe(true);
    const respond = audit.records.filter((r) => r.tool === "session_respond");
    expect(respond.map((r) => r.outcome).sort()).toEqual(["ok", "refused"]);
    expect(respond[0]?.targets).toMatchObject({ session_id: sessionId, tool_use_id: toolUseId });
    for (const line of audit.lines) expect(line).not.toContain("customer 42");
  }, 120_000);

  it("denies without asking anyone, and the agent says so", async () => {
    const started = await tool(client, "session_start", {
      agent: "export-support",
      environment: "export-sandbox",
      message: "run retry_export_job again",
    });
    const sessionId = started.structured.session_id as string;
    const waited = await tool(client, "wait_for_idle", { session_id: sessionId, timeout_seconds: 60 });
    const pending = waited.structured.pending_approvals as { tool_use_id: string }[];
    const before = elicit.messages.length;
    const denied = await tool(client, "session_respond", {
      session_id: sessionId,
      tool_use_id: pending[0]?.tool_use_id,
      decision: "deny",
      reason: "the customer asked us to wait",
    });
    expect(denied.structured).toMatchObject({ result: "deny", confirmed_by: "caller" });
    expect(elicit.messages).toHaveLength(before);
    const done = await tool(client, "wait_for_idle", { session_id: sessionId, cursor: denied.structured.cursor });
    expect(done.structured.reply).toContain("the user denied it");
  }, 120_000);

  it("offers session_archive only with --allow-destructive", async () => {
    const destructive = newClient();
    closers.push(() => destructive.close());
    await connect(destructive, audit, ["--allow-destructive"]);
    const names = (await destructive.listTools()).tools.map((t) => t.name);
    expect(names).toContain("session_archive");
    const started = await tool(destructive, "session_start", { agent: "ops-agent", environment: "ops" });
    const sessionId = started.structured.session_id as string;
    const archived = await tool(destructive, "session_archive", { session_id: sessionId });
    expect(archived.isError, archived.text).toBe(false);
    expect((await fix.sdk.beta.sessions.retrieve(sessionId)).archived_at).not.toBeNull();
    const foreign = await tool(destructive, "session_archive", { session_id: fix.foreign.sessionId });
    expect(foreign.isError).toBe(true);
    expect((await fix.sdk.beta.sessions.retrieve(fix.foreign.sessionId)).archived_at).toBeNull();
  }, 60_000);

  it("cannot start or observe an agent outside the stack; its session ids answer like unknown ones", async () => {
    for (const agent of ["payroll-bot", fix.foreign.agentId, fix.lockAgentId]) {
      const started = await tool(client, "session_start", { agent, environment: "export-sandbox" });
      expect(started.isError).toBe(true);
      expect(started.text).toContain("no agent");
      const got = await tool(client, "agent_get", { agent });
      expect(got.isError).toBe(true);
    }
    const unknown = "sesn_011CDoesNotExist0000000";
    for (const name of ["session_get", "session_events", "wait_for_idle", "session_message", "session_interrupt"]) {
      const args = name === "session_message" ? { text: "hello" } : {};
      const a = await tool(client, name, { session_id: fix.foreign.sessionId, ...args });
      const b = await tool(client, name, { session_id: unknown, ...args });
      expect(a.isError, name).toBe(true);
      expect(b.isError, name).toBe(true);
      expect(a.text.replace(fix.foreign.sessionId, "ID")).toBe(b.text.replace(unknown, "ID"));
    }
    const listed = await tool(client, "session_list");
    expect((listed.structured.sessions as { session_id: string }[]).map((s) => s.session_id)).not.toContain(
      fix.foreign.sessionId,
    );
    // Nothing was sent to the foreign session.
    const history = await fix.sdk.beta.sessions.events.list(fix.foreign.sessionId);
    expect(history.data.filter((e) => e.type === "user.message")).toEqual([]);
  }, 60_000);

  it("reads agent definitions as resources and through agent_get, without ownership keys", async () => {
    const resources = await client.listResources();
    expect(resources.resources.map((r) => r.uri)).toContain("reconcile://agent/export-support");
    const read = await client.readResource({ uri: "reconcile://agent/export-support" });
    const text = String((read.contents[0] as { text?: string }).text);
    texts.push(text);
    const definition = JSON.parse(text) as { spec_name: string; metadata: Record<string, string> };
    expect(definition.spec_name).toBe("export-support");
    expect(definition.metadata).toEqual({ team: "support", owner: "support-automation" });
    const got = await tool(client, "agent_get", { agent: "export-support" });
    expect((got.structured.agent as { system: string }).system).toContain("export");
    const vaults = await tool(client, "vault_list");
    expect(Object.keys((vaults.structured.vaults as object[])[0] ?? {}).sort()).toEqual(["id", "name"]);
  });
});
