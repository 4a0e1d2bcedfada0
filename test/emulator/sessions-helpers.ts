import type Anthropic from "@anthropic-ai/sdk";
import type { BetaManagedAgentsSessionEvent } from "@anthropic-ai/sdk/resources/beta/sessions/events.js";

/** A session event as the SDK types it. */
export type Event = BetaManagedAgentsSessionEvent;

/** How long a test waits for the scripted agent before failing (generous: the machine may be loaded). */
export const WAIT_MS = 15_000;

/** An environment and an agent with an MCP toolset: `get_job` (always_allow), `retry_job` and `cancel_job` (always_ask). */
export async function fixture(
  client: Anthropic,
  opts: { workspace_id?: string; customTool?: boolean } = {},
): Promise<{ agentId: string; envId: string }> {
  const ws = opts.workspace_id ? { workspace_id: opts.workspace_id } : {};
  const env = await client.beta.environments.create({ name: "sessions", ...ws });
  const agent = await client.beta.agents.create({
    name: "ops",
    model: "claude-sonnet-4-6",
    mcp_servers: [{ type: "url", name: "jobs", url: "https://mcp.example.com/mcp" }],
    tools: [
      {
        type: "mcp_toolset",
        mcp_server_name: "jobs",
        configs: [
          { name: "get_job", permission_policy: { type: "always_allow" } },
          { name: "retry_job", permission_policy: { type: "always_ask" } },
          { name: "cancel_job" },
          { name: "purge_jobs", enabled: false },
        ],
      },
      ...(opts.customTool
        ? [
            {
              type: "custom" as const,
              name: "lookup_order",
              description: "Looks an order up",
              input_schema: { type: "object" as const, properties: { id: { type: "string" } } },
            },
          ]
        : []),
    ],
    ...ws,
  });
  return { agentId: agent.id, envId: env.id };
}

/** Every event of a session, oldest first (all pages). */
export async function history(client: Anthropic, sessionId: string, workspace_id?: string): Promise<Event[]> {
  const out: Event[] = [];
  const params = workspace_id ? { workspace_id, limit: 1000 } : { limit: 1000 };
  for await (const e of client.beta.sessions.events.list(sessionId, params)) out.push(e);
  return out;
}

/** Polls the history until `done` holds (or fails after `WAIT_MS`); returns the history. */
export async function waitFor(
  client: Anthropic,
  sessionId: string,
  done: (events: Event[]) => boolean,
  workspace_id?: string,
): Promise<Event[]> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const events = await history(client, sessionId, workspace_id);
    if (done(events)) return events;
    if (Date.now() > deadline) {
      throw new Error(`timed out; history: ${events.map((e) => e.type).join(", ")}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** True when the history has at least `n` `session.status_idle` events. */
export const idles = (n: number) => (events: Event[]) =>
  events.filter((e) => e.type === "session.status_idle").length >= n;

/** The `session.status_idle` events of a history. */
export function idleEvents(events: Event[]): Extract<Event, { type: "session.status_idle" }>[] {
  return events.filter((e): e is Extract<Event, { type: "session.status_idle" }> => e.type === "session.status_idle");
}

/** Text of the `agent.message` events of a history. */
export function replies(events: Event[]): string[] {
  return events
    .filter((e): e is Extract<Event, { type: "agent.message" }> => e.type === "agent.message")
    .map((e) => e.content.map((b) => (b.type === "text" ? b.text : "")).join(""));
}

/** A user message event param with one text block. */
export function say(text: string): { type: "user.message"; content: { type: "text"; text: string }[] } {
  return { type: "user.message", content: [{ type: "text", text }] };
}
