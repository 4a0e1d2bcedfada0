/**
 * `reconcile export` of a skill whose archive comes from a hostile server: a stub API on a loopback port answers the
 * SDK's skill retrieve and version download with a crafted zip. Every one is refused before anything is written, with
 * an error naming the skill and the reason, and nothing appears in the repository or beside it.
 */

import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Zippable, zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./helpers.js";

const SKILL_ID = "skill_01HostileArchive";
const VERSION = "1759178010641129";
const bytes = (text: string) => new TextEncoder().encode(text);
const SKILL_MD = bytes("---\nname: evil\ndescription: Looks harmless.\n---\n");
const SLOW = 120_000;

let server: Server;
let url = "";
let parent = "";
/** The archive the stub serves next. */
let archive: Uint8Array = new Uint8Array();

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (path === `/v1/skills/${SKILL_ID}/versions/${VERSION}/content`) {
      res.writeHead(200, { "content-type": "application/zip" });
      res.end(Buffer.from(archive));
    } else if (path === `/v1/skills/${SKILL_ID}`) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          type: "skill",
          id: SKILL_ID,
          display_name: "Evil skill",
          latest_version_id: VERSION,
          source: { type: "custom" },
          created_at: "2026-01-01T00:00:00Z",
          updated_at: "2026-01-01T00:00:00Z",
        }),
      );
    } else {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ type: "error", error: { type: "not_found_error", message: "not found" } }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  parent = await mkdtemp(join(tmpdir(), "reconcile-export-hostile-"));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(parent, { recursive: true, force: true });
});

/** Every file and folder under `root` (relative, POSIX), sorted. */
async function tree(root: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(root, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    out.push(rel);
    if (entry.isDirectory()) out.push(...(await tree(root, rel)));
  }
  return out.sort();
}

/** A zip with `entries` (name → bytes, or bytes with zip attributes). */
const zip = (entries: Zippable) => zipSync(entries, { level: 9 });

const S_IFLNK = 0o120000;

const cases: Array<[string, () => Uint8Array, RegExp]> = [
  [
    "a path that climbs out of the skill",
    () => zip({ "evil/SKILL.md": SKILL_MD, "evil/../../../escaped.txt": new TextEncoder().encode("pwned") }),
    /outside one top-level directory: "evil\/\.\.\/\.\.\/\.\.\/escaped\.txt"/,
  ],
  [
    "an absolute path",
    () => zip({ "evil/SKILL.md": SKILL_MD, "/tmp/absolute.txt": new TextEncoder().encode("pwned") }),
    /outside one top-level directory/,
  ],
  [
    "a symbolic link",
    () =>
      zip({
        "evil/SKILL.md": SKILL_MD,
        "evil/passwd": [new TextEncoder().encode("/etc/passwd"), { os: 3, attrs: (S_IFLNK | 0o777) << 16 }],
      }),
    /the entry "evil\/passwd" is a symbolic link/,
  ],
  [
    "a zip bomb (9 MiB of zeros in a few kilobytes)",
    () => zip({ "evil/SKILL.md": SKILL_MD, "evil/zeros.bin": new Uint8Array(9 * 1024 * 1024) }),
    /more than 8388608 bytes once unpacked/,
  ],
  [
    "a file name with a line break",
    () => zip({ "evil/SKILL.md": SKILL_MD, "evil/bad\nname.txt": new TextEncoder().encode("x") }),
    /control character/,
  ],
  [
    "a file that is also a folder",
    () => zip({ "evil/SKILL.md": SKILL_MD, "evil/a": bytes("file"), "evil/a/b": bytes("nested") }),
    /"a" is both a file and a folder/,
  ],
  [
    "two names that differ only in case",
    () => zip({ "evil/SKILL.md": SKILL_MD, "evil/notes.md": bytes("1"), "evil/NOTES.md": bytes("2") }),
    /differ only in case/,
  ],
  ["bytes that are not a zip", () => new TextEncoder().encode("PK not really"), /not a readable zip file/],
];

describe("reconcile export refuses a hostile skill archive", () => {
  for (const [what, make, reason] of cases) {
    it(
      `refuses ${what}, writing nothing inside or outside the repository`,
      async () => {
        archive = make();
        const dir = join(parent, `repo-${cases.findIndex((c) => c[0] === what)}`);
        await mkdir(dir);
        await writeFile(join(dir, "reconcile.yaml"), "stack: hostile\n");
        const before = await tree(parent);
        const run = await runCli(["export", "--dir", dir, "--id", SKILL_ID], {
          ANTHROPIC_API_KEY: "k",
          ANTHROPIC_BASE_URL: url,
        });
        expect(run.code, run.stdout + run.stderr).toBe(1);
        expect(run.stderr).toContain(`skill ${SKILL_ID} ("Evil skill"): its latest version's archive was refused`);
        expect(run.stderr).toMatch(reason);
        expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
        expect(await tree(parent)).toEqual(before);
        expect(await tree(dir)).toEqual(["reconcile.yaml"]);
      },
      SLOW,
    );
  }
});
