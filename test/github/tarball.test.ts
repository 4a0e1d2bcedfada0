/**
 * The repository tarball a GitHub App downloads is hostile input (forks): symlinks, hard links, devices, `..` and
 * absolute paths refuse the whole archive before anything is written; limits hold; a normal GitHub-shaped tarball
 * (top-level `owner-repo-sha/` folder, pax global header) extracts to the repository root.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { extractRepositoryTarball, UnsafeTarballError } from "../../src/github/tarball.js";

/** One raw ustar entry: a 512-byte header and the content padded to 512 bytes (built by hand to stage attacks). */
function entry(name: string, type: string, content = "", linkname = ""): Buffer {
  const header = Buffer.alloc(512);
  const put = (text: string, offset: number, length: number) => header.write(text, offset, length, "utf8");
  const octal = (n: number, length: number) => `${n.toString(8).padStart(length - 1, "0")}\0`;
  put(name, 0, 100);
  put(octal(0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(Buffer.byteLength(content), 12), 124, 12);
  put(octal(0, 12), 136, 12);
  header.fill(" ", 148, 156);
  put(type, 156, 1);
  put(linkname, 157, 100);
  put("ustar\0", 257, 6);
  put("00", 263, 2);
  let sum = 0;
  for (const byte of header) sum += byte;
  put(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8);
  const body = Buffer.alloc(Math.ceil(Buffer.byteLength(content) / 512) * 512);
  body.write(content);
  return Buffer.concat([header, body]);
}
const tarball = (...entries: Buffer[]) => gzipSync(Buffer.concat([...entries, Buffer.alloc(1024)]));
const TOP = "acme-agents-0123abc/";

let dest: string;
beforeEach(async () => {
  dest = await mkdtemp(join(tmpdir(), "reconcile-tar-"));
});
afterEach(() => rm(dest, { recursive: true, force: true }));

describe("extractRepositoryTarball", () => {
  it("extracts a GitHub-shaped tarball to the repository root", async () => {
    const pax = "52 comment=0123abc0123abc0123abc0123abc0123abc0123a\n";
    const archive = tarball(
      entry("pax_global_header", "g", pax),
      entry(TOP, "5"),
      entry(`${TOP}reconcile.yaml`, "0", "stack: fleet\n"),
      entry(`${TOP}agents/`, "5"),
      entry(`${TOP}agents/a.yaml`, "0", "apiVersion: reconcile/v1\n"),
    );
    expect(await extractRepositoryTarball(archive, dest)).toEqual({ files: 2, bytes: 38 });
    expect((await readdir(dest)).sort()).toEqual(["agents", "reconcile.yaml"]);
    expect(await readFile(join(dest, "agents", "a.yaml"), "utf8")).toBe("apiVersion: reconcile/v1\n");
  });

  const attacks: Array<[string, Buffer]> = [
    ["a symlink", tarball(entry(TOP, "5"), entry(`${TOP}prompt.md`, "2", "", "/etc/passwd"))],
    ["a hard link", tarball(entry(TOP, "5"), entry(`${TOP}x`, "1", "", "/etc/passwd"))],
    ["a character device", tarball(entry(TOP, "5"), entry(`${TOP}tty`, "3"))],
    ["a FIFO", tarball(entry(TOP, "5"), entry(`${TOP}fifo`, "6"))],
    ["a ../ path", tarball(entry(TOP, "5"), entry(`${TOP}../../escape.yaml`, "0", "x"))],
    ["an absolute path", tarball(entry("/tmp/reconcile-escape.yaml", "0", "x"))],
    ["a second top-level folder", tarball(entry(TOP, "5"), entry("other/x.yaml", "0", "x"))],
    ["a backslash path", tarball(entry(TOP, "5"), entry(`${TOP}..\\..\\x`, "0", "x"))],
  ];
  for (const [what, archive] of attacks) {
    it(`refuses ${what}, writing nothing`, async () => {
      await expect(extractRepositoryTarball(archive, join(dest, "out"))).rejects.toBeInstanceOf(UnsafeTarballError);
      expect(await readdir(dest)).toEqual([]);
    });
  }

  it("refuses archives over the file count or size limits, and garbage", async () => {
    const many = tarball(entry(TOP, "5"), ...Array.from({ length: 4 }, (_, i) => entry(`${TOP}f${i}`, "0", "abc")));
    await expect(extractRepositoryTarball(many, dest, { maxFiles: 3, maxBytes: 1e6, maxEntries: 100 })).rejects.toThrow(
      /more than 3 files/,
    );
    await expect(extractRepositoryTarball(many, dest, { maxFiles: 10, maxBytes: 11, maxEntries: 100 })).rejects.toThrow(
      /more than 11 bytes/,
    );
    await expect(extractRepositoryTarball(many, dest, { maxFiles: 10, maxBytes: 1e6, maxEntries: 3 })).rejects.toThrow(
      /more than 3 entries/,
    );
    await expect(extractRepositoryTarball(Buffer.from("<html>not a tarball</html>"), dest)).rejects.toBeInstanceOf(
      UnsafeTarballError,
    );
    expect(await readdir(dest)).toEqual([]);
  });

  it("extracts only into an empty folder, so nothing planted there beforehand can redirect a write", async () => {
    await mkdir(join(dest, "repo"));
    await writeFile(join(dest, "outside.txt"), "keep");
    await symlink(join(dest, "outside.txt"), join(dest, "repo", "outside.txt"));
    const archive = tarball(entry(TOP, "5"), entry(`${TOP}outside.txt`, "0", "overwritten"));
    await expect(extractRepositoryTarball(archive, join(dest, "repo"))).rejects.toThrow(/not empty/);
    expect(await readFile(join(dest, "outside.txt"), "utf8")).toBe("keep");
  });
});
