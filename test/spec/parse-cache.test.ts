/**
 * The parse cache (`src/spec/parse-cache.ts`, ADR 27): a load that reads what unchanged files gave last time must
 * give the same documents, errors and locations as a load that parses; an edited file must be parsed again; and a
 * cache that is absent, truncated, garbage, unwritable, written by two runs at once or turned off must never change
 * a result nor fail a load. It holds no secret value.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deserialize, serialize } from "node:v8";
import { afterEach, describe, expect, it } from "vitest";
import { loadSpecs } from "../../src/reconcile/workflow.js";
import { loadProject } from "../../src/spec/index.js";
import { type LoadResult, loadSpecFiles } from "../../src/spec/load.js";
import { cacheDirectory, jsonExact, parseCacheEnabled, parseCacheFile, textKey } from "../../src/spec/parse-cache.js";
import { locate } from "../../src/spec/position.js";
import { copyFleet, removeDir, runCli } from "../e2e/helpers.js";
import { FILES, paths } from "./yaml-files.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await removeDir(dir);
});

async function repo(files: Record<string, string> = FILES): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "reconcile-parse-cache-"));
  dirs.push(dir);
  await writeFile(join(dir, "reconcile.yaml"), "stack: cache\n");
  for (const [file, text] of Object.entries(files)) {
    await mkdir(join(dir, file, ".."), { recursive: true });
    await writeFile(join(dir, file), text);
  }
  return dir;
}

/** The comparable content of a load: documents (file, index, data, location) and errors. */
const content = (r: LoadResult) => ({
  documents: r.documents.map((d) => [d.file, d.index, d.data, d.location]),
  errors: r.errors,
  files: r.files,
});

/** The cache file of a repository, in this test run's cache directory (`RECONCILE_CACHE_DIR`, set by vitest.config.ts). */
const cacheFile = (dir: string): string => {
  const file = parseCacheFile(dir);
  if (!file) throw new Error("no cache directory in the tests' environment");
  return file;
};

/** A cached file as stored: its documents as JSON text, or (data JSON cannot hold exactly) as values. */
type StoredEntry =
  | { json: string; positions: Uint8Array }
  | { lineStarts: number[]; documents: Array<{ data: unknown; start: number }>; positions: Uint8Array };
interface Stored {
  format: number;
  versions: string;
  entries: Record<string, StoredEntry>;
}
const readCache = (dir: string) => deserialize(readFileSync(cacheFile(dir))) as Stored;

/** Changes, in place, the data of each document of a stored entry, in whichever form it is stored. */
function editDocuments(entry: StoredEntry, edit: (data: Record<string, unknown>) => void): void {
  if ("json" in entry) {
    const parsed = JSON.parse(entry.json) as { documents: Array<{ data: Record<string, unknown> | null }> };
    for (const document of parsed.documents) if (document.data) edit(document.data);
    entry.json = JSON.stringify(parsed);
  } else {
    for (const document of entry.documents) if (document.data) edit(document.data as Record<string, unknown>);
  }
}

/** The cache directory of this test run, for the CLI's environment. */
const cacheEnv = (): Record<string, string> => ({ RECONCILE_CACHE_DIR: process.env.RECONCILE_CACHE_DIR ?? "" });

describe("jsonExact", () => {
  it("is true exactly for the values a JSON round trip gives back as they were, as a tree", () => {
    const shared = { a: 1 };
    const exact = [null, "s", true, 0, 1.5, -2, [], {}, { a: [1, { b: "c" }], d: null }, [shared, { x: shared.a }]];
    for (const value of exact) {
      expect(jsonExact(value), JSON.stringify(value)).toBe(true);
      expect(JSON.parse(JSON.stringify(value))).toEqual(value);
    }
    const sparse: unknown[] = [1];
    sparse[2] = 3; // a hole at index 1
    const inexact = [
      Number.NaN,
      Infinity,
      -Infinity,
      -0,
      undefined,
      { a: undefined },
      [1, undefined],
      sparse,
      [shared, shared],
      { a: shared, b: { c: shared } },
      new Date(0),
      new Map(),
      1n,
      JSON.parse('{"__proto__": {"a": 1}}'),
      Object.create(null),
    ];
    for (const [i, value] of inexact.entries()) expect(jsonExact(value), `inexact[${i}]`).toBe(false);
  });
});

describe("the parse cache", () => {
  it("gives the same documents, errors and locations (every path, key and value) as parsing", async () => {
    const dir = await repo();
    const parsed = await loadSpecFiles(dir, { parseCache: false });
    expect(existsSync(cacheFile(dir))).toBe(false);
    const cold = await loadSpecFiles(dir, { parseCache: true });
    expect(existsSync(cacheFile(dir))).toBe(true);
    const warm = await loadSpecFiles(dir, { parseCache: true });
    expect(content(cold)).toEqual(content(parsed));
    expect(content(warm)).toEqual(content(parsed));
    // The warm documents came from the cache: no YAML document, positions on demand.
    expect(warm.documents.every((d) => d.doc === undefined)).toBe(true);
    for (const [i, document] of parsed.documents.entries()) {
      const cached = warm.documents[i];
      if (!cached) throw new Error("missing document");
      for (const path of paths(document.data)) {
        for (const at of ["key", "value"] as const) {
          expect(locate(cached, path, at), `${document.file} ${path.join(".")} ${at}`).toEqual(
            locate(document, path, at),
          );
        }
      }
    }
    // Values JSON cannot hold come back exactly.
    const floats = warm.documents.find((d) => d.data.name === "floats")?.data.metadata as Record<string, number>;
    expect(Number.isNaN(floats.a)).toBe(true);
    expect([floats.b, floats.c, floats.e]).toEqual([Infinity, -Infinity, 31]);
    expect(Object.is(floats.d, -0)).toBe(true);
    // Files with YAML errors are not cached; the others are, one entry per file.
    // Those values are stored as values; data JSON holds exactly (most files) as JSON text, and so is a file whose
    // aliases share one value (as JSON text it would be repeated, and nested aliases could grow without bound).
    const stored = readCache(dir).entries;
    const form = (file: string) => ("json" in (stored[textKey(FILES[file] as string)] ?? {}) ? "json" : "values");
    expect(form("agents/floats.yaml")).toBe("values");
    expect(form("environments/e.yaml")).toBe("json");
    expect(Object.values(stored).filter((e) => !("json" in e)).length).toBeGreaterThan(1);
    const entries = Object.keys(stored);
    expect(entries.sort()).toEqual(
      Object.entries(FILES)
        .filter(([file]) => !["agents/syntax.yaml", "agents/dupe.yaml"].includes(file))
        .map(([, text]) => textKey(text))
        .sort(),
    );
  });

  it("keys files by their bytes: a byte-order mark, invalid UTF-8 and NUL bytes give the same results warm as cold", async () => {
    const dir = await repo({
      "agents/bom.yaml": `\uFEFF${FILES["environments/e.yaml"]?.replace("name: e", "name: bom")}`,
      "agents/plain.yaml": FILES["environments/e.yaml"] as string,
    });
    await writeFile(
      join(dir, "agents", "latin1.yaml"),
      Buffer.from("apiVersion: reconcile/v1\nname: caf\xe9\n", "latin1"),
    );
    await writeFile(join(dir, "agents", "nul.yaml"), Buffer.from([0x61, 0x3a, 0x20, 0x00, 0x0a]));
    const parsed = content(await loadSpecFiles(dir, { parseCache: false }));
    expect(parsed.errors.map((e) => `${e.location.file}: ${e.message.split(";")[0]}`)).toEqual([
      "agents/latin1.yaml: the file is not UTF-8 text (invalid byte at offset 34)",
      "agents/nul.yaml: the file is not text: it holds a NUL byte at offset 3",
    ]);
    expect(parsed.documents.map((d) => d[2] && (d[2] as Record<string, unknown>).name)).toEqual(["bom", "e"]);
    const cold = content(await loadSpecFiles(dir, { parseCache: true }));
    const warm = content(await loadSpecFiles(dir, { parseCache: true }));
    expect(cold).toEqual(parsed);
    expect(warm).toEqual(parsed);
    // The two text files are cached (one with its byte-order mark in the key), the other two never.
    const keys = Object.keys(readCache(dir).entries).sort();
    const bom = Buffer.from(`\uFEFF${FILES["environments/e.yaml"]?.replace("name: e", "name: bom")}`, "utf8");
    expect(keys).toEqual([textKey(bom), textKey(FILES["environments/e.yaml"] as string)].sort());
  });

  it("reads an unchanged file from the cache and parses an edited one again", async () => {
    const dir = await repo();
    await loadSpecFiles(dir, { parseCache: true });
    // Alter what the cache says about e.yaml: the next load must believe it (it did not parse the file)...
    const stored = readCache(dir);
    const key = textKey(FILES["environments/e.yaml"] as string);
    const entry = stored.entries[key];
    if (!entry) throw new Error("e.yaml is not cached");
    editDocuments(entry, (data) => {
      data.name = "from-the-cache";
    });
    await writeFile(cacheFile(dir), serialize(stored));
    const names = async () => (await loadSpecFiles(dir, { parseCache: true })).documents.map((d) => d.data.name);
    expect(await names()).toContain("from-the-cache");
    // ...until the file changes, by one byte.
    await writeFile(join(dir, "environments/e.yaml"), `${FILES["environments/e.yaml"]} `);
    expect(await names()).not.toContain("from-the-cache");
    expect(await names()).toContain("e");
  });

  it("ignores a cache that is garbage, truncated, empty, of another format or of the wrong shape, and rewrites it", async () => {
    const dir = await repo();
    const expected = content(await loadSpecFiles(dir, { parseCache: false }));
    await loadSpecFiles(dir, { parseCache: true });
    const good = readFileSync(cacheFile(dir));
    const key = textKey(FILES["environments/e.yaml"] as string);
    const bad: Array<[string, Uint8Array | string]> = [
      ["garbage", randomBytes(4096)],
      ["truncated", good.subarray(0, Math.floor(good.length / 2))],
      ["empty", ""],
      ["JSON", JSON.stringify({ format: 1, entries: {} })],
      ["another format", serialize({ ...readCache(dir), format: 999 })],
      ["entries of the wrong shape", serialize({ ...readCache(dir), entries: { [key]: { documents: "x" } } })],
      ["JSON text that is not JSON", serialize(withEntry(readCache(dir), key, (e) => ({ ...e, json: "{" })))],
      [
        "JSON text of the wrong shape",
        serialize(withEntry(readCache(dir), key, (e) => ({ ...e, json: '{"lineStarts":"x","documents":[]}' }))),
      ],
      ["positions that are not positions", serialize(withPositions(readCache(dir), key, serialize("nope")))],
    ];
    for (const [what, bytes] of bad) {
      await writeFile(cacheFile(dir), bytes);
      expect(content(await loadSpecFiles(dir, { parseCache: true })), what).toEqual(expected);
      expect(readCache(dir).format, what).toBe(readCache(dir).format);
      expect(content(await loadSpecFiles(dir, { parseCache: true })), what).toEqual(expected);
    }
  });

  it("loads when the cache cannot be written, and when two loads write it at once", async () => {
    const dir = await repo();
    const expected = content(await loadSpecFiles(dir, { parseCache: false }));
    // A file where the cache directory should be: mkdir fails (as a read-only home would).
    const saved = process.env.RECONCILE_CACHE_DIR;
    const blocked = await mkdtemp(join(tmpdir(), "reconcile-cache-blocked-"));
    dirs.push(blocked);
    await writeFile(join(blocked, "parse"), "not a directory");
    process.env.RECONCILE_CACHE_DIR = blocked;
    try {
      expect(content(await loadSpecFiles(dir, { parseCache: true }))).toEqual(expected);
      // No home directory at all: the cache is off.
      delete process.env.RECONCILE_CACHE_DIR;
      expect(cacheDirectory({ HOME: "", XDG_CACHE_HOME: "relative/not/allowed" }) ?? "none").not.toContain("relative");
    } finally {
      process.env.RECONCILE_CACHE_DIR = saved;
    }
    const loads = await Promise.all(Array.from({ length: 6 }, () => loadSpecFiles(dir, { parseCache: true })));
    for (const load of loads) expect(content(load)).toEqual(expected);
    expect(Object.keys(readCache(dir).entries)).toHaveLength(6);
    // No temporary file left behind.
    const base = cacheFile(dir).split("/").pop() ?? "";
    expect((await readdir(join(cacheFile(dir), ".."))).filter((f) => f.startsWith(base))).toEqual([base]);
  });

  it("never reads nor writes a cache inside the repository, even one a branch commits or a symlink points away", async () => {
    const dir = await repo();
    const expected = content(await loadSpecFiles(dir, { parseCache: false }));
    await loadSpecFiles(dir, { parseCache: true });
    // A branch that commits a poisoned cache where an in-repository cache would live, and one under .reconcile/.
    const poisoned = readCache(dir);
    for (const entry of Object.values(poisoned.entries)) {
      editDocuments(entry, (data) => {
        data.name = "poisoned";
      });
    }
    await rm(cacheFile(dir));
    await mkdir(join(dir, ".reconcile", "cache"), { recursive: true });
    await writeFile(join(dir, ".reconcile", "cache", "parse.v8"), serialize(poisoned));
    expect(content(await loadSpecFiles(dir, { parseCache: true }))).toEqual(expected);
    // A `.reconcile` symlink to a folder outside the repository: nothing is written there.
    const outside = await mkdtemp(join(tmpdir(), "reconcile-outside-"));
    dirs.push(outside);
    await rm(join(dir, ".reconcile"), { recursive: true });
    await symlink(outside, join(dir, ".reconcile"));
    await rm(cacheFile(dir));
    expect(content(await loadSpecFiles(dir, { parseCache: true }))).toEqual(expected);
    expect(await readdir(outside)).toEqual([]);
  });

  it("removes the caches of repositories not planned for 30 days when a new one is written", async () => {
    const dir = await repo();
    await loadSpecFiles(dir, { parseCache: true });
    const folder = join(cacheFile(dir), "..");
    const old = join(folder, `${"0".repeat(32)}.v8`);
    const leftover = join(folder, `${"1".repeat(32)}.v8.123.abc.tmp`);
    const recent = join(folder, `${"2".repeat(32)}.v8`);
    const unrelated = join(folder, "notes.txt");
    for (const file of [old, leftover, recent, unrelated]) await writeFile(file, "x");
    const longAgo = new Date(Date.now() - 31 * 24 * 60 * 60 * 1000);
    for (const file of [old, leftover, unrelated]) await utimes(file, longAgo, longAgo);
    const other = await repo({ "environments/e.yaml": FILES["environments/e.yaml"] as string });
    await loadSpecFiles(other, { parseCache: true });
    expect([old, leftover, recent, unrelated].map((f) => existsSync(f))).toEqual([false, false, true, true]);
    await rm(recent);
    await rm(unrelated);
  });

  it("keeps only the entries of the current files", async () => {
    const dir = await repo();
    await loadSpecFiles(dir, { parseCache: true });
    await rm(join(dir, "agents/anchors.yaml"));
    await writeFile(
      join(dir, "environments/e.yaml"),
      FILES["environments/e.yaml"]?.replace("name: e", "name: f") ?? "",
    );
    await loadSpecFiles(dir, { parseCache: true });
    const keys = Object.keys(readCache(dir).entries);
    expect(keys).toHaveLength(5);
    expect(keys).not.toContain(textKey(FILES["agents/anchors.yaml"] as string));
    expect(keys).not.toContain(textKey(FILES["environments/e.yaml"] as string));
  });

  it("is off with RECONCILE_PARSE_CACHE=off and for the GitHub commands' loads", async () => {
    expect(parseCacheEnabled({})).toBe(true);
    for (const off of ["off", "0", "false", "NO", " Off "])
      expect(parseCacheEnabled({ RECONCILE_PARSE_CACHE: off })).toBe(false);
    expect(parseCacheEnabled({ RECONCILE_PARSE_CACHE: "on" })).toBe(true);
    const dir = await copyFleet();
    dirs.push(dir);
    await loadSpecs(dir, undefined, { parseCache: false });
    expect(existsSync(cacheFile(dir))).toBe(false);
    const off = await runCli(["validate", "--dir", dir], { ...cacheEnv(), RECONCILE_PARSE_CACHE: "off" });
    expect(off.code).toBe(0);
    expect(existsSync(cacheFile(dir))).toBe(false);
    const on = await runCli(["validate", "--dir", dir], cacheEnv());
    expect(on).toEqual(off);
    expect(existsSync(cacheFile(dir))).toBe(true);
    // Nothing is written inside the repository.
    expect(existsSync(join(dir, ".reconcile"))).toBe(false);
  }, 60_000);

  it("holds no secret value, and the CLI prints the same with a cold cache, a warm one and none", async () => {
    const dir = await copyFleet();
    dirs.push(dir);
    const CANARY = "canary-parse-cache-5d1f0a";
    const env = { ...cacheEnv(), WORKSPACE_MCP_TOKEN: CANARY };
    const first = await runCli(["plan", "--local", "--dir", dir], env);
    expect(first.code).toBe(0);
    const second = await runCli(["plan", "--local", "--dir", dir], env);
    const none = await runCli(["plan", "--local", "--dir", dir], { ...env, RECONCILE_PARSE_CACHE: "off" });
    const stable = (r: typeof first) => ({ ...r, stdout: r.stdout.replace(/\d{4}-\d\d-\d\d \d\d:\d\d/g, "T") });
    expect(stable(second)).toEqual(stable(first));
    expect(stable(none)).toEqual(stable(first));
    const bytes = readFileSync(cacheFile(dir));
    expect(bytes.includes(Buffer.from(CANARY))).toBe(false);
    expect(bytes.includes(Buffer.from("${env:WORKSPACE_MCP_TOKEN}"))).toBe(true);
  }, 60_000);

  it("locates spec errors in cached files exactly as in parsed ones (validate, cold then warm)", async () => {
    const dir = await repo();
    const cold = await runCli(["validate", "--dir", dir], cacheEnv());
    expect(existsSync(cacheFile(dir))).toBe(true);
    const warm = await runCli(["validate", "--dir", dir], cacheEnv());
    const none = await runCli(["validate", "--dir", dir], { ...cacheEnv(), RECONCILE_PARSE_CACHE: "off" });
    expect(cold.code).toBe(1);
    expect(cold.stderr).toContain("agents/syntax.yaml:4:1: invalid YAML");
    expect(cold.stderr).toMatch(/vaults\/v\.yaml:6:\d+/);
    expect(warm).toEqual(cold);
    expect(none).toEqual(cold);
    const project = await loadProject(dir);
    expect(project.errors.length).toBeGreaterThan(3);
  }, 60_000);
});

/** `stored` with entry `key` replaced by what `change` makes of it. */
function withEntry(stored: Stored, key: string, change: (entry: StoredEntry) => StoredEntry): Stored {
  const entry = stored.entries[key];
  if (!entry) throw new Error(`no entry ${key}`);
  return { ...stored, entries: { ...stored.entries, [key]: change(entry) } };
}

/** `stored` with the positions of entry `key` replaced. */
function withPositions(stored: Stored, key: string, positions: Uint8Array): Stored {
  return withEntry(stored, key, (entry) => ({ ...entry, positions }));
}
