/**
 * The approval gate (ADR 0014): an `always_ask` tool call is approved by a person, not by the model that drives
 * the MCP client. An allow is confirmed through MCP elicitation (the client shows the person the tool, its input and
 * the session, and the person approves or denies); a deny needs no confirmation. A client without form elicitation
 * gets a refusal for allow, unless the operator started the server with `--approvals client` (trusting the caller).
 */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { ToolError } from "./tool.js";

/** `elicit` (default): a person confirms each allow; `client`: the caller's allow is trusted as is. */
export type ApprovalMode = "elicit" | "client";

/** What the person is asked about. */
export interface ApprovalRequest {
  session_id: string;
  agent: string;
  tool_use_id: string;
  tool: string;
  server: string | null;
  /** The tool input as JSON (trimmed). */
  input: string;
}

/** The person's answer: allow, deny (with an optional reason), or no decision (dismissed). */
export type ApprovalDecision =
  | { decision: "allow" }
  | { decision: "deny"; reason: string | null }
  | { decision: "none" };

/** How long a person has to answer an elicitation, in milliseconds (the MCP SDK's default of 60 s is too short). */
export const APPROVAL_TIMEOUT_MS = 10 * 60_000;

/**
 * Asks the person behind the client to confirm allowing `request`.
 * @throws ToolError (`refused`) when the client cannot elicit and the mode is `elicit`
 */
export async function confirmAllow(
  server: McpServer,
  mode: ApprovalMode,
  request: ApprovalRequest,
  signal: AbortSignal,
): Promise<ApprovalDecision> {
  if (mode === "client") return { decision: "allow" };
  if (!server.server.getClientCapabilities()?.elicitation?.form) {
    throw new ToolError(
      "allow refused: approving a tool call needs a person's confirmation, and this MCP client does not support elicitation (it cannot ask the person). Approve it from a client that supports MCP elicitation, or deny it. An operator who trusts every caller can start the server with `--approvals client`.",
      "refused",
    );
  }
  const result = await elicit(server, request, signal);
  if (result.action === "decline") return { decision: "deny", reason: null };
  if (result.action !== "accept" || !result.content) return { decision: "none" };
  if (result.content.approve === true) return { decision: "allow" };
  const reason =
    typeof result.content.reason === "string" && result.content.reason !== "" ? result.content.reason : null;
  return { decision: "deny", reason };
}

/**
 * Sends the elicitation request.
 * @throws ToolError (`refused`) when the client fails to answer (timeout, invalid answer): nothing is sent then
 */
async function elicit(server: McpServer, request: ApprovalRequest, signal: AbortSignal) {
  const where = request.server ? ` on MCP server ${request.server}` : "";
  try {
    return await server.server.elicitInput(
      {
        mode: "form",
        message: `Agent ${request.agent} (session ${request.session_id}) wants to run the tool ${request.tool}${where} with this input:\n${request.input}\nAllow this call?`,
        requestedSchema: {
          type: "object",
          properties: {
            approve: {
              type: "boolean",
              title: `Allow ${request.tool}`,
              description: "Run the tool call",
              default: false,
            },
            reason: { type: "string", title: "Reason (sent to the agent when you deny)", maxLength: 1000 },
          },
          required: ["approve"],
        },
      },
      { signal, timeout: APPROVAL_TIMEOUT_MS },
    );
  } catch (error) {
    if (signal.aborted) throw error;
    throw new ToolError(
      `the approval prompt got no valid answer (${error instanceof Error ? error.message.slice(0, 200) : "unknown error"}); nothing was sent, the call is still waiting`,
      "refused",
    );
  }
}
