/**
 * Memory stores through the unmodified SDK (`client.beta.memoryStores`): every route and rule of
 * `src/emulator/memory-stores.ts` (create/retrieve/update/list/archive/delete, name/description/metadata limits,
 * archived stores refuse updates, `include_archived`, pagination, persistence), the memories minimum (create, list,
 * gone with their store), the `agent-memory-2026-07-22` beta the SDK sends, and memory stores as session resources.
 */
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEmulator } from "../../src/emulator/index.js";
import { ROUTES, routeBeta } from "../../src/emulator/routes.js";
import { expectApiError, raw, sdk, start, writeStateFile } from "./helpers.js";

let emu: RunningEmulator;
let client: Anthropic;

beforeAll(async () => {
  emu = await start();
  client = sdk(emu);
});
afterAll(async () => {
  await emu.close();
});

async function all(params: Parameters<Anthropic["beta"]["memoryStores"]["list"]>[0] = {}) {
  const out = [];
  for await (const store of client.beta.memoryStores.list(params)) out.push(store);
  return out;
}

describe("memory stores", () => {
  it("create answers the SDK's shape with server defaults; retrieve returns the same", async () => {
    const store = await client.beta.memoryStores.create({ name: "User Preferences" });
    expect(store.id).toMatch(/^memstore_011C[0-9A-Za-z]{20}$/);
    const { id, created_at, updated_at, ...rest } = store;
    expect(rest).toEqual({
      type: "memory_store",
      name: "User Preferences",
      description: "",
      metadata: {},
      archived_at: null,
    });
    expect(created_at).toBe(updated_at);
    expect(await client.beta.memoryStores.retrieve(id)).toEqual(store);
    const full = await client.beta.memoryStores.create({
      name: "notes",
      description: "What the ops agent learned",
      metadata: { team: "ops" },
    });
    expect(full).toMatchObject({ description: "What the ops agent learned", metadata: { team: "ops" } });
    await expectApiError(client.beta.memoryStores.retrieve("memstore_nope"), 404, "not_found_error", "memstore_nope");
  });

  it("refuses bad names, descriptions, metadata and unknown fields, echoing no value", async () => {
    const bad: Array<[unknown, string]> = [
      [{}, "name: Field required"],
      [{ name: "" }, "name: String should have at least 1 character"],
      [{ name: "x".repeat(256) }, "name: String should have at most 255 characters"],
      [{ name: "line\nbreak" }, "name: must not contain control characters"],
      [{ name: "nul\u0000" }, "name: must not contain control characters"],
      [{ name: "c1\u0085" }, "name: must not contain control characters"],
      [{ name: "ok", description: "d".repeat(1025) }, "description: String should have at most 1024 characters"],
      [{ name: "ok", metadata: { ["k".repeat(65)]: "v" } }, "metadata"],
      [{ name: "ok", metadata: { k: "v".repeat(513) } }, "metadata.k: metadata values must be at most 512"],
      [{ name: "ok", metadata: Object.fromEntries([...Array(17).keys()].map((i) => [`k${i}`, "v"])) }, "at most 16"],
      [{ name: "ok", metadata: { k: 1 } }, "metadata.k: Input should be a valid string"],
      [{ name: "ok", display_name: "x" }, "display_name: Extra inputs are not permitted"],
    ];
    for (const [body, message] of bad) {
      const err = await expectApiError(client.beta.memoryStores.create(body as never), 400, "invalid_request_error");
      expect((err.error as { error: { message: string } }).error.message).toContain(message);
    }
    const canary = "canary-Mq71-value";
    for (const body of [{ name: `${canary}\n` }, { name: "ok", description: canary.repeat(100) }]) {
      const err = await expectApiError(client.beta.memoryStores.create(body), 400, "invalid_request_error");
      expect(JSON.stringify(err.error)).not.toContain(canary);
    }
    // The 255-character limit is inclusive; names need not be unique.
    await client.beta.memoryStores.create({ name: "y".repeat(255) });
    await client.beta.memoryStores.create({ name: "y".repeat(255) });
    expect(await client.beta.memoryStores.create({ name: "ok", description: "d".repeat(1024) })).toBeDefined();
  });

  it("update changes name and description, patches metadata per key, and a no-op keeps updated_at", async () => {
    const store = await client.beta.memoryStores.create({
      name: "a",
      description: "first",
      metadata: { x: "1", y: "2" },
    });
    const u = await client.beta.memoryStores.update(store.id, { name: "b", metadata: { x: null, z: "3" } });
    expect(u).toMatchObject({ name: "b", description: "first", metadata: { y: "2", z: "3" } });
    expect(u.updated_at > store.updated_at).toBe(true);
    const same = await client.beta.memoryStores.update(store.id, { name: null, metadata: null, description: "first" });
    expect(same).toEqual(u);
    const cleared = await client.beta.memoryStores.update(store.id, { description: "" });
    expect(cleared.description).toBe("");
    await client.beta.memoryStores.update(store.id, { description: "again" });
    expect((await client.beta.memoryStores.update(store.id, { description: null })).description).toBe("");
    await expectApiError(
      client.beta.memoryStores.update(store.id, {
        metadata: Object.fromEntries([...Array(15).keys()].map((i) => [`n${i}`, "v"])),
      }),
      400,
      "invalid_request_error",
      "at most 16 keys",
    );
    await expectApiError(
      client.beta.memoryStores.update(store.id, { name: "tab\there" }),
      400,
      "invalid_request_error",
      "control characters",
    );
    await expectApiError(client.beta.memoryStores.update("memstore_gone", { name: "x" }), 404, "not_found_error");
  });

  it("archive is one-way and idempotent; an archived store refuses updates but can be read, listed and deleted", async () => {
    const store = await client.beta.memoryStores.create({ name: "to-archive" });
    const archived = await client.beta.memoryStores.archive(store.id);
    expect(archived.archived_at).not.toBeNull();
    expect(archived.updated_at).toBe(archived.archived_at);
    expect(await client.beta.memoryStores.archive(store.id)).toEqual(archived);
    const err = await expectApiError(
      client.beta.memoryStores.update(store.id, { description: "nope" }),
      400,
      "invalid_request_error",
      "is archived and cannot be updated",
    );
    expect((err.error as { error: { details?: { error_code: string } } }).error.details?.error_code).toBe(
      "memory_store_archived",
    );
    expect(await client.beta.memoryStores.retrieve(store.id)).toEqual(archived);
    expect((await all()).map((s) => s.id)).not.toContain(store.id);
    expect((await all({ include_archived: true })).map((s) => s.id)).toContain(store.id);
    expect(await client.beta.memoryStores.delete(store.id)).toEqual({ id: store.id, type: "memory_store_deleted" });
    await expectApiError(client.beta.memoryStores.retrieve(store.id), 404, "not_found_error");
    await expectApiError(client.beta.memoryStores.delete(store.id), 404, "not_found_error");
  });

  it("lists newest first across pages with no repeats, filters by created_at, and rejects bad queries", async () => {
    const own = await start();
    try {
      const c = sdk(own);
      const made = [];
      for (let i = 0; i < 7; i++) made.push(await c.beta.memoryStores.create({ name: `s${i}` }));
      const seen = [];
      let page = await c.beta.memoryStores.list({ limit: 3 });
      seen.push(...page.data);
      while (page.hasNextPage()) {
        page = await page.getNextPage();
        seen.push(...page.data);
      }
      expect(seen.map((s) => s.name)).toEqual(["s6", "s5", "s4", "s3", "s2", "s1", "s0"]);
      const third = made[3];
      if (!third) throw new Error("no store");
      const since = await c.beta.memoryStores.list({ "created_at[gte]": third.created_at });
      expect(since.data.map((s) => s.name)).toEqual(["s6", "s5", "s4", "s3"]);
      const until = await c.beta.memoryStores.list({ "created_at[lte]": third.created_at });
      expect(until.data.map((s) => s.name)).toEqual(["s3", "s2", "s1", "s0"]);
      await expectApiError(c.beta.memoryStores.list({ limit: 101 }), 400, "invalid_request_error", "limit");
      await expectApiError(c.beta.memoryStores.list({ page: "page_bogus" }), 400, "invalid_request_error", "page");
      const bad = await raw(own, "GET", "/v1/memory_stores?include_archived=maybe", {
        headers: { "anthropic-beta": "agent-memory-2026-07-22" },
      });
      expect(bad.status).toBe(400);
    } finally {
      await own.close();
    }
  });

  it("every memory store call the SDK makes sends the beta its route requires; the managed-agents beta alone is refused", async () => {
    const seen: { method: string; path: string; beta: string }[] = [];
    const recording = sdk(emu, {
      fetch: async (input: string | URL | Request, init?: RequestInit) => {
        const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
        const headers = new Headers(init?.headers);
        seen.push({ method: init?.method ?? "GET", path: url.pathname, beta: headers.get("anthropic-beta") ?? "" });
        return fetch(input, init);
      },
    });
    const store = await recording.beta.memoryStores.create({ name: "beta" });
    await recording.beta.memoryStores.retrieve(store.id);
    await recording.beta.memoryStores.update(store.id, { description: "d" });
    await recording.beta.memoryStores.list();
    await recording.beta.memoryStores.memories.create(store.id, { path: "/a.md", content: "a" });
    await recording.beta.memoryStores.memories.list(store.id);
    await recording.beta.memoryStores.archive(store.id);
    await recording.beta.memoryStores.delete(store.id);
    const routeOf = (method: string, path: string) =>
      ROUTES.find((r) => r.method === method && new RegExp(`^${r.url.replace(/:[a-z_]+/g, "[^/]+")}$`).test(path));
    expect(seen).toHaveLength(8);
    for (const call of seen) {
      const route = routeOf(call.method, call.path);
      expect(route, `${call.method} ${call.path}`).toBeDefined();
      if (route) expect(call.beta.split(","), `${call.method} ${call.path}`).toContain(routeBeta(route));
      expect(call.beta).toBe("agent-memory-2026-07-22");
    }
    const refused = await raw(emu, "GET", "/v1/memory_stores");
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.json)).toContain("agent-memory-2026-07-22");
  });
});

describe("memories (the minimum tests need)", () => {
  it("create and list, basic and full views; archived stores take no memories; delete takes them along", async () => {
    const store = await client.beta.memoryStores.create({ name: "with-memories" });
    const before = await client.beta.memoryStores.retrieve(store.id);
    const m = await client.beta.memoryStores.memories.create(store.id, { path: "/notes/a.md", content: "héllo" });
    expect(m).toMatchObject({
      type: "memory",
      memory_store_id: store.id,
      path: "/notes/a.md",
      content: "héllo",
      content_size_bytes: 6,
      content_sha256: createHash("sha256").update("héllo", "utf8").digest("hex"),
    });
    expect(m.id).toMatch(/^mem_011C/);
    expect(m.memory_version_id).toMatch(/^memver_011C/);
    // Changes to memories do not move the store's updated_at.
    expect(await client.beta.memoryStores.retrieve(store.id)).toEqual(before);
    await expectApiError(
      client.beta.memoryStores.memories.create(store.id, { path: "/notes/a.md", content: "again" }),
      409,
      "conflict_error",
    );
    await expectApiError(
      client.beta.memoryStores.memories.create(store.id, { path: "relative.md", content: "x" }),
      400,
      "invalid_request_error",
      "path: must start with '/'",
    );
    await expectApiError(
      client.beta.memoryStores.memories.create(store.id, { path: "/big", content: "x".repeat(102_401) }),
      400,
      "invalid_request_error",
      "content",
    );
    const basic = await client.beta.memoryStores.memories.list(store.id);
    expect(basic.data).toEqual([{ ...m, content: null }]);
    const full = await client.beta.memoryStores.memories.list(store.id, { view: "full" });
    expect(full.data).toEqual([m]);
    await client.beta.memoryStores.archive(store.id);
    await expectApiError(
      client.beta.memoryStores.memories.create(store.id, { path: "/late.md", content: "x" }),
      400,
      "invalid_request_error",
      "archived",
    );
    await client.beta.memoryStores.delete(store.id);
    await expectApiError(client.beta.memoryStores.memories.list(store.id), 404, "not_found_error");
  });
});

describe("memory stores as session resources", () => {
  it("a session created with a store carries it with access, mount path and snapshots; bad references are refused", async () => {
    const agent = await client.beta.agents.create({ name: "mem-agent", model: "claude-haiku-4-5" });
    const env = await client.beta.environments.create({ name: "mem-env" });
    const store = await client.beta.memoryStores.create({ name: "Ops Notes!", description: "runbooks" });
    const other = await client.beta.memoryStores.create({ name: "other" });
    const session = await client.beta.sessions.create({
      agent: agent.id,
      environment_id: env.id,
      resources: [
        { type: "memory_store", memory_store_id: store.id, access: "read_only" },
        { type: "memory_store", memory_store_id: other.id },
      ],
    });
    expect(session.resources).toEqual([
      {
        type: "memory_store",
        memory_store_id: store.id,
        access: "read_only",
        instructions: null,
        name: "Ops Notes!",
        description: "runbooks",
        mount_path: "/mnt/memory/ops-notes",
      },
      {
        type: "memory_store",
        memory_store_id: other.id,
        access: "read_write",
        instructions: null,
        name: "other",
        description: "",
        mount_path: "/mnt/memory/other",
      },
    ]);
    expect((await client.beta.sessions.retrieve(session.id)).resources).toEqual(session.resources);
    const filtered = await client.beta.sessions.list({ memory_store_id: other.id });
    expect(filtered.data.map((s) => s.id)).toEqual([session.id]);
    const base = { agent: agent.id, environment_id: env.id };
    await expectApiError(
      client.beta.sessions.create({ ...base, resources: [{ type: "memory_store", memory_store_id: "memstore_x" }] }),
      404,
      "not_found_error",
    );
    await expectApiError(
      client.beta.sessions.create({
        ...base,
        resources: [{ type: "memory_store", memory_store_id: store.id, access: "write_only" as never }],
      }),
      400,
      "invalid_request_error",
      "resources.0.access",
    );
    await expectApiError(
      client.beta.sessions.create({
        ...base,
        resources: [
          { type: "memory_store", memory_store_id: store.id },
          { type: "memory_store", memory_store_id: store.id },
        ],
      }),
      400,
      "invalid_request_error",
      "attached twice",
    );
    await client.beta.memoryStores.archive(other.id);
    await expectApiError(
      client.beta.sessions.create({ ...base, resources: [{ type: "memory_store", memory_store_id: other.id }] }),
      400,
      "invalid_request_error",
      "archived",
    );
  });
});

describe("persistence", () => {
  it("stores and memories survive a restart; a state file without them still loads", async () => {
    const dir = await mkdtemp(join(tmpdir(), "emulator-memstore-"));
    try {
      const file = join(dir, "state.json");
      const first = await start({ stateFile: file });
      const c1 = sdk(first);
      const store = await c1.beta.memoryStores.create({ name: "kept", metadata: { a: "b" } });
      const memory = await c1.beta.memoryStores.memories.create(store.id, { path: "/k.md", content: "kept" });
      await first.close();
      const second = await start({ stateFile: file });
      try {
        const c2 = sdk(second);
        expect(await c2.beta.memoryStores.retrieve(store.id)).toEqual(store);
        expect((await c2.beta.memoryStores.memories.list(store.id, { view: "full" })).data).toEqual([memory]);
      } finally {
        await second.close();
      }
      const old = join(dir, "old.json");
      await writeStateFile(old);
      const third = await start({ stateFile: old });
      try {
        expect((await sdk(third).beta.memoryStores.list()).data).toEqual([]);
      } finally {
        await third.close();
      }
      const broken = join(dir, "broken.json");
      await writeStateFile(broken, { memory_stores: {} });
      await expect(start({ stateFile: broken })).rejects.toThrow(/"memory_stores" is not an array/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
