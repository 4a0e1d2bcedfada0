import type Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEmulator } from "../../src/emulator/index.js";
import { createdAtFilter } from "../../src/emulator/pagination.js";
import { BETA, expectApiError, raw, sdk, start } from "./helpers.js";

/**
 * The CRUD shape every simple kind shares (`src/emulator/resource.ts`), checked kind by kind through the unmodified
 * SDK: create with server fields, 404 naming the kind, `{data, next_page}` pages with their bad-parameter 400s,
 * one-way idempotent archive and `include_archived`, delete → `<type>_deleted`. Then what stays per kind: how an
 * archived object answers an update, the `metadata` patch rules, and `created_at` bounds to the microsecond.
 */

let emu: RunningEmulator;

beforeAll(async () => {
  emu = await start();
});
afterAll(async () => {
  await emu.close();
});

/** An object as every simple kind answers it. */
interface Obj {
  id: string;
  type: string;
  created_at: string;
  updated_at?: string;
  archived_at?: string | null;
}

/** A page as the SDK returns it. */
interface SdkPage {
  data: Obj[];
  next_page: string | null;
  hasNextPage(): boolean;
  getNextPage(): Promise<SdkPage>;
}

/** One kind, driven through the SDK in its own workspace. */
interface Kind {
  noun: string;
  type: string;
  prefix: string;
  path: string;
  beta: string;
  updatedAt: boolean;
  /** The kind's name field (`name`, `display_name`). */
  nameField: string;
  /** What an update of an archived object gets: the error's status and code, or null when it is allowed. */
  archivedUpdate: { status: number; code?: string } | null;
  create(c: Anthropic, n: number): Promise<Obj>;
  retrieve(c: Anthropic, id: string): Promise<Obj>;
  list(c: Anthropic, params: Record<string, unknown>): Promise<SdkPage>;
  archive(c: Anthropic, id: string): Promise<Obj>;
  update?(c: Anthropic, id: string, body: Record<string, unknown>): Promise<Obj>;
  del?(c: Anthropic, id: string): Promise<{ id: string; type: string }>;
}

const MESSAGE = [{ type: "user.message" as const, content: [{ type: "text" as const, text: "run" }] }];

/** Deployments need an agent and an environment in the workspace: made once per client. */
const deploymentRefs = new WeakMap<Anthropic, Promise<{ agent: string; env: string }>>();
function refsOf(c: Anthropic): Promise<{ agent: string; env: string }> {
  let refs = deploymentRefs.get(c);
  if (!refs) {
    refs = (async () => ({
      agent: (await c.beta.agents.create({ name: "ref", model: "claude-sonnet-4-6" })).id,
      env: (await c.beta.environments.create({ name: "ref" })).id,
    }))();
    deploymentRefs.set(c, refs);
  }
  return refs;
}

const KINDS: Kind[] = [
  {
    noun: "agent",
    nameField: "name",
    type: "agent",
    prefix: "agent_",
    path: "/v1/agents",
    beta: BETA,
    updatedAt: true,
    archivedUpdate: { status: 400 },
    create: (c, n) => c.beta.agents.create({ name: `a${n}`, model: "claude-sonnet-4-6" }),
    retrieve: (c, id) => c.beta.agents.retrieve(id),
    list: (c, p) => c.beta.agents.list(p) as unknown as Promise<SdkPage>,
    archive: (c, id) => c.beta.agents.archive(id),
    update: (c, id, body) => c.beta.agents.update(id, { version: 1, ...body } as never),
  },
  {
    noun: "environment",
    nameField: "name",
    type: "environment",
    prefix: "env_",
    path: "/v1/environments",
    beta: BETA,
    updatedAt: true,
    archivedUpdate: { status: 400, code: "environment_archived" },
    create: (c, n) => c.beta.environments.create({ name: `e${n}` }),
    retrieve: (c, id) => c.beta.environments.retrieve(id),
    list: (c, p) => c.beta.environments.list(p) as unknown as Promise<SdkPage>,
    archive: (c, id) => c.beta.environments.archive(id),
    update: (c, id, body) => c.beta.environments.update(id, body as never),
    del: (c, id) => c.beta.environments.delete(id),
  },
  {
    noun: "vault",
    nameField: "display_name",
    type: "vault",
    prefix: "vlt_",
    path: "/v1/vaults",
    beta: BETA,
    updatedAt: true,
    archivedUpdate: null,
    create: (c, n) => c.beta.vaults.create({ display_name: `v${n}` }),
    retrieve: (c, id) => c.beta.vaults.retrieve(id),
    list: (c, p) => c.beta.vaults.list(p) as unknown as Promise<SdkPage>,
    archive: (c, id) => c.beta.vaults.archive(id),
    update: (c, id, body) => c.beta.vaults.update(id, body as never),
    del: (c, id) => c.beta.vaults.delete(id),
  },
  {
    noun: "memory store",
    nameField: "name",
    type: "memory_store",
    prefix: "memstore_",
    path: "/v1/memory_stores",
    beta: "agent-memory-2026-07-22",
    updatedAt: true,
    archivedUpdate: { status: 400, code: "memory_store_archived" },
    create: (c, n) => c.beta.memoryStores.create({ name: `m${n}` }),
    retrieve: (c, id) => c.beta.memoryStores.retrieve(id),
    list: (c, p) => c.beta.memoryStores.list(p) as unknown as Promise<SdkPage>,
    archive: (c, id) => c.beta.memoryStores.archive(id),
    update: (c, id, body) => c.beta.memoryStores.update(id, body as never),
    del: (c, id) => c.beta.memoryStores.delete(id),
  },
  {
    noun: "tunnel",
    nameField: "display_name",
    type: "tunnel",
    prefix: "tnl_",
    path: "/v1/tunnels",
    beta: "mcp-tunnels-2026-06-22",
    updatedAt: false,
    archivedUpdate: null,
    create: (c, n) => c.beta.tunnels.create({ display_name: `t${n}` }),
    retrieve: (c, id) => c.beta.tunnels.retrieve(id),
    list: (c, p) => c.beta.tunnels.list(p) as unknown as Promise<SdkPage>,
    archive: (c, id) => c.beta.tunnels.archive(id),
  },
  {
    noun: "deployment",
    nameField: "name",
    type: "deployment",
    prefix: "depl_",
    path: "/v1/deployments",
    beta: BETA,
    updatedAt: true,
    archivedUpdate: null,
    create: async (c, n) => {
      const refs = await refsOf(c);
      return c.beta.deployments.create({
        name: `d${n}`,
        agent: refs.agent,
        environment_id: refs.env,
        initial_events: MESSAGE,
      });
    },
    retrieve: (c, id) => c.beta.deployments.retrieve(id),
    list: (c, p) => c.beta.deployments.list(p) as unknown as Promise<SdkPage>,
    archive: (c, id) => c.beta.deployments.archive(id),
    update: (c, id, body) => c.beta.deployments.update(id, body as never),
  },
];

/** A client in a workspace of its own (so lists hold only what the test made). */
function clientIn(workspace: string): Anthropic {
  return sdk(emu, { defaultHeaders: { "anthropic-workspace-id": workspace } });
}

/** A raw GET of `kind`'s list in `workspace` with query `qs`, with the kind's beta. */
function rawList(kind: Kind, workspace: string, qs: string) {
  return raw(emu, "GET", `${kind.path}?${qs}`, {
    headers: { "anthropic-beta": kind.beta, "anthropic-workspace-id": workspace },
  });
}

function errorOf(json: unknown): { type: string; message: string; details?: { error_code: string } } {
  return (json as { error: { type: string; message: string; details?: { error_code: string } } }).error;
}

describe.each(KINDS)("the shared CRUD shape: $noun", (kind) => {
  const ws = `wrkspc_shape_${kind.type}`;

  it("create answers the kind's type, a fresh id and the server's timestamps; retrieve reads the same object", async () => {
    const c = clientIn(ws);
    const made = await kind.create(c, 0);
    expect(made.type).toBe(kind.type);
    expect(made.id.startsWith(`${kind.prefix}011C`)).toBe(true);
    expect(made.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(made.archived_at).toBeNull();
    if (kind.updatedAt) expect(made.updated_at).toBe(made.created_at);
    else expect(made).not.toHaveProperty("updated_at");
    expect(await kind.retrieve(c, made.id)).toEqual(made);
    const other = await kind.create(c, 1);
    expect(other.id).not.toBe(made.id);
  });

  it("an unknown id is a 404 not_found_error naming the kind, for every endpoint that takes an id", async () => {
    const c = clientIn(ws);
    const message = `${kind.noun} '${kind.prefix}nope' not found`;
    await expectApiError(kind.retrieve(c, `${kind.prefix}nope`), 404, "not_found_error", message);
    await expectApiError(kind.archive(c, `${kind.prefix}nope`), 404, "not_found_error", message);
    if (kind.update) {
      await expectApiError(kind.update(c, `${kind.prefix}nope`, {}), 404, "not_found_error", message);
    }
    if (kind.del) await expectApiError(kind.del(c, `${kind.prefix}nope`), 404, "not_found_error", message);
  });

  it("lists newest first in {data, next_page} pages that never skip or repeat while objects are created between pages", async () => {
    const workspace = `${ws}_pages`;
    const c = clientIn(workspace);
    const made: string[] = [];
    for (let n = 0; n < 5; n++) made.push((await kind.create(c, n)).id);
    let page = await kind.list(c, { limit: 2 });
    const seen = page.data.map((o) => o.id);
    await kind.create(c, 99);
    while (page.hasNextPage()) {
      page = await page.getNextPage();
      seen.push(...page.data.map((o) => o.id));
    }
    expect(seen).toEqual([...made].reverse());
    expect(page.next_page).toBeNull();
    expect((await kind.list(c, { limit: 100 })).data).toHaveLength(6);
    const empty = await rawList(kind, workspace, "limit=6&page=");
    expect(empty.status).toBe(200);
    expect((empty.json as { data: Obj[]; next_page: string | null }).next_page).toBeNull();
  });

  it("refuses a limit outside 1..100 and a page cursor it did not issue, with a 400 naming the parameter", async () => {
    const workspace = `${ws}_bad`;
    const c = clientIn(workspace);
    for (let n = 0; n < 2; n++) await kind.create(c, n);
    for (const limit of ["0", "101", "-1", "1.5", "abc", "1e2", "", "100000000000000000000"]) {
      const res = await rawList(kind, workspace, `limit=${encodeURIComponent(limit)}`);
      expect(res.status, `limit=${limit}`).toBe(400);
      expect(errorOf(res.json).message).toBe("limit: Input should be an integer between 1 and 100");
    }
    const first = await kind.list(c, { limit: 1 });
    expect(first.next_page).toMatch(/^page_/);
    const cursor = first.next_page ?? "";
    const foreign = KINDS.find((k) => k.type !== kind.type) as Kind;
    const forged = `page_${Buffer.from(JSON.stringify({ l: kind.path.slice(4), k: [1, 2, 3] })).toString("base64url")}`;
    for (const bad of ["garbage", "page_", "page_!!!", forged]) {
      const res = await rawList(kind, workspace, `page=${encodeURIComponent(bad)}`);
      expect(res.status, `page=${bad}`).toBe(400);
      expect(errorOf(res.json).type).toBe("invalid_request_error");
      expect(errorOf(res.json).message).toContain("page: Invalid page cursor");
    }
    const elsewhere = await rawList(foreign, workspace, `page=${encodeURIComponent(cursor)}`);
    expect(elsewhere.status).toBe(400);
    expect(errorOf(elsewhere.json).message).toContain("page: Invalid page cursor");
    expect((await rawList(kind, workspace, `limit=1&page=${encodeURIComponent(cursor)}`)).status).toBe(200);
  });

  it("archive is one-way and idempotent; archived objects stay readable and leave the default list", async () => {
    const workspace = `${ws}_archive`;
    const c = clientIn(workspace);
    const kept = await kind.create(c, 0);
    const gone = await kind.create(c, 1);
    const archived = await kind.archive(c, gone.id);
    expect(archived.archived_at).toMatch(/Z$/);
    expect(Date.parse(archived.archived_at ?? "")).toBeGreaterThanOrEqual(Date.parse(gone.created_at));
    if (kind.updatedAt) expect(archived.updated_at).toBe(archived.archived_at);
    const again = await kind.archive(c, gone.id);
    expect(again).toEqual(archived);
    expect(await kind.retrieve(c, gone.id)).toEqual(archived);
    expect((await kind.list(c, {})).data.map((o) => o.id)).toEqual([kept.id]);
    expect((await kind.list(c, { include_archived: true })).data.map((o) => o.id)).toEqual([gone.id, kept.id]);
    expect((await kind.list(c, { include_archived: false })).data.map((o) => o.id)).toEqual([kept.id]);
    const bad = await rawList(kind, workspace, "include_archived=maybe");
    expect(bad.status).toBe(400);
    expect(errorOf(bad.json).message).toContain("include_archived");
  });

  it.runIf(Boolean(kind.update))(
    "an update that changes nothing keeps updated_at; a body field it does not know is a 400",
    async () => {
      const c = clientIn(`${ws}_update`);
      const made = await kind.create(c, 0);
      const update = kind.update as NonNullable<Kind["update"]>;
      expect(await update(c, made.id, {})).toEqual(made);
      await expectApiError(update(c, made.id, { bogus: 1 }), 400, "invalid_request_error", "bogus");
      expect(await kind.retrieve(c, made.id)).toEqual(made);
    },
  );

  it.runIf(Boolean(kind.update))(
    "a request that fails on its last field writes nothing, create or update",
    async () => {
      const workspace = `${ws}_atomic`;
      const c = clientIn(workspace);
      const made = await kind.create(c, 0);
      const badMetadata = { metadata: { ok: "1", ["k".repeat(65)]: "x" } };
      const update = kind.update as NonNullable<Kind["update"]>;
      await expectApiError(
        update(c, made.id, { [kind.nameField]: "renamed", ...badMetadata }),
        400,
        "invalid_request_error",
        "metadata",
      );
      expect(await kind.retrieve(c, made.id)).toEqual(made);
      const before = (await kind.list(c, { include_archived: true })).data;
      const res = await raw(emu, "POST", kind.path, {
        headers: {
          "anthropic-beta": kind.beta,
          "anthropic-workspace-id": workspace,
          "content-type": "application/json",
        },
        body: JSON.stringify({ [kind.nameField]: "x", ...badMetadata }),
      });
      expect(res.status).toBe(400);
      expect((await kind.list(c, { include_archived: true })).data).toEqual(before);
    },
  );

  it.runIf(Boolean(kind.del))(
    "delete answers {id, type: <type>_deleted}, archived or not; the id is then a 404",
    async () => {
      const c = clientIn(`${ws}_delete`);
      const del = kind.del as NonNullable<Kind["del"]>;
      const live = await kind.create(c, 0);
      const archived = await kind.create(c, 1);
      await kind.archive(c, archived.id);
      for (const id of [live.id, archived.id]) {
        expect(await del(c, id)).toEqual({ id, type: `${kind.type}_deleted` });
        await expectApiError(kind.retrieve(c, id), 404, "not_found_error", `${kind.noun} '${id}' not found`);
        await expectApiError(del(c, id), 404, "not_found_error");
      }
      expect((await kind.list(c, { include_archived: true })).data).toEqual([]);
    },
  );
});

describe("what stays per kind", () => {
  it("an update of an archived object: agents, environments and memory stores refuse (400, each its own code); vaults and deployments accept", async () => {
    for (const kind of KINDS) {
      if (!kind.update) continue;
      const c = clientIn(`wrkspc_archived_update_${kind.type}`);
      const made = await kind.create(c, 0);
      await kind.archive(c, made.id);
      const body = { metadata: { team: "ops" } };
      if (kind.archivedUpdate === null) {
        const updated = await kind.update(c, made.id, body);
        expect((updated as unknown as { metadata: Record<string, string> }).metadata, kind.noun).toEqual({
          team: "ops",
        });
        continue;
      }
      const err = await expectApiError(
        kind.update(c, made.id, body),
        kind.archivedUpdate.status,
        "invalid_request_error",
      );
      expect(errorOf(err.error).details?.error_code, kind.noun).toBe(kind.archivedUpdate.code);
      expect(errorOf(err.error).message).toContain("archived");
    }
  });

  it('metadata patches: null deletes a key everywhere; environments also delete on "" and refuse metadata: null', async () => {
    const c = clientIn("wrkspc_metadata");
    const vault = await c.beta.vaults.create({ display_name: "v", metadata: { a: "1", b: "2" } });
    const env = await c.beta.environments.create({ name: "e", metadata: { a: "1", b: "2" } });
    const store = await c.beta.memoryStores.create({ name: "m", metadata: { a: "1", b: "2" } });
    const patched = await c.beta.vaults.update(vault.id, { metadata: { a: null, b: "" } });
    expect(patched.metadata).toEqual({ b: "" });
    expect((await c.beta.memoryStores.update(store.id, { metadata: { a: null, c: "3" } })).metadata).toEqual({
      b: "2",
      c: "3",
    });
    expect((await c.beta.environments.update(env.id, { metadata: { a: null, b: "" } })).metadata).toEqual({});
    expect(await c.beta.vaults.update(vault.id, { metadata: null })).toEqual(patched);
    await expectApiError(
      c.beta.environments.update(env.id, { metadata: null } as never),
      400,
      "invalid_request_error",
      "metadata",
    );
    await expectApiError(
      c.beta.vaults.create({ display_name: "x", metadata: null } as never),
      400,
      "invalid_request_error",
      "metadata",
    );
  });
});

/** `ts` moved by `delta` microseconds, in the clock's `…ss.ffffffZ` form. */
function shift(ts: string, delta: number): string {
  const frac = /\.(\d{6})Z$/.exec(ts)?.[1] ?? "000000";
  const micros = Date.parse(ts) * 1000 + (Number(frac) % 1000) + delta;
  const ms = Math.floor(micros / 1000);
  return new Date(ms).toISOString().replace("Z", `${String(micros - ms * 1000).padStart(3, "0")}Z`);
}

describe("created_at bounds compare to the microsecond (SDK: 'at or after', 'at or before')", () => {
  const bounded = KINDS.filter((k) => ["agent", "memory_store", "deployment"].includes(k.type));

  it.each(bounded)(
    "$noun: one microsecond past an object's created_at leaves it out; its own created_at keeps it",
    async (kind) => {
      const c = clientIn(`wrkspc_bounds_${kind.type}`);
      const made = await kind.create(c, 0);
      const ids = async (params: Record<string, unknown>) => (await kind.list(c, params)).data.map((o) => o.id);
      expect(await ids({ "created_at[gte]": made.created_at })).toContain(made.id);
      expect(await ids({ "created_at[lte]": made.created_at })).toContain(made.id);
      // Within the same millisecond as created_at (unless it is that millisecond's last / first microsecond): a
      // comparison in milliseconds would keep the object for one of these two.
      expect(await ids({ "created_at[gte]": shift(made.created_at, 1) })).not.toContain(made.id);
      expect(await ids({ "created_at[lte]": shift(made.created_at, -1) })).not.toContain(made.id);
      await expectApiError(
        kind.list(c, { "created_at[gte]": "yesterday" }),
        400,
        "invalid_request_error",
        "created_at[gte]",
      );
    },
  );

  it("createdAtFilter reads only the bounds it is given, each inclusive or strict as named", () => {
    const at = "2026-04-01T12:00:00.000500Z";
    const query = { "created_at[gt]": at, "created_at[lte]": "2026-04-01T12:00:00.000600Z" };
    const all = createdAtFilter(query);
    expect(all(at)).toBe(false);
    expect(all("2026-04-01T12:00:00.000501Z")).toBe(true);
    expect(all("2026-04-01T12:00:00.000601Z")).toBe(false);
    const lteOnly = createdAtFilter(query, ["gte", "lte"]);
    expect(lteOnly(at)).toBe(true);
    expect(lteOnly("2026-04-01T12:00:00.000601Z")).toBe(false);
    expect(() => createdAtFilter({ "created_at[lte]": "soon" }, ["lte"])).toThrow("created_at[lte]");
    expect(() => createdAtFilter({ "created_at[gt]": "soon" }, ["lte"])).not.toThrow();
  });
});
