import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { strToU8, zipSync } from "fflate";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  compareFiles,
  fileHash,
  normalizeContent,
  parseSkillMd,
  readSkillFolder,
  readSkillZip,
  SkillArchiveError,
  skillContent,
} from "../../src/providers/skill-content.js";

const SKILL_MD = "---\nname: runbook\ndescription: Handles incidents.\n---\n\n# Runbook\n";
const u8 = (text: string) => new Uint8Array(Buffer.from(text));

describe("skillContent", () => {
  it("does not depend on file order", () => {
    const a = skillContent([
      { path: "SKILL.md", data: u8(SKILL_MD) },
      { path: "scripts/run.sh", data: u8("echo hi\n") },
    ]);
    const b = skillContent([
      { path: "scripts/run.sh", data: u8("echo hi\n") },
      { path: "SKILL.md", data: u8(SKILL_MD) },
    ]);
    expect(b).toEqual(a);
    expect(Object.keys(a.files)).toEqual(["SKILL.md", "scripts/run.sh"]);
  });

  it("treats CRLF and LF text alike, but keeps binary files byte for byte", () => {
    expect(fileHash(u8("a\r\nb\r\n"))).toBe(fileHash(u8("a\nb\n")));
    expect(Buffer.from(normalizeContent(u8("a\r\nb"))).toString()).toBe("a\nb");
    // A lone CR is content, not a line ending.
    expect(fileHash(u8("a\rb"))).not.toBe(fileHash(u8("a\nb")));
    const binary = new Uint8Array([0, 13, 10, 255]);
    expect(normalizeContent(binary)).toBe(binary);
    expect(fileHash(binary)).not.toBe(fileHash(new Uint8Array([0, 10, 255])));
  });

  it("changes when a path or a byte changes", () => {
    const base = skillContent([{ path: "a.md", data: u8("x") }]);
    expect(skillContent([{ path: "b.md", data: u8("x") }]).hash).not.toBe(base.hash);
    expect(skillContent([{ path: "a.md", data: u8("y") }]).hash).not.toBe(base.hash);
  });
});

describe("compareFiles", () => {
  it("names the files added, changed and removed", () => {
    expect(compareFiles({ a: "1", b: "2", c: "3" }, { b: "2", c: "9", d: "4" })).toEqual({
      added: ["d"],
      changed: ["c"],
      removed: ["a"],
    });
  });
});

describe("parseSkillMd", () => {
  it("needs frontmatter with a description", () => {
    expect(parseSkillMd(u8(SKILL_MD))).toEqual({ name: "runbook", description: "Handles incidents." });
    expect(parseSkillMd(u8("# none\n"))).toMatch(/frontmatter/);
    expect(parseSkillMd(u8("---\nname: x\n---\n"))).toMatch(/description/);
    expect(parseSkillMd(u8("---\r\nname: x\r\ndescription: d\r\n---\r\n"))).toEqual({ name: "x", description: "d" });
  });
});

describe("readSkillFolder", () => {
  let root: string;
  let outside: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), "skill-root-"));
    outside = await mkdtemp(path.join(tmpdir(), "skill-outside-"));
    await mkdir(path.join(root, "skills/runbook/scripts"), { recursive: true });
    await writeFile(path.join(root, "skills/runbook/SKILL.md"), SKILL_MD);
    await writeFile(path.join(root, "skills/runbook/scripts/run.sh"), "echo hi\n");
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  it("reads every file relative to the spec file, and hashes modes away", async () => {
    const first = await readSkillFolder(root, path.join(root, "skills"), "runbook");
    if (!first.ok) throw new Error(first.message);
    expect(first.folder).toBe("skills/runbook");
    expect(first.slug).toBe("runbook");
    expect(first.files.map((f) => f.path)).toEqual(["SKILL.md", "scripts/run.sh"]);
    await chmod(path.join(root, "skills/runbook/scripts/run.sh"), 0o755);
    await writeFile(path.join(root, "skills/runbook/SKILL.md"), SKILL_MD.replaceAll("\n", "\r\n"));
    const second = await readSkillFolder(root, root, "skills/runbook");
    if (!second.ok) throw new Error(second.message);
    expect(skillContent(second.files)).toEqual(skillContent(first.files));
  });

  it("refuses a symlink that leads out of the repository, and a folder outside it", async () => {
    await writeFile(path.join(outside, "secret.txt"), "secret");
    await symlink(path.join(outside, "secret.txt"), path.join(root, "skills/runbook/leak.txt"));
    const result = await readSkillFolder(root, root, "skills/runbook");
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toMatch(/leak\.txt is a symlink .*outside the repository/);
    const up = await readSkillFolder(root, root, "../x");
    expect(!up.ok && up.message).toMatch(/outside the repository root/);
  });

  it("follows symlinks inside the repository, and refuses loops", async () => {
    await writeFile(path.join(root, "shared.md"), "shared");
    await symlink(path.join(root, "shared.md"), path.join(root, "skills/runbook/shared.md"));
    const ok = await readSkillFolder(root, root, "skills/runbook");
    expect(ok.ok && ok.files.map((f) => f.path)).toEqual(["SKILL.md", "scripts/run.sh", "shared.md"]);
    await symlink(path.join(root, "skills/runbook"), path.join(root, "skills/runbook/scripts/loop"));
    const loop = await readSkillFolder(root, root, "skills/runbook");
    expect(!loop.ok && loop.message).toMatch(/symlink loop/);
  });

  it("refuses file names an upload would not keep as written", async () => {
    for (const name of ["line\nbreak.md", 'quote".md', "back\\slash.md"]) {
      await writeFile(path.join(root, "skills/runbook", name), "x");
      const result = await readSkillFolder(root, root, "skills/runbook");
      expect(!result.ok && result.message, name).toMatch(/control character, a backslash or a double quote/);
      await rm(path.join(root, "skills/runbook", name));
    }
  });

  it("refuses a folder without SKILL.md, a missing folder, and one past the size limit", async () => {
    await rm(path.join(root, "skills/runbook/SKILL.md"));
    const none = await readSkillFolder(root, root, "skills/runbook");
    expect(!none.ok && none.message).toMatch(/no SKILL\.md/);
    const missing = await readSkillFolder(root, root, "skills/nope");
    expect(!missing.ok && missing.message).toMatch(/not found/);
    await writeFile(path.join(root, "skills/runbook/SKILL.md"), SKILL_MD);
    await writeFile(path.join(root, "skills/runbook/big.bin"), Buffer.alloc(8 * 1024 * 1024 + 1));
    const big = await readSkillFolder(root, root, "skills/runbook");
    expect(!big.ok && big.message).toMatch(/bytes/);
  });
});

describe("readSkillZip", () => {
  it("reads an archive into the same content as the folder", () => {
    const zip = zipSync({ "runbook/scripts/run.sh": strToU8("echo hi\r\n"), "runbook/SKILL.md": strToU8(SKILL_MD) });
    const read = readSkillZip(zip);
    expect(read.slug).toBe("runbook");
    expect(skillContent(read.files)).toEqual(
      skillContent([
        { path: "SKILL.md", data: u8(SKILL_MD) },
        { path: "scripts/run.sh", data: u8("echo hi\n") },
      ]),
    );
  });

  it("refuses archives with traversal, two top directories, garbage or too much content", () => {
    const bad = [
      zipSync({ "runbook/SKILL.md": strToU8(SKILL_MD), "../evil": strToU8("x") }),
      zipSync({ "runbook/SKILL.md": strToU8(SKILL_MD), "other/x": strToU8("x") }),
      new Uint8Array([1, 2, 3, 4]),
      zipSync({ "runbook/SKILL.md": strToU8(SKILL_MD), "runbook/big": new Uint8Array(8 * 1024 * 1024 + 1) }),
    ];
    for (const zip of bad) expect(() => readSkillZip(zip)).toThrow(SkillArchiveError);
  });
});
