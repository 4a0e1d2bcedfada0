/**
 * What an adversarial or unlucky client tries: forged cursors, answering a call that is not waiting, a person who
 * declines or dismisses the approval prompt, oversized and control-character input, ids carrying text into the
 * audit log. Each gets a clear tool error (or the documented outcome) and sends nothing it should not.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditTargets } from "../../src/mcp/audit.js";
import {
  AuditRecorder,
  call,
  connectHttp,
  type Elicitations,
  type Fixture,
  fleetFixture,
  newClient,
  startHttp,
} from "./helpers.js";

let fix: Fixture;
let client: Client;
const audit = new AuditRecorder();
const elicit: Elicitations = { messages: [], answer: { action: "decline" } };
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  fix = await fleetFixture();
  const http = await startHttp(fix, audit);
  closers.push(() => http.close());
  client = newClient(elicit);
  closers.push(() => client.close());
  await connectHttp(client, http.url);
}, 120_000);

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => {});
  await fix?.close();
});

/** A session of export-support waiting on retry_export_job; returns its id and the waiting tool use id. */
async function waitingSession(): Promise<{ sessionId: string; toolUseId: string }> {
  const started = await call(client, "session_start", {
    agent: "export-support",
    environment: "export-sandbox",
    message: "retry_export_job",
  });
  const sessionId = started.structured.session_id as string;
  const waited = await call(client, "wait_for_idle", { session_id: sessionId, timeout_seconds: 60 });
  const pending = waited.structured.pending_approvals as { tool_use_id: string }[];
  return { sessionId, toolUseId: pending[0]?.tool_use_id as string };
}

const userEvents = async (sessionId: string) =>
  (await fix.sdk.beta.sessions.events.list(sessionId)).data
    .filter((e) => e.type.startsWith("user."))
    .map((e) => e.type);

describe("attacks on the session tools", () => {
  it("refuses a forged cursor with a clear error", async () => {
    const { sessionId } = await waitingSession();
    for (const cursor of ["not-a-cursor", Buffer.from('{"t":1}').toString("base64url"), "%%%"]) {
      const result = await call(client, "session_events", { session_id: sessionId, cursor });
      expect(result.isError).toBe(true);
      expect(result.text).toContain("cursor is not one this server returned");
    }
  }, 60_000);

  it("refuses to answer a call that is not waiting, and sends nothing", async () => {
    const { sessionId } = await waitingSession();
    const before = await userEvents(sessionId);
    const result = await call(client, "session_respond", {
      session_id: sessionId,
      tool_use_id: "sevt_011CNotWaiting000000000",
      decision: "deny",
    });
    expect(result.isError).toBe(true);
    expect(result.text).toContain("is not waiting on tool call sevt_011CNotWaiting000000000");
    expect(await userEvents(sessionId)).toEqual(before);
  }, 60_000);

  it("sends a deny when the person declines the prompt, and nothing when they dismiss it", async () => {
    const { sessionId, toolUseId } = await waitingSession();
    elicit.answer = { action: "cancel" };
    const dismissed = await call(client, "session_respond", {
      session_id: sessionId,
      tool_use_id: toolUseId,
      decision: "allow",
    });
    expect(dismissed.structured).toMatchObject({ result: "not_sent", confirmed_by: "none" });
    expect(await userEvents(sessionId)).toEqual(["user.message"]);

    elicit.answer = { action: "accept", content: { approve: false, reason: "not during the freeze" } };
    const declined = await call(client, "session_respond", {
      session_id: sessionId,
      tool_use_id: toolUseId,
      decision: "allow",
    });
    expect(declined.structured).toMatchObject({ result: "deny", confirmed_by: "person" });
    const done = await call(client, "wait_for_idle", { session_id: sessionId, cursor: declined.structured.cursor });
    expect(done.structured.reply).toContain("the user denied it (not during the freeze)");
    expect(audit.records.filter((r) => r.tool === "session_respond").map((r) => r.outcome)).toEqual(
      expect.arrayContaining(["refused", "denied"]),
    );
  }, 60_000);

  it("refuses oversized text and ids that are not ids, before anything reaches the API", async () => {
    const { sessionId } = await waitingSession();
    const huge = await client
      .callTool({ name: "session_message", arguments: { session_id: sessionId, text: "x".repeat(100_001) } })
      .catch((e: Error) => ({ isError: true, content: [{ type: "text", text: e.message }] }));
    expect(huge.isError).toBe(true);
    const injected = `${sessionId}\n{"audit":"forged"}`;
    const bad = await client
      .callTool({ name: "session_get", arguments: { session_id: injected } })
      .catch((e: Error) => ({ isError: true, content: [{ type: "text", text: e.message }] }));
    expect(bad.isError).toBe(true);
    for (const line of audit.lines) expect(line).not.toContain("forged");
    expect(await userEvents(sessionId)).toEqual(["user.message"]);
  }, 60_000);

  it("treats an answer that does not fit the prompt's schema as no answer, and sends nothing", async () => {
    const { sessionId, toolUseId } = await waitingSession();
    elicit.answer = { action: "accept", content: { approve: "yes please" } };
    const result = await call(client, "session_respond", {
      session_id: sessionId,
      tool_use_id: toolUseId,
      decision: "allow",
    });
    expect(result.isError).toBe(true);
    expect(result.text).toContain("the approval prompt got no valid answer");
    expect(await userEvents(sessionId)).toEqual(["user.message"]);
  }, 60_000);

  it("with --approvals client, trusts the caller's allow and says so", async () => {
    const { sessionId, toolUseId } = await waitingSession();
    const http = await startHttp(fix, audit, { tools: { approvals: "client" } });
    closers.push(() => http.close());
    const trusting = newClient();
    closers.push(() => trusting.close());
    await connectHttp(trusting, http.url);
    const allowed = await call(trusting, "session_respond", {
      session_id: sessionId,
      tool_use_id: toolUseId,
      decision: "allow",
    });
    expect(allowed.structured).toMatchObject({ result: "allow", confirmed_by: "caller" });
    const done = await call(trusting, "wait_for_idle", { session_id: sessionId, cursor: allowed.structured.cursor });
    expect(done.structured.reply).toContain("I ran retry_export_job");
  }, 60_000);

  it("writes only id-shaped values into audit targets", () => {
    expect(auditTargets({ session_id: "sesn_011Cabc", other: 'x"\n{"audit":1}', none: undefined })).toEqual({
      session_id: "sesn_011Cabc",
      other: "(invalid)",
    });
  });

  it("refuses to start a session with a version the agent does not have", async () => {
    const result = await call(client, "session_start", {
      agent: "export-support",
      environment: "export-sandbox",
      version: 99,
    });
    expect(result.isError).toBe(true);
    expect(result.text).toContain("has no version 99");
  });

  it("asks for the environment when the stack has several, naming them", async () => {
    const result = await call(client, "session_start", { agent: "export-support" });
    expect(result.isError).toBe(true);
    expect(result.text).toContain("export-sandbox");
    expect(result.text).toContain("ops");
  });
});
