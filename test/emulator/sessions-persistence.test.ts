import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { REPO } from "../e2e/helpers.js";
import { sdk, start, writeStateFile } from "./helpers.js";
import { type Event, fixture, history, idles, replies, say, waitFor } from "./sessions-helpers.js";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "emulator-sessions-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("sessions in the state file", () => {
  it("survive a restart: the session, its history and a pending confirmation", async () => {
    const file = join(dir, "waiting.json");
    const first = await start({ stateFile: file });
    const c1 = sdk(first);
    const { agentId, envId } = await fixture(c1, { workspace_id: "wrkspc_persist" });
    const ws = { workspace_id: "wrkspc_persist" };
    const s = await c1.beta.sessions.create({ agent: agentId, environment_id: envId, title: "kept", ...ws });
    await c1.beta.sessions.events.send(s.id, { events: [say("retry_job")], ...ws });
    const waiting = await waitFor(c1, s.id, idles(1), ws.workspace_id);
    await first.close();

    const second = await start({ stateFile: file });
    try {
      const c2 = sdk(second);
      const again = await c2.beta.sessions.retrieve(s.id, ws);
      expect({ ...again, stats: null }).toMatchObject({ id: s.id, title: "kept", status: "idle", stats: null });
      expect(await history(c2, s.id, ws.workspace_id)).toEqual(waiting);
      const use = waiting[2] as Event;
      await c2.beta.sessions.events.send(s.id, {
        events: [{ type: "user.tool_confirmation", tool_use_id: use.id, result: "allow" }],
        ...ws,
      });
      const done = await waitFor(c2, s.id, idles(2), ws.workspace_id);
      expect(replies(done)[0]).toContain("I ran retry_job");
    } finally {
      await second.close();
    }
  });

  it("a turn cut by a shutdown resumes after the restart, without losing or repeating events", async () => {
    const file = join(dir, "midturn.json");
    const first = await start({ stateFile: file, sessionStepMs: 60_000 });
    const c1 = sdk(first);
    const { agentId, envId } = await fixture(c1);
    const s = await c1.beta.sessions.create({ agent: agentId, environment_id: envId });
    await c1.beta.sessions.events.send(s.id, { events: [say("get_job")] });
    // The agent's first step is a minute away: stop now, with the whole turn still planned.
    expect((await history(c1, s.id)).map((e) => e.type)).toEqual(["user.message"]);
    await first.close();
    const saved = JSON.parse(await readFile(file, "utf8"));
    expect(saved.workspaces[""].sessions[0].script.queue.length).toBe(5);

    const second = await start({ stateFile: file });
    try {
      const c2 = sdk(second);
      const done = await waitFor(c2, s.id, idles(1));
      expect(done.map((e) => e.type)).toEqual([
        "user.message",
        "session.status_running",
        "agent.mcp_tool_use",
        "agent.mcp_tool_result",
        "agent.message",
        "session.status_idle",
      ]);
      expect(new Set(done.map((e) => e.id)).size).toBe(done.length);
    } finally {
      await second.close();
    }
  });

  it("a state file from before sessions loads; a hand-broken sessions section is a clear error", async () => {
    const old = join(dir, "old.json");
    await writeStateFile(old);
    const emu = await start({ stateFile: old });
    try {
      expect((await sdk(emu).beta.sessions.list()).data).toEqual([]);
    } finally {
      await emu.close();
    }
    const broken = join(dir, "broken.json");
    await writeStateFile(broken, { sessions: [{ id: "x" }] });
    await expect(startEmulator({ port: 0, stateFile: broken })).rejects.toThrow(
      /broken\.json is corrupt: workspace "": sessions\[0\] is not a session record/,
    );
  });
});

describe("kill -9 in the middle of a turn", () => {
  it("the restarted emulator finishes the turn; no event is lost or duplicated", async () => {
    const file = join(dir, "killed.json");
    const child = spawn(
      process.execPath,
      [join(REPO, "bin", "reconcile"), "emulator", "--port", "0", "--state", file, "--session-step", "150"],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    try {
      const url = await new Promise<string>((resolveUrl, reject) => {
        let err = "";
        child.stderr.on("data", (chunk: Buffer) => {
          err += chunk.toString();
          const m = /listening on (http:\/\/\S+)/.exec(err);
          if (m?.[1]) resolveUrl(m[1]);
        });
        child.on("exit", () => reject(new Error(`emulator exited: ${err}`)));
      });
      const c1 = sdk({ url } as RunningEmulator);
      const { agentId, envId } = await fixture(c1);
      const s = await c1.beta.sessions.create({ agent: agentId, environment_id: envId });
      await c1.beta.sessions.events.send(s.id, { events: [say("get_job")] });
      await waitFor(c1, s.id, (ev) => ev.some((e) => e.type === "agent.mcp_tool_use"));
      child.kill("SIGKILL");
      await new Promise((r) => child.once("close", r));

      const second = await start({ stateFile: file });
      try {
        const done = await waitFor(sdk(second), s.id, idles(1));
        expect(done.map((e) => e.type)).toEqual([
          "user.message",
          "session.status_running",
          "agent.mcp_tool_use",
          "agent.mcp_tool_result",
          "agent.message",
          "session.status_idle",
        ]);
        expect(new Set(done.map((e) => e.id)).size).toBe(done.length);
      } finally {
        await second.close();
      }
    } finally {
      child.kill("SIGKILL");
    }
  });
});
