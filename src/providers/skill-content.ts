/**
 * The content of a skill: its files, read from a folder of the repository (desired state) or from the zip the API
 * serves for a version (live state), normalized and hashed the same way, so that both sides compare equal whenever
 * the skill an agent would see is the same (docs/adr/0021-skill-identity.md).
 *
 * - File order does not matter: files are keyed by path (POSIX separators, relative to the skill's directory).
 * - Line endings do not matter in text files: a file that is UTF-8 text (no invalid byte, no NUL) has CRLF turned
 *   into LF before it is hashed, and is uploaded that way, so a Windows checkout (`core.autocrlf`) plans no change
 *   and a script keeps working on Linux. Binary files are kept byte for byte.
 * - File modes do not matter: the API's upload carries names and bytes only (SDK `SkillCreateParams.files` is a
 *   list of `Uploadable`s; multipart has no mode), so a mode is never part of the content.
 *
 * Pure except `readSkillFolder`, which reads the file system.
 */
import { createHash } from "node:crypto";
import { lstat, readdir, readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { unzipSync } from "fflate";
import { parse as parseYaml } from "yaml";

/** One file of a skill: its path inside the skill's directory (`scripts/run.sh`) and its bytes. */
export interface SkillFile {
  path: string;
  data: Uint8Array;
}

/**
 * Assumed limits of one skill (no source found; the public skills guide's 8 MB as remembered): at most this many
 * bytes of files in total, and this many files. The emulator refuses uploads past them too.
 */
export const MAX_SKILL_BYTES = 8 * 1024 * 1024;
/** See `MAX_SKILL_BYTES`. */
export const MAX_SKILL_FILES = 1000;

/** The Agent Skills format's slug: kebab-case, at most 64 characters (SDK `BetaSkillVersion.name`: "kebab-case slug"). */
export const SKILL_SLUG = /^(?=.{1,64}$)[a-z0-9]+(-[a-z0-9]+)*$/;

const TEXT_DECODER = () => new TextDecoder("utf-8", { fatal: true });

/** True when `data` is UTF-8 text: decodes strictly and holds no NUL byte. */
export function isText(data: Uint8Array): boolean {
  if (data.indexOf(0) !== -1) return false;
  try {
    TEXT_DECODER().decode(data);
    return true;
  } catch {
    return false;
  }
}

/** `data` as it is hashed and uploaded: CRLF → LF in text files, binary files unchanged. */
export function normalizeContent(data: Uint8Array): Uint8Array {
  if (data.indexOf(13) === -1 || !isText(data)) return data;
  const out = new Uint8Array(data.length);
  let n = 0;
  for (let i = 0; i < data.length; i++) {
    const byte = data[i] as number;
    if (byte === 13 && data[i + 1] === 10) continue;
    out[n++] = byte;
  }
  return out.subarray(0, n);
}

/** The hash of one file's normalized content: `sha256:` and 64 hex digits. */
export function fileHash(data: Uint8Array): string {
  return `sha256:${createHash("sha256").update(normalizeContent(data)).digest("hex")}`;
}

/** The hashed content of a skill. */
export interface SkillContent {
  /** Per-file hashes (`fileHash`), keyed by path, keys sorted. */
  files: Record<string, string>;
  /** One hash over every path and file hash (sorted by path): equal exactly when `files` is. */
  hash: string;
}

const byPath = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The content of `files`, independent of their order (see the module comment). */
export function skillContent(files: readonly SkillFile[]): SkillContent {
  const entries = files.map((f) => [f.path, fileHash(f.data)] as const).sort((a, b) => byPath(a[0], b[0]));
  const all = createHash("sha256");
  for (const [p, h] of entries) all.update(`${p}\0${h}\n`);
  return { files: Object.fromEntries(entries), hash: `sha256:${all.digest("hex")}` };
}

/** What changed between two file sets (`SkillContent.files`), as sorted path lists. */
export interface FileChanges {
  added: string[];
  changed: string[];
  removed: string[];
}

/** The paths added, changed and removed going from `before` to `after` (both keyed by path). */
export function compareFiles(before: Record<string, string>, after: Record<string, string>): FileChanges {
  const added: string[] = [];
  const changed: string[] = [];
  const removed: string[] = [];
  for (const [p, h] of Object.entries(after)) {
    if (!Object.hasOwn(before, p)) added.push(p);
    else if (before[p] !== h) changed.push(p);
  }
  for (const p of Object.keys(before)) if (!Object.hasOwn(after, p)) removed.push(p);
  return { added: added.sort(byPath), changed: changed.sort(byPath), removed: removed.sort(byPath) };
}

/** SKILL.md's frontmatter, as far as reconcile reads it. */
export interface SkillFrontmatter {
  name?: string;
  description: string;
}

/**
 * Reads SKILL.md's leading YAML frontmatter (`---` … `---`): it must exist and hold a non-empty string
 * `description` (SDK `BetaSkillVersion.description`: "extracted from the SKILL.md file"); `name`, when present, must
 * be a string. @returns the frontmatter, or a message saying what is wrong
 */
export function parseSkillMd(data: Uint8Array): SkillFrontmatter | string {
  if (!isText(data)) return "SKILL.md is not UTF-8 text";
  const text = TEXT_DECODER().decode(data);
  const m = /^\uFEFF?---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(\r?\n|$)/.exec(text);
  if (!m)
    return "SKILL.md must start with YAML frontmatter: a `---` line, `name:` and `description:`, and a `---` line";
  let meta: unknown;
  try {
    meta = parseYaml(m[1] ?? "");
  } catch {
    return "SKILL.md's frontmatter is not valid YAML";
  }
  if (typeof meta !== "object" || meta === null || Array.isArray(meta)) {
    return "SKILL.md's frontmatter must be a YAML mapping with `name` and `description`";
  }
  const { name, description } = meta as Record<string, unknown>;
  if (typeof description !== "string" || description.trim() === "") {
    return "SKILL.md's frontmatter needs a non-empty `description` (the API reads it from there)";
  }
  if (name !== undefined && typeof name !== "string") return "SKILL.md's frontmatter `name` must be a string";
  return { ...(name !== undefined ? { name } : {}), description };
}

/**
 * The skill's slug: SKILL.md's frontmatter `name`, else the directory's name (SDK `BetaSkillVersion.name`: "set at
 * creation from the first upload's SKILL.md frontmatter `name` (or its enclosing directory)").
 * @returns the slug, or a message when it is not kebab-case
 */
export function skillSlug(frontmatter: SkillFrontmatter, directory: string): string | { error: string } {
  const slug = frontmatter.name ?? directory;
  if (SKILL_SLUG.test(slug)) return slug;
  const from =
    frontmatter.name !== undefined ? "SKILL.md's frontmatter `name`" : "the folder's name (SKILL.md has no `name`)";
  return {
    error: `the skill's name ${JSON.stringify(slug.slice(0, 80))} (from ${from}) must be kebab-case: lowercase letters, digits and '-', at most 64 characters`,
  };
}

/** A skill read from a folder or a zip: its slug, SKILL.md's description and its files. */
export interface ReadSkill {
  slug: string;
  description: string;
  files: SkillFile[];
}

/** Checks a file set (`SkillFile.path` relative to the skill's directory) and reads its SKILL.md. */
function checkFiles(files: SkillFile[], directory: string): ReadSkill | { error: string } {
  if (files.length > MAX_SKILL_FILES) {
    return { error: `holds ${files.length} files; a skill may hold at most ${MAX_SKILL_FILES}` };
  }
  const total = files.reduce((sum, f) => sum + f.data.length, 0);
  if (total > MAX_SKILL_BYTES) {
    return {
      error: `holds ${total.toLocaleString("en-US")} bytes; a skill may hold at most ${MAX_SKILL_BYTES.toLocaleString("en-US")}`,
    };
  }
  const skillMd = files.find((f) => f.path === "SKILL.md");
  if (!skillMd) return { error: "has no SKILL.md at its root (the API requires one)" };
  const frontmatter = parseSkillMd(skillMd.data);
  if (typeof frontmatter === "string") return { error: frontmatter };
  const slug = skillSlug(frontmatter, directory);
  if (typeof slug !== "string") return slug;
  return { slug, description: frontmatter.description, files: [...files].sort((a, b) => byPath(a.path, b.path)) };
}

/** A skill folder read from the repository, or why it could not be. */
export type FolderResult = ({ ok: true; folder: string } & ReadSkill) | { ok: false; message: string };

/**
 * Characters a file name of a skill may not hold: control characters (a multipart filename cannot carry a line
 * break), backslashes (path separators to the API) and double quotes (escaped as `%22` in a multipart header, so the
 * live file would be named differently and the plan would never converge).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
const UNSAFE_NAME = /[\u0000-\u001f\u007f\\"]/;

function isInside(root: string, target: string): boolean {
  const rel = path.relative(root, target);
  return rel === "" || !(rel === ".." || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel));
}

/**
 * Reads the skill folder `target` (relative to `baseDir`, the directory of the spec file) inside the repository
 * `root` (absolute). The folder, and everything in it once symlinks are followed, must stay inside the repository:
 * a symlink leading out is refused (a spec must not publish files from outside the repository), as is a symlink
 * loop, a special file (socket, FIFO, device) or a folder past the limits (`MAX_SKILL_BYTES`, `MAX_SKILL_FILES`).
 * Every regular file is read (dotfiles too); empty directories are ignored. SKILL.md must be at the folder's root
 * with frontmatter (`parseSkillMd`), and the slug must be kebab-case (`skillSlug`).
 * @returns the files (paths relative to the folder, POSIX separators, sorted), the slug, SKILL.md's description and
 *   the folder relative to `root`; or a message (without the spec path, which the caller adds)
 */
export async function readSkillFolder(root: string, baseDir: string, target: string): Promise<FolderResult> {
  if (path.isAbsolute(target) || path.win32.isAbsolute(target)) {
    return { ok: false, message: `"${target}" must be a path relative to the spec file, not an absolute path` };
  }
  const absolute = path.resolve(baseDir, target);
  if (!isInside(root, absolute)) return { ok: false, message: `"${target}" points outside the repository root` };
  const folder = path.relative(root, absolute).split(path.sep).join("/") || ".";
  const realRoot = await realpath(root);
  let realFolder: string;
  try {
    realFolder = await realpath(absolute);
  } catch {
    return { ok: false, message: `"${target}" not found (looked for ${folder})` };
  }
  if (!isInside(realRoot, realFolder)) {
    return { ok: false, message: `"${target}" is a symlink to a folder outside the repository root` };
  }
  if (!(await stat(realFolder)).isDirectory()) return { ok: false, message: `"${target}" is not a folder` };

  const files: SkillFile[] = [];
  let bytes = 0;
  const walk = async (dir: string, rel: string, seen: ReadonlySet<string>): Promise<string | undefined> => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => byPath(a.name, b.name));
    for (const entry of entries) {
      const abs = path.join(dir, entry.name);
      const relPath = rel === "" ? entry.name : `${rel}/${entry.name}`;
      const shown = `${folder}/${relPath}`;
      if (UNSAFE_NAME.test(entry.name)) {
        return `${JSON.stringify(shown)} has a control character, a backslash or a double quote in its name; an upload would not keep it as written (rename it)`;
      }
      let info = await lstat(abs);
      let real = abs;
      if (info.isSymbolicLink()) {
        try {
          real = await realpath(abs);
        } catch {
          return `${shown} is a symlink to nothing (a broken link)`;
        }
        if (!isInside(realRoot, real)) {
          return `${shown} is a symlink to ${info.isSymbolicLink() ? "a path" : "a file"} outside the repository root; a skill may only hold files of the repository`;
        }
        info = await stat(real);
      }
      if (info.isDirectory()) {
        if (seen.has(real)) return `${shown} is a symlink loop (it leads back to a folder above it)`;
        const problem = await walk(real, relPath, new Set([...seen, real]));
        if (problem) return problem;
      } else if (info.isFile()) {
        if (files.length >= MAX_SKILL_FILES)
          return `holds more than ${MAX_SKILL_FILES} files; a skill may hold at most ${MAX_SKILL_FILES}`;
        bytes += info.size;
        if (bytes > MAX_SKILL_BYTES) {
          return `holds more than ${MAX_SKILL_BYTES.toLocaleString("en-US")} bytes of files; that is the most a skill may hold`;
        }
        files.push({ path: relPath, data: new Uint8Array(await readFile(real)) });
      } else {
        return `${shown} is not a regular file (a socket, FIFO or device); a skill holds files and folders only`;
      }
    }
    return undefined;
  };
  const problem = await walk(realFolder, "", new Set([realFolder]));
  if (problem)
    return {
      ok: false,
      message: `the skill folder "${target}" ${problem.startsWith(folder) ? `has a problem: ${problem}` : problem}`,
    };
  const checked = checkFiles(files, path.basename(absolute));
  if ("error" in checked) return { ok: false, message: `the skill folder "${target}" ${checked.error}` };
  return { ok: true, folder, ...checked };
}

/** Thrown when a downloaded skill archive is not one the API would serve. */
export class SkillArchiveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SkillArchiveError";
  }
}

/**
 * Reads a version's zip archive (`versions.download`) into the same form as `readSkillFolder`: every entry must lie
 * under one top-level directory (the slug; SDK: "the top-level directory of the Skill's mounted files and the base
 * name of a downloaded archive"), with safe relative paths. Declared sizes are checked before anything is inflated
 * (at most `MAX_SKILL_BYTES` in all, `MAX_SKILL_FILES` entries), so a hostile archive cannot exhaust memory.
 * @throws SkillArchiveError saying what is wrong
 */
export function readSkillZip(bytes: Uint8Array): ReadSkill {
  let declared = 0;
  let count = 0;
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes, {
      filter: (file) => {
        count++;
        declared += file.originalSize;
        if (count > MAX_SKILL_FILES) throw new SkillArchiveError(`more than ${MAX_SKILL_FILES} entries`);
        if (declared > MAX_SKILL_BYTES) throw new SkillArchiveError(`more than ${MAX_SKILL_BYTES} bytes once unpacked`);
        return true;
      },
    });
  } catch (error) {
    if (error instanceof SkillArchiveError) throw new SkillArchiveError(`the skill archive holds ${error.message}`);
    throw new SkillArchiveError("the skill archive is not a readable zip file");
  }
  let top: string | undefined;
  const files: SkillFile[] = [];
  for (const [name, data] of Object.entries(entries)) {
    if (name.endsWith("/")) continue; // a directory entry
    const segments = name.split("/");
    if (name.includes("\\") || segments.some((s) => s === "" || s === "." || s === "..") || segments.length < 2) {
      throw new SkillArchiveError(
        `the skill archive has an entry outside one top-level directory: ${JSON.stringify(name.slice(0, 120))}`,
      );
    }
    if (top !== undefined && segments[0] !== top) {
      throw new SkillArchiveError("the skill archive has entries under more than one top-level directory");
    }
    top = segments[0];
    if (data.length > MAX_SKILL_BYTES)
      throw new SkillArchiveError("the skill archive holds a file larger than declared");
    files.push({ path: segments.slice(1).join("/"), data });
  }
  if (top === undefined) throw new SkillArchiveError("the skill archive is empty");
  const checked = checkFiles(files, top);
  if ("error" in checked) throw new SkillArchiveError(`the skill archive ${checked.error}`);
  // The archive's directory is the slug the API holds, whatever SKILL.md says now.
  return { ...checked, slug: top };
}
