/**
 * The audit log of the MCP server: one JSON line per tool call on stderr (stdout belongs to the stdio transport),
 * with the time, the client's subject, the tool, the ids it acted on, the outcome and the duration. It never holds
 * message text, tool inputs, tokens or secrets: only ids and the fixed fields below are ever written, and ids are
 * checked against the API's id shape so free text cannot slip in through an id argument.
 */

/** How a tool call ended. `refused`: the server's rules said no (allowlist, approval gate, destructive gate). */
export type AuditOutcome = "ok" | "error" | "refused" | "denied";

/** One audit line. */
export interface AuditRecord {
  time: string;
  /** Who called: the JWT `sub`, `bearer` for the shared token, `stdio` for the local transport. */
  subject: string;
  tool: string;
  /** Ids the call named or produced (`session_id`, `agent_id`, `tool_use_id`...). */
  targets: Record<string, string>;
  outcome: AuditOutcome;
  duration_ms: number;
}

/** Writes audit lines. */
export type AuditSink = (record: AuditRecord) => void;

/** An API id: a short prefix, an underscore and a token of letters and digits (`sesn_011C...`). */
const ID = /^[a-z]{2,8}_[A-Za-z0-9]{1,64}$/;

/** Keeps only the target values shaped like API ids (anything else is replaced by `(invalid)`). */
export function auditTargets(targets: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(targets)) {
    if (value === undefined) continue;
    out[key] = ID.test(value) ? value : "(invalid)";
  }
  return out;
}

/** The audit sink that writes one JSON line per record with `write` (default: stderr). */
export function jsonLineAudit(write: (line: string) => void = (line) => process.stderr.write(line)): AuditSink {
  return (record) => write(`${JSON.stringify({ audit: "reconcile-mcp", ...record })}\n`);
}
