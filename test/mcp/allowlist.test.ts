/**
 * `mcp.agents` in reconcile.yaml narrows what the server offers (issue 8, item 4): only the listed agents are
 * listed and startable, and sessions of the other agents of the same stack answer like unknown ids. A name that no
 * Agent spec declares stops the server at startup with a clear error.
 */
import { appendFile, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../e2e/helpers.js";
import { AuditRecorder, call, connectStdio, type Fixture, fleetFixture, newClient } from "./helpers.js";

let fix: Fixture;

beforeAll(async () => {
  fix = await fleetFixture();
}, 120_000);

afterAll(async () => {
  await fix?.close();
});

describe("mcp.agents in reconcile.yaml", () => {
  it("offers only the listed agents; sessions of the others answer like unknown ids", async () => {
    const config = join(fix.dir, "reconcile.yaml");
    const original = await readFile(config, "utf8");
    await appendFile(config, "mcp:\n  agents: [export-support]\n");
    const agents = (await fix.sdk.beta.agents.list()).data;
    const ops = agents.find((a) => a.metadata["reconcile/name"] === "ops-agent");
    const env = (await fix.sdk.beta.environments.list()).data.find((e) => e.metadata["reconcile/name"] === "ops");
    const opsSession = await fix.sdk.beta.sessions.create({
      agent: ops?.id as string,
      environment_id: env?.id as string,
    });

    const client = newClient();
    try {
      await connectStdio(client, fix, new AuditRecorder());
      const listed = await call(client, "agent_list");
      expect((listed.structured.agents as { name: string }[]).map((a) => a.name)).toEqual(["export-support"]);
      const started = await call(client, "session_start", { agent: "ops-agent", environment: "ops" });
      expect(started.isError).toBe(true);
      const unknown = "sesn_011CDoesNotExist0000000";
      const a = await call(client, "session_get", { session_id: opsSession.id });
      const b = await call(client, "session_get", { session_id: unknown });
      expect(a.isError).toBe(true);
      expect(a.text.replace(opsSession.id, "ID")).toBe(b.text.replace(unknown, "ID"));
    } finally {
      await client.close();
      await writeFile(config, original, "utf8");
    }
  }, 60_000);

  it("refuses to start when it names an agent no spec declares", async () => {
    const config = join(fix.dir, "reconcile.yaml");
    const original = await readFile(config, "utf8");
    await appendFile(config, "mcp:\n  agents: [export-suport]\n");
    try {
      const result = await runCli(["mcp", "--dir", fix.dir], fix.env);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("mcp.agents names export-suport");
      expect(result.stdout).toBe("");
    } finally {
      await writeFile(config, original, "utf8");
    }
  }, 60_000);
});
