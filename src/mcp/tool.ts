/**
 * How every tool of the MCP server is registered: a zod input and output schema, annotations, one audit line per
 * call, and a result that carries structured content plus a short text summary (some clients read only the text).
 * Errors become tool errors (`isError`) with a message that says what to do, never a stack trace: `ToolError` for
 * the server's own refusals, the API's message for API errors, a fixed text for anything unexpected.
 */
import Anthropic from "@anthropic-ai/sdk";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { CallToolResult, ServerNotification, ServerRequest } from "@modelcontextprotocol/sdk/types.js";
import type { ZodRawShape, z } from "zod";
import { describeError } from "../reconcile/apply.js";
import { type AuditOutcome, type AuditSink, auditTargets } from "./audit.js";

/** A refusal or a bad request the client can act on; `message` is shown to the client as the tool error. */
export class ToolError extends Error {
  constructor(
    message: string,
    readonly outcome: AuditOutcome = "error",
  ) {
    super(message);
    this.name = "ToolError";
  }
}

/** The `extra` argument the MCP SDK passes to tool callbacks. */
export type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** What a tool callback gets besides its arguments. */
export interface ToolCall {
  extra: ToolExtra;
  /** Records an id the call acts on, for the audit line (written even when the call fails). */
  target(key: string, id: string | undefined): void;
}

/** What a tool callback returns: the structured result (matching the output schema) and a one-line summary. */
export interface ToolOutput<T> {
  structured: T;
  summary: string;
}

/** A tool definition. */
export interface ToolDefinition<I extends ZodRawShape, O extends ZodRawShape> {
  name: string;
  title: string;
  description: string;
  input: I;
  output: O;
  /** MCP tool annotations; the SDK's defaults (destructive, not read-only) are never relied on. */
  annotations: { readOnlyHint: boolean; destructiveHint: boolean; idempotentHint: boolean; openWorldHint: boolean };
  run(
    args: z.infer<z.ZodObject<I>>,
    call: ToolCall,
  ): Promise<ToolOutput<z.infer<z.ZodObject<O>>> | (ToolOutput<z.infer<z.ZodObject<O>>> & { outcome: AuditOutcome })>;
}

/**
 * Who called, for the audit line: the verified token's client id (JWT `sub`, or `bearer`); `anonymous` over HTTP
 * without auth (loopback only); `stdio` for the local transport.
 */
export function subjectOf(extra: ToolExtra): string {
  return extra.authInfo?.clientId ?? (extra.sessionId ? "anonymous" : "stdio");
}

/** The message a client sees for `error` (never a stack trace). */
export function toolErrorMessage(error: unknown): { message: string; outcome: AuditOutcome } {
  if (error instanceof ToolError) return { message: error.message, outcome: error.outcome };
  if (error instanceof Anthropic.APIError || error instanceof Anthropic.APIConnectionError) {
    return { message: `the Managed Agents API refused the call: ${describeError(error)}`, outcome: "error" };
  }
  return { message: "internal error in the reconcile MCP server; the server log has details", outcome: "error" };
}

/**
 * Registers `tool` on `server`, wrapped with auditing and error mapping.
 * @param log receives a line for unexpected errors (stderr), without arguments or results
 */
export function registerTool<I extends ZodRawShape, O extends ZodRawShape>(
  server: McpServer,
  audit: AuditSink,
  log: (line: string) => void,
  tool: ToolDefinition<I, O>,
): void {
  server.registerTool(
    tool.name,
    {
      title: tool.title,
      description: tool.description,
      inputSchema: tool.input,
      outputSchema: tool.output,
      annotations: { title: tool.title, ...tool.annotations },
    },
    // The SDK types the callback from the schemas; the cast keeps this generic wrapper simple.
    (async (args: z.infer<z.ZodObject<I>>, extra: ToolExtra): Promise<CallToolResult> => {
      const started = performance.now();
      const targets: Record<string, string | undefined> = {};
      let outcome: AuditOutcome = "ok";
      try {
        const result = await tool.run(args, {
          extra,
          target: (key, id) => {
            if (id !== undefined) targets[key] = id;
          },
        });
        if ("outcome" in result) outcome = result.outcome;
        return {
          content: [{ type: "text", text: result.summary }],
          structuredContent: result.structured as Record<string, unknown>,
        };
      } catch (error) {
        const mapped = toolErrorMessage(error);
        outcome = mapped.outcome;
        if (!(error instanceof ToolError) && !(error instanceof Anthropic.APIError)) {
          log(
            `reconcile mcp: unexpected error in ${tool.name}: ${String(error instanceof Error ? error.message : error).slice(0, 300)}\n`,
          );
        }
        return { isError: true, content: [{ type: "text", text: mapped.message }] };
      } finally {
        audit({
          time: new Date().toISOString(),
          subject: subjectOf(extra),
          tool: tool.name,
          targets: auditTargets(targets),
          outcome,
          duration_ms: Math.round(performance.now() - started),
        });
      }
    }) as never,
  );
}
