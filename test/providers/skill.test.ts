/**
 * The skill provider: the ownership label round trip, and the live state read from a version's zip against hostile
 * servers (an HTML page instead of an archive, an archive declaring more than a skill may hold, a label that only
 * looks like reconcile's).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { strToU8, zipSync } from "fflate";
import { afterEach, describe, expect, it } from "vitest";
import { createClient } from "../../src/providers/client.js";
import { UnexpectedResponseError } from "../../src/providers/response.js";
import { parseSkillLabel, skillLabel, skillProvider } from "../../src/providers/skill.js";
import { SkillArchiveError } from "../../src/providers/skill-content.js";

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

async function serve(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => handle(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  stops.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const address = server.address();
  return `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
}

const SKILL = {
  type: "skill",
  id: "skill_011CAAAAAAAAAAAAAAAAAAAA",
  display_name: skillLabel("Runbook", "s", "runbook", false),
  latest_version_id: "1759178010641129",
  source: { type: "custom" },
  created_at: "2026-01-01T00:00:00Z",
  updated_at: "2026-01-01T00:00:00Z",
};

/** A server listing `SKILL` and answering its content with `content`. */
function skillServer(content: (res: ServerResponse) => void) {
  return serve((req, res) => {
    if (req.url?.startsWith("/v1/skills?")) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ data: [SKILL], next_page: null }));
    } else if (req.url?.includes("/content")) {
      content(res);
    } else {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ type: "error", error: { type: "not_found_error", message: "nope" } }));
    }
  });
}

const client = (url: string) =>
  createClient({ apiKey: "k", baseURL: url, timeoutMs: 2000, retry: { retries: 0, minDelayMs: 1, maxDelayMs: 1 } });

describe("the ownership label", () => {
  it("round-trips stack, name and protection, and ignores look-alikes", () => {
    const label = skillLabel("Incident runbook", "prod-stack", "incident-runbook", true);
    expect(label).toMatch(/^Incident runbook \[rc:prod-stack\/incident-runbook:protect:[0-9a-f]{8}\]$/);
    expect(parseSkillLabel(label)).toEqual({
      display: "Incident runbook",
      owner: { stack: "prod-stack", name: "incident-runbook", protect: true },
    });
    // Hand-edited name or protection, with the old checksum: not ours.
    const forged = label.replace("incident-runbook:protect", "other:protect");
    expect(parseSkillLabel(forged)).toEqual({ display: forged });
    const unprotected = label.replace(":protect", "");
    expect(parseSkillLabel(unprotected).owner).toBeUndefined();
    expect(parseSkillLabel("Console skill")).toEqual({ display: "Console skill" });
    expect(skillProvider.metadataOf?.({ id: "skill_1", display_name: "Console skill" })).toBeUndefined();
    expect(skillProvider.metadataOf?.({ id: "skill_1", display_name: label })).toEqual({
      "managed-by": "reconcile",
      "reconcile/stack": "prod-stack",
      "reconcile/name": "incident-runbook",
      "reconcile/lifecycle": "protect",
    });
    // The longest marker fits the API's 255 characters with a 100-character display name.
    expect(skillLabel("x".repeat(100), "s".repeat(63), "n".repeat(64), true).length).toBeLessThanOrEqual(255);
  });
});

describe("live state from a version's zip", () => {
  it("hashes the archive like the folder", async () => {
    const zip = zipSync({
      "runbook/SKILL.md": strToU8("---\nname: runbook\ndescription: d\n---\n"),
      "runbook/run.sh": strToU8("echo\r\n"),
    });
    const url = await skillServer((res) => {
      res.writeHead(200, { "content-type": "application/zip" });
      res.end(Buffer.from(zip));
    });
    const [object] = await skillProvider.list(client(url));
    const state = skillProvider.state(object as never);
    expect(state.display_name).toBe("Runbook");
    expect(state.name).toBe("runbook");
    expect(Object.keys(state.files as object)).toEqual(["SKILL.md", "run.sh"]);
  });

  it("refuses an HTML page instead of an archive", async () => {
    const url = await skillServer((res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<html>login</html>");
    });
    await expect(skillProvider.list(client(url))).rejects.toThrow(UnexpectedResponseError);
  });

  it("refuses an archive declaring more than a skill may hold, before inflating it", async () => {
    const zip = zipSync({
      "runbook/SKILL.md": strToU8("---\nname: runbook\ndescription: d\n---\n"),
      "runbook/zeros.bin": new Uint8Array(9 * 1024 * 1024),
    });
    const url = await skillServer((res) => {
      res.writeHead(200, { "content-type": "application/zip" });
      res.end(Buffer.from(zip));
    });
    await expect(skillProvider.list(client(url))).rejects.toThrow(SkillArchiveError);
  });
});
