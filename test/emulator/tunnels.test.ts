import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEmulator } from "../../src/emulator/index.js";
import { ROUTES, routeBeta } from "../../src/emulator/routes.js";
import { TUNNELS_BETA } from "../../src/emulator/tunnels.js";
import { expectApiError, raw, sdk, start, writeStateFile } from "./helpers.js";

const logLines: string[] = [];
let emu: RunningEmulator;
let client: Anthropic;

beforeAll(async () => {
  emu = await start({ log: (line) => logLines.push(line) });
  client = sdk(emu);
});
afterAll(async () => {
  await emu.close();
});

/** Asks the emulator's test hook whether a connector presenting `token` would be let in. */
async function tokenValid(target: RunningEmulator, id: string, token: string): Promise<boolean> {
  const res = await raw(target, "POST", `/_emulator/tunnels/${id}/token_valid`, {
    headers: { "anthropic-beta": TUNNELS_BETA, "content-type": "application/json" },
    body: JSON.stringify({ tunnel_token: token }),
  });
  expect(res.status).toBe(200);
  return (res.json as { valid: boolean }).valid;
}

describe("tunnels through the SDK", () => {
  it("create gives a fresh, unique domain; retrieve and list return the SDK's shape", async () => {
    const a = await client.beta.tunnels.create({ display_name: "corp" });
    const b = await client.beta.tunnels.create({});
    expect(a.id).toMatch(/^tnl_011C[0-9A-Za-z]{20}$/);
    const { id, created_at, domain, ...rest } = a;
    expect(rest).toEqual({ type: "tunnel", display_name: "corp", archived_at: null });
    expect(domain).toMatch(/^[0-9a-f]{12}\.tunnels\.emulator\.test$/);
    expect(b.display_name).toBeNull();
    expect(b.domain).not.toBe(a.domain);
    expect(await client.beta.tunnels.retrieve(a.id)).toEqual(a);
    const listed = [];
    for await (const t of client.beta.tunnels.list()) listed.push(t.id);
    expect(listed).toEqual(expect.arrayContaining([a.id, b.id]));
  });

  it("validates create params with the API's field errors", async () => {
    await expectApiError(
      client.beta.tunnels.create({ display_name: "x".repeat(256) }),
      400,
      "invalid_request_error",
      "display_name: String should have at most 255",
    );
    await expectApiError(
      client.beta.tunnels.create({ display_name: "" }),
      400,
      "invalid_request_error",
      "display_name: String should have at least 1",
    );
    await expectApiError(
      client.beta.tunnels.create({ name: "x" } as never),
      400,
      "invalid_request_error",
      "name: Extra inputs are not permitted",
    );
    await expectApiError(client.beta.tunnels.retrieve("tnl_missing"), 404, "not_found_error", "tnl_missing");
  });

  it("reveal returns the same token until rotate; rotate refuses the old token from then on", async () => {
    const t = await client.beta.tunnels.create({ display_name: "rotating" });
    const first = await client.beta.tunnels.revealToken(t.id);
    expect(first.type).toBe("tunnel_token");
    expect(await client.beta.tunnels.revealToken(t.id)).toEqual(first);
    expect(await tokenValid(emu, t.id, first.tunnel_token)).toBe(true);
    expect(await tokenValid(emu, t.id, `${first.tunnel_token}x`)).toBe(false);

    const rotated = await client.beta.tunnels.rotateToken(t.id, { reason: "test" });
    expect(rotated.id).not.toBe(first.id);
    expect(rotated.tunnel_token).not.toBe(first.tunnel_token);
    expect(await client.beta.tunnels.revealToken(t.id)).toEqual(rotated);
    expect(await tokenValid(emu, t.id, first.tunnel_token)).toBe(false);
    expect(await tokenValid(emu, t.id, rotated.tunnel_token)).toBe(true);

    // Another tunnel's token never opens this one.
    const other = await client.beta.tunnels.create({});
    const otherToken = await client.beta.tunnels.revealToken(other.id);
    expect(await tokenValid(emu, t.id, otherToken.tunnel_token)).toBe(false);
    // Tokens never reach the request log.
    for (const line of logLines) {
      expect(line).not.toContain(first.tunnel_token);
      expect(line).not.toContain(rotated.tunnel_token);
    }
  });

  it("archive is irreversible and idempotent, invalidates the token, and hides the tunnel from default lists", async () => {
    const t = await client.beta.tunnels.create({ display_name: "gone" });
    const token = await client.beta.tunnels.revealToken(t.id);
    const archived = await client.beta.tunnels.archive(t.id);
    expect(archived.archived_at).not.toBeNull();
    expect(await client.beta.tunnels.archive(t.id)).toEqual(archived);
    expect(await tokenValid(emu, t.id, token.tunnel_token)).toBe(false);
    await expectApiError(client.beta.tunnels.revealToken(t.id), 409, "conflict_error", "archived");
    await expectApiError(client.beta.tunnels.rotateToken(t.id, {}), 409, "conflict_error", "archived");
    const visible: string[] = [];
    for await (const x of client.beta.tunnels.list()) visible.push(x.id);
    expect(visible).not.toContain(t.id);
    const all: string[] = [];
    for await (const x of client.beta.tunnels.list({ include_archived: true })) all.push(x.id);
    expect(all).toContain(t.id);
  });

  it("lists page newest first with the SDK's cursor", async () => {
    const ws = sdk(emu, { defaultHeaders: { "anthropic-workspace-id": "paging" } });
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await ws.beta.tunnels.create({ display_name: `t${i}` })).id);
    const seen: string[] = [];
    for await (const t of ws.beta.tunnels.list({ limit: 2 })) seen.push(t.id);
    expect(seen).toEqual([...made].reverse());
  });

  it("every tunnels call the SDK makes sends the beta its emulator route requires", async () => {
    const seen: { method: string; path: string; beta: string }[] = [];
    const spy = sdk(emu, {
      fetch: async (input: string | URL | Request, init?: RequestInit) => {
        const url = new URL(typeof input === "string" || input instanceof URL ? input : input.url);
        const headers = new Headers(init?.headers);
        seen.push({ method: init?.method ?? "GET", path: url.pathname, beta: headers.get("anthropic-beta") ?? "" });
        return fetch(input, init);
      },
    });
    const t = await spy.beta.tunnels.create({});
    await spy.beta.tunnels.retrieve(t.id);
    await spy.beta.tunnels.list();
    await spy.beta.tunnels.revealToken(t.id);
    await spy.beta.tunnels.rotateToken(t.id, {});
    await spy.beta.tunnels.archive(t.id);
    const routes = new Set<string>();
    for (const call of seen) {
      const route = ROUTES.find(
        (r) => r.method === call.method && new RegExp(`^${r.url.replace(/:[a-z_]+/g, "[^/]+")}$`).test(call.path),
      );
      expect(route, `${call.method} ${call.path}`).toBeDefined();
      if (!route) continue;
      routes.add(`${route.method} ${route.url}`);
      expect(call.beta.split(","), `${call.method} ${call.path}`).toContain(routeBeta(route));
      expect(routeBeta(route)).toBe(TUNNELS_BETA);
    }
    expect(routes.size).toBe(6);
  });

  it("requires the tunnels beta on every route", async () => {
    const res = await raw(emu, "GET", "/v1/tunnels");
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.json)).toContain(TUNNELS_BETA);
  });
});

describe("tunnel persistence", () => {
  it("keeps tunnels and the token across a restart, with only a digest of the token in the state file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tunnels-state-"));
    try {
      const stateFile = join(dir, "state.json");
      const first = await start({ stateFile });
      const c1 = sdk(first);
      const t = await c1.beta.tunnels.create({ display_name: "persisted" });
      const token = await c1.beta.tunnels.revealToken(t.id);
      await first.close();

      const text = await readFile(stateFile, "utf8");
      expect(text).toContain(t.id);
      expect(text).toContain(token.id);
      expect(text).not.toContain(token.tunnel_token);
      expect(text).not.toContain(token.tunnel_token.slice(-40));

      const second = await start({ stateFile });
      try {
        const c2 = sdk(second);
        expect(await c2.beta.tunnels.retrieve(t.id)).toEqual(t);
        expect(await c2.beta.tunnels.revealToken(t.id)).toEqual(token);
        expect(await tokenValid(second, t.id, token.tunnel_token)).toBe(true);
        const rotated = await c2.beta.tunnels.rotateToken(t.id, {});
        expect(await tokenValid(second, t.id, token.tunnel_token)).toBe(false);
        expect(rotated.id).not.toBe(token.id);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses a hand-edited state file whose tunnel record is malformed", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tunnels-state-"));
    try {
      const stateFile = join(dir, "state.json");
      await writeStateFile(stateFile, { tunnels: [{ tunnel: {} }] });
      await expect(start({ stateFile })).rejects.toThrow(/tunnels\[0\] is not a tunnel record/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
