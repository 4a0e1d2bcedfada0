/**
 * The reconcile MCP runtime server: an `McpServer` (@modelcontextprotocol/sdk 1.x) with the discovery and session
 * tools registered, and the stdio runner. The HTTP runner is `http.ts`; it creates one server per MCP session
 * (stateful Streamable HTTP, so the server can ask the client for elicitation).
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { AuditSink } from "./audit.js";
import type { StackContext } from "./stack.js";
import { registerDiscoveryTools } from "./tools/discover.js";
import { registerSessionTools, type SessionToolOptions } from "./tools/sessions.js";

/** What every MCP server instance shares. */
export interface McpServerDeps extends StackContext {
  audit: AuditSink;
  /** Receives diagnostic lines (stderr). */
  log: (line: string) => void;
  tools: SessionToolOptions;
  /** The version reported to clients (the CLI's). */
  version: string;
}

const INSTRUCTIONS = `This server runs the Claude Managed Agents that one reconcile repository manages, by their spec names.
Typical flow: agent_list → session_start (agent, environment, message) → wait_for_idle → answer pending approvals with session_respond (an allow is confirmed by the person, not by you) → wait_for_idle again with the cursor.`;

/** A new MCP server with every tool and resource registered. */
export function createMcpServer(deps: McpServerDeps): McpServer {
  const server = new McpServer(
    { name: "reconcile", version: deps.version },
    { capabilities: { tools: {}, resources: {} }, instructions: INSTRUCTIONS },
  );
  registerDiscoveryTools(server, deps, deps.audit, deps.log);
  registerSessionTools(server, deps, deps.audit, deps.log, deps.tools);
  return server;
}

/**
 * Serves MCP over stdio (stdin/stdout) until stdin ends or the process is signalled. Nothing else may write to
 * stdout while it runs; audit lines and notes go to stderr.
 */
export async function serveStdio(deps: McpServerDeps): Promise<void> {
  const server = createMcpServer(deps);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once("end", () => resolve());
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  await server.connect(transport);
  await closed;
  await server.close();
}
