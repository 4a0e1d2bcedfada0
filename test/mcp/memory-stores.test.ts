/**
 * Memory stores through the MCP server (in-process over Streamable HTTP, against the emulator with the test fleet
 * applied): `memory_store_list` offers the stack's stores by spec name; `session_start` with `memory_stores` attaches
 * them as the session's `resources` (`{type: "memory_store", memory_store_id, access}`), resolved through the
 * observed live state; an unknown name is a tool error naming the known ones, and starts no session.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditRecorder, call, connectHttp, type Fixture, fleetFixture, newClient, startHttp } from "./helpers.js";

let fix: Fixture;
let client: Client;
let closeHttp: () => Promise<void>;

beforeAll(async () => {
  fix = await fleetFixture();
  const http = await startHttp(fix, new AuditRecorder());
  closeHttp = () => http.close();
  client = newClient();
  await connectHttp(client, http.url);
}, 120_000);

afterAll(async () => {
  await client?.close();
  await closeHttp?.();
  await fix?.close();
});

/** The live id of the fleet's `ops-notes` store (owned by the stack, by its ownership metadata). */
async function opsNotesId(): Promise<string> {
  for await (const store of fix.sdk.beta.memoryStores.list()) {
    if (store.metadata["reconcile/name"] === "ops-notes") return store.id;
  }
  throw new Error("ops-notes was not applied");
}

describe("memory stores in the MCP server", () => {
  it("memory_store_list offers the stack's stores by spec name", async () => {
    const listed = await call(client, "memory_store_list");
    expect(listed.isError, listed.text).toBe(false);
    expect(listed.structured.memory_stores).toEqual([{ name: "ops-notes", id: await opsNotesId() }]);
  });

  it("session_start attaches a store by spec name, read_write by default or read_only when asked", async () => {
    const id = await opsNotesId();
    const started = await call(client, "session_start", {
      agent: "ops-agent",
      environment: "ops",
      memory_stores: ["ops-notes"],
    });
    expect(started.isError, started.text).toBe(false);
    expect(started.structured.memory_stores).toEqual([{ name: "ops-notes", access: "read_write" }]);
    const session = await fix.sdk.beta.sessions.retrieve(started.structured.session_id as string);
    expect(session.resources).toEqual([
      expect.objectContaining({ type: "memory_store", memory_store_id: id, access: "read_write" }),
    ]);

    const readOnly = await call(client, "session_start", {
      agent: "ops-agent",
      environment: "ops",
      memory_stores: [{ name: "ops-notes", access: "read_only" }],
    });
    expect(readOnly.isError, readOnly.text).toBe(false);
    const second = await fix.sdk.beta.sessions.retrieve(readOnly.structured.session_id as string);
    expect(second.resources).toEqual([
      expect.objectContaining({ type: "memory_store", memory_store_id: id, access: "read_only" }),
    ]);

    const none = await call(client, "session_start", { agent: "ops-agent", environment: "ops" });
    expect(none.isError, none.text).toBe(false);
    expect(none.structured.memory_stores).toEqual([]);
    expect((await fix.sdk.beta.sessions.retrieve(none.structured.session_id as string)).resources).toEqual([]);
  });

  it("an unknown or repeated store is a tool error naming the known ones, and starts no session", async () => {
    const before = (await fix.sdk.beta.sessions.list({ limit: 100 })).data.length;
    const unknown = await call(client, "session_start", {
      agent: "ops-agent",
      environment: "ops",
      memory_stores: ["ops-notez"],
    });
    expect(unknown.isError).toBe(true);
    expect(unknown.text).toContain('no memory store "ops-notez" in this stack; there are: ops-notes');
    const twice = await call(client, "session_start", {
      agent: "ops-agent",
      environment: "ops",
      memory_stores: ["ops-notes", { name: "ops-notes", access: "read_only" }],
    });
    expect(twice.isError).toBe(true);
    expect(twice.text).toContain("listed twice");
    const bad = await call(client, "session_start", {
      agent: "ops-agent",
      environment: "ops",
      memory_stores: [{ name: "ops-notes", access: "write_only" }],
    });
    expect(bad.isError).toBe(true);
    expect((await fix.sdk.beta.sessions.list({ limit: 100 })).data.length).toBe(before);
  });
});
