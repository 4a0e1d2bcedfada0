/**
 * Custom skills → `Skill` specs and their folders: a `BetaSkill` (SDK `client.beta.skills`, `source=custom`) and the
 * files of its latest version (`versions.download`, a zip) become `skills/NAME.yaml` (`path: NAME`) and the folder
 * `skills/NAME/` holding exactly those files, so that `readSkillFolder` (`skill-content.ts`) reads back the content
 * the provider compares (`skillState`: label, slug, per-file hashes).
 *
 * - Ownership is the label's marker (docs/adr/0021-skill-identity.md), read through `Provider.metadataOf`: a skill
 *   of this stack keeps its recorded name and `protect`; a console skill gets a name from its label and an `adopt:`
 *   entry, which must stay (the label cannot be rewritten). `display_name` is the label without reconcile's marker,
 *   written when it is not the spec name.
 * - The slug (the archive's top-level directory) comes from SKILL.md's frontmatter `name`, else from the folder's
 *   name: a SKILL.md without `name` whose slug is not the spec name goes into `skills/NAME/<slug>/` instead.
 * - The archive is refused, and nothing written, when it is not one the API would serve: paths outside one
 *   top-level directory, `..`, absolute paths, more than 1,000 entries or 8 MiB once unpacked, declared before
 *   anything is inflated (`readSkillZip`); entries recorded as symbolic links or special files (`zip-entries.ts`);
 *   file names a folder cannot hold as written (control characters, `\`, `"`, the rule `readSkillFolder` applies),
 *   and paths that clash once written (`pathClash`: a file that is also a folder, names that differ only in case).
 * - Skills of other stacks are not downloaded (export skips them anyway).
 */
import type Anthropic from "@anthropic-ai/sdk";
import pLimit from "p-limit";
import { downloadLatestArchive, listCustomSkills, parseSkillLabel, retrieveSkill } from "../skill.js";
import { MAX_SKILL_FILES, parseSkillMd, type ReadSkill, readSkillZip, SkillArchiveError } from "../skill-content.js";
import type { ApiObject } from "../types.js";
import type { ExportContext } from "./context.js";
import { commonFields, ownerFromMetadata } from "./context.js";
import { fetchByIds, nameFor, withOwnership } from "./fetch.js";
import { ExportError, type ExportedSpec, type LiveItem, type ResourceExporter, type SpecDocument } from "./types.js";
import { specialEntries, ZipDirectoryError } from "./zip-entries.js";

/** Parallel downloads (the bound the skill provider's list uses). */
const DOWNLOAD_CONCURRENCY = 8;

/** The Skill schema's `display_name`: 1-100 characters, one line. */
const MAX_DISPLAY_NAME = 100;

/** Names `readSkillFolder` refuses: control characters, backslashes and double quotes. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
const UNSAFE_NAME = /[\u0000-\u001f\u007f\\"]/;

/**
 * The checked content of `skill`'s latest version (see the module comment).
 * @throws ExportError naming the skill and what is wrong with its archive
 */
async function download(client: Anthropic, skill: ApiObject): Promise<ReadSkill> {
  const bytes = await downloadLatestArchive(client, skill);
  const refuse = (reason: string) =>
    new ExportError(
      `skill ${skill.id} (${JSON.stringify(String(skill.display_name).slice(0, 120))}): its latest version's archive was refused, and nothing was written: ${reason}. Export the other resources with --id, or replace the skill's version`,
    );
  try {
    const special = specialEntries(bytes, MAX_SKILL_FILES + 1);
    const first = special[0];
    if (first) {
      throw refuse(
        `the entry ${JSON.stringify(first.name.slice(0, 120))} is a ${first.type}; a skill holds files and folders only`,
      );
    }
    const read = readSkillZip(bytes);
    const unsafe = read.files.find((f) => f.path.split("/").some((segment) => UNSAFE_NAME.test(segment)));
    if (unsafe) {
      throw refuse(
        `the file ${JSON.stringify(unsafe.path.slice(0, 120))} has a control character, a backslash or a double quote in its name, which a skill folder cannot hold as written`,
      );
    }
    const clash = pathClash(read.files.map((f) => f.path));
    if (clash) throw refuse(clash);
    return read;
  } catch (error) {
    if (error instanceof ExportError) throw error;
    if (error instanceof SkillArchiveError) throw refuse(error.message.replace(/^the skill archive /, "it "));
    if (error instanceof ZipDirectoryError) throw refuse(`it is not a readable zip file (${error.message})`);
    throw error;
  }
}

/**
 * Why `paths` cannot all be written as files of one folder, or undefined: a file whose path is a folder of another
 * (`a` and `a/b`), or two paths that differ only in case (one file on macOS and Windows, the second write would
 * replace or fail on the first).
 */
export function pathClash(paths: readonly string[]): string | undefined {
  const files = new Set(paths);
  for (const path of paths) {
    const segments = path.split("/");
    for (let i = 1; i < segments.length; i++) {
      const folder = segments.slice(0, i).join("/");
      if (files.has(folder)) return `${JSON.stringify(folder.slice(0, 120))} is both a file and a folder`;
    }
  }
  const seen = new Map<string, string>();
  for (const path of paths) {
    const key = path.toLowerCase();
    const other = seen.get(key);
    if (other !== undefined) {
      return `${JSON.stringify(other.slice(0, 120))} and ${JSON.stringify(path.slice(0, 120))} differ only in case, which many file systems cannot hold apart`;
    }
    seen.set(key, path);
  }
  return undefined;
}

/** True when the skill belongs to another stack: export skips it, so its content is not downloaded. */
function otherStack(skill: ApiObject, ctx: ExportContext): boolean {
  const owner = ownerFromMetadata(skill.metadata);
  return owner !== null && owner.stack !== ctx.stack;
}

/**
 * The folder the spec's `path` names, relative to `skills/`: the spec name, unless SKILL.md has no frontmatter
 * `name` and the slug differs (the folder's name then gives the slug: `NAME/<slug>`).
 */
function folderFor(name: string, content: ReadSkill, address: string, ctx: ExportContext): string {
  const skillMd = content.files.find((f) => f.path === "SKILL.md");
  const frontmatter = skillMd ? parseSkillMd(skillMd.data) : undefined;
  const declared = typeof frontmatter === "object" ? frontmatter.name : undefined;
  if (declared !== undefined && declared !== content.slug) {
    ctx.warn(
      `${address}: SKILL.md names the skill "${declared}", but the API holds it as "${content.slug}"; the next plan replaces the skill unless SKILL.md's name is changed back to "${content.slug}"`,
    );
  }
  return declared !== undefined || content.slug === name ? name : `${name}/${content.slug}`;
}

/** The spec and folder for one live skill (see the module comment). */
function skillSpec(item: LiveItem, name: string, ctx: ExportContext): ExportedSpec {
  const skill = item.object;
  const content = item.content;
  if (!content) throw new Error(`skill ${skill.id} was not downloaded`); // fetch downloads every skill it keeps
  const address = `skill.${name}`;
  const display = parseSkillLabel(String(skill.display_name)).display;
  const folder = folderFor(name, content, address, ctx);
  const doc: SpecDocument = { apiVersion: "reconcile/v1", kind: "Skill", name, path: folder };
  if (display !== name) doc.display_name = display;
  if (display.length === 0 || display.length > MAX_DISPLAY_NAME || /[\r\n]/.test(display)) {
    ctx.warn(
      `${address}: its label ${JSON.stringify(display.slice(0, 120))} is not a spec display_name (one line, 1-${MAX_DISPLAY_NAME} characters), so validate refuses the spec; a new label would replace the skill (the API cannot relabel one)`,
    );
  }
  Object.assign(doc, commonFields(skill.metadata, true, address, ctx));
  return {
    document: doc,
    resources: [{ address, id: skill.id, owner: ownerFromMetadata(skill.metadata) }],
    tree: { folder, files: content.files.map((f) => ({ path: f.path, data: f.data })) },
  };
}

/** The `Skill` exporter (`skill_` ids; Anthropic's skills are not exported: they are named by id in agents). */
export const skillExporter: ResourceExporter = {
  kind: "Skill",
  type: "skill",
  idPrefixes: ["skill_"],
  async fetch(client: Anthropic, ids, ctx) {
    const skills = (
      ids === null
        ? await listCustomSkills(client)
        : await fetchByIds(ids, "skill", (id) => retrieveSkill(client, id), ctx)
    ).map((skill) => withOwnership("skill", skill));
    const limit = pLimit(DOWNLOAD_CONCURRENCY);
    return Promise.all(
      skills.map((object) =>
        otherStack(object, ctx)
          ? { object, children: [] }
          : limit(async () => ({ object, children: [], content: await download(client, object) })),
      ),
    );
  },
  wantedName: (item: LiveItem) =>
    nameFor(item.object, parseSkillLabel(String(item.object.display_name)).display, "skill"),
  toSpec: skillSpec,
};
