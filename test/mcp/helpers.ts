/**
 * Helpers for the MCP server tests: an emulator with the example fleet applied by the real CLI (plus objects the
 * stack does not own: a foreign agent with a session, and a lock-like agent with ownership keys but no name), MCP
 * SDK clients over stdio (the built `bin/reconcile mcp`) and over HTTP (the server in-process on a random loopback
 * port), and a recorder for audit lines.
 */
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { expect } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { type AuditRecord, jsonLineAudit } from "../../src/mcp/audit.js";
import { type HttpOptions, type RunningHttp, serveHttp } from "../../src/mcp/http.js";
import { createMcpServer } from "../../src/mcp/server.js";
import { StackIndex } from "../../src/mcp/stack.js";
import type { SessionToolOptions } from "../../src/mcp/tools/sessions.js";
import { envSecrets } from "../../src/providers/secrets.js";
import { observeOutputs } from "../../src/reconcile/outputs.js";
import { loadSpecs } from "../../src/reconcile/workflow.js";
import { copyFleet, REPO, removeDir, runCli } from "../e2e/helpers.js";

/** A secret value that must never appear in any tool result or audit line. */
export const CANARY = "canary-secret-mcp-7f3e9a21c4";

/** The emulator, the applied fleet and the objects outside the stack. */
export interface Fixture {
  emulator: RunningEmulator;
  dir: string;
  env: Record<string, string>;
  sdk: Anthropic;
  /** An agent of no stack, with a running session. */
  foreign: { agentId: string; sessionId: string; environmentId: string };
  /** An agent carrying this stack's ownership keys but no `reconcile/name` (like the apply lock agent). */
  lockAgentId: string;
  close(): Promise<void>;
}

/**
 * Starts an emulator, applies a copy of the example fleet with the CLI (its `retry_export_job` is `always_ask`: the
 * approval gate the flow tests drive), and adds the foreign objects. `sessionStepMs` is the
 * emulator's delay between scripted agent events (default 5).
 */
export async function fleetFixture(options: { sessionStepMs?: number } = {}): Promise<Fixture> {
  const emulator = await startEmulator({ port: 0, sessionStepMs: options.sessionStepMs ?? 5 });
  const dir = await copyFleet();
  const env = { ANTHROPIC_API_KEY: "test-key", ANTHROPIC_BASE_URL: emulator.url, WORKSPACE_MCP_TOKEN: CANARY };
  const applied = await runCli(["apply", "--auto-approve", "--dir", dir], env);
  expect(applied.stderr).toBe("");
  expect(applied.code).toBe(0);
  const sdk = new Anthropic({ apiKey: "test-key", baseURL: emulator.url, maxRetries: 0 });
  const agent = await sdk.beta.agents.create({ name: "payroll-bot", model: "claude-haiku-4-5" });
  const lock = await sdk.beta.agents.create({
    name: "reconcile-lock",
    model: "claude-haiku-4-5",
    metadata: { "managed-by": "reconcile", "reconcile/stack": "example-fleet", "reconcile/lock": "held" },
  });
  const environment = await sdk.beta.environments.create({ name: "payroll-env", config: { type: "cloud" } } as never);
  const session = await sdk.beta.sessions.create({ agent: agent.id, environment_id: environment.id });
  return {
    emulator,
    dir,
    env,
    sdk,
    foreign: { agentId: agent.id, sessionId: session.id, environmentId: environment.id },
    lockAgentId: lock.id,
    async close() {
      await emulator.close();
      await removeDir(dir);
    },
  };
}

/** Collects audit records and raw audit text. */
export class AuditRecorder {
  readonly lines: string[] = [];
  get records(): AuditRecord[] {
    return this.lines.filter((l) => l.includes('"audit"')).map((l) => JSON.parse(l) as AuditRecord);
  }
  /** Appends text (may hold several lines or partial ones). */
  push(text: string): void {
    this.lines.push(...text.split("\n").filter((l) => l.trim() !== ""));
  }
}

/** What the elicitation handler of a test client saw and answers. */
export interface Elicitations {
  messages: string[];
  answer: { action: "accept" | "decline" | "cancel"; content?: Record<string, unknown> };
}

/** A new MCP SDK client; with `elicitations`, it declares form elicitation and answers with `answer`. */
export function newClient(elicitations?: Elicitations): Client {
  const client = new Client(
    { name: "reconcile-test", version: "1.0.0" },
    { capabilities: elicitations ? { elicitation: { form: {} } } : {} },
  );
  if (elicitations) {
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      elicitations.messages.push(String(request.params.message));
      return elicitations.answer;
    });
  }
  return client;
}

/** Connects `client` to `bin/reconcile mcp ...args` over stdio; stderr goes to `audit`. */
export async function connectStdio(
  client: Client,
  fix: Fixture,
  audit: AuditRecorder,
  args: string[] = [],
): Promise<void> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [join(REPO, "bin", "reconcile"), "mcp", "--dir", fix.dir, ...args],
    env: fix.env,
    stderr: "pipe",
  });
  transport.stderr?.on("data", (d: Buffer) => audit.push(d.toString()));
  await client.connect(transport);
}

/** Starts the HTTP server in-process against the fixture, the way `reconcile mcp --http` wires it. */
export async function startHttp(
  fix: Fixture,
  audit: AuditRecorder,
  options: Partial<HttpOptions> & { tools?: Partial<SessionToolOptions> } = {},
): Promise<RunningHttp> {
  const project = await loadSpecs(fix.dir);
  const client = new Anthropic({ apiKey: "test-key", baseURL: fix.emulator.url, maxRetries: 0 });
  const index = new StackIndex({ observe: () => observeOutputs(project, client, envSecrets(fix.env)) });
  await index.refresh();
  const deps = {
    client,
    index,
    audit: jsonLineAudit((line) => audit.push(line)),
    log: (line: string) => audit.push(line),
    tools: { approvals: "elicit" as const, allowDestructive: false, ...options.tools },
    version: "test",
  };
  return serveHttp({
    host: "127.0.0.1",
    port: 0,
    auth: null,
    createServer: () => createMcpServer(deps),
    log: deps.log,
    ...options,
  });
}

/** Connects `client` to an HTTP server, with an optional bearer token. */
export async function connectHttp(client: Client, url: string, token?: string): Promise<void> {
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
    requestInit: token ? { headers: { authorization: `Bearer ${token}` } } : {},
  });
  await client.connect(transport);
}

/** Calls a tool and returns its result (errors are results with `isError`). */
export async function call(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<{ isError: boolean; text: string; structured: Record<string, unknown> }> {
  const result = await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 });
  const content = (result.content ?? []) as { type: string; text?: string }[];
  return {
    isError: result.isError === true,
    text: content.map((c) => c.text ?? "").join("\n"),
    structured: (result.structuredContent ?? {}) as Record<string, unknown>,
  };
}
