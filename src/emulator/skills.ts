import type { BetaSkill, BetaSkillSource } from "@anthropic-ai/sdk/resources/beta/skills/skills.js";
import type { BetaDeletedSkillVersion, BetaSkillVersion } from "@anthropic-ai/sdk/resources/beta/skills/versions.js";
import { zipSync } from "fflate";
import { parse as parseYaml } from "yaml";
import { ApiError, badRequest, notFound } from "./errors.js";
import { newId } from "./ids.js";
import { type Page, type PageRequest, paginate, queryValue } from "./pagination.js";
import { SimpleResource } from "./resource.js";
import type { RawResponse } from "./session-runtime.js";
import type { SkillRecord, StoredSkillFile, Workspace } from "./store.js";
import { clone, fieldError, isObj } from "./validate.js";

/**
 * Skills (`/v1/skills`) and their versions (`/v1/skills/{id}/versions`), as the SDK calls them
 * (`resources/beta/skills/{skills,versions}.js`, beta `skills-2025-10-02`, which the SDK does not add by itself: the
 * caller passes `betas`). Uploads are `multipart/form-data` with one `files[]` part per file, its filename the path
 * inside the skill (the SDK sends skills' filenames unstripped); the server parses them with `@fastify/multipart`
 * (`server.ts`) and hands this module `MultipartBody`.
 *
 * Rules and their sources (docs/adr/0020-emulator-rules-cite-sources.md):
 * - SDK `SkillCreateParams.files`: "All files must be in the same top-level directory and must include a SKILL.md
 *   file at the root of that directory." Files at the upload's root, or under two top-level directories, are 400s.
 * - SDK `BetaSkillVersion.name`: "The Skill's immutable kebab-case slug, set at creation from the first upload's
 *   SKILL.md frontmatter `name` (or its enclosing directory). Every later upload must resolve to the same value."
 *   A slug that is not kebab-case, or a new version whose slug differs, is a 400.
 * - SDK `BetaSkillVersion.description`: "extracted from the SKILL.md file": a SKILL.md without YAML frontmatter, or
 *   whose frontmatter has no non-empty `description`, is a 400.
 * - SDK `BetaSkill.display_name`: "single-line label … Maximum 255 characters … derived from the SKILL.md
 *   frontmatter `name` when omitted at creation. Not unique."
 * - SDK `BetaSkill.latest_version_id`: "Always set: a Skill holds at least one version." So deleting a skill deletes
 *   its versions, and deleting its last version is refused (use delete on the skill).
 * - SDK `BetaSkillSource`: `anthropic` skills are "shared and read-only": listed (`source=anthropic`, or no filter)
 *   and readable, never written. Their ids are short names (`xlsx`, `pdf`, `docx`, `pptx`) and their versions
 *   date-based (public docs, "Using Skills with the API": "Skill IDs: Short names: pptx, xlsx, docx, pdf"; "Version
 *   format: Date-based … Epoch timestamp … for custom skills").
 * - Assumed (no source found; kept so a runaway upload is refused, values from the public skills guide as
 *   remembered, not verified): at most `MAX_SKILL_BYTES` bytes of files per upload, `MAX_SKILL_FILES` files, slug at
 *   most 64 characters and description at most 1024 (the Agent Skills format's limits), path traversal (`..`,
 *   absolute paths, backslashes, empty segments) and duplicate paths refused.
 */

/** The beta every skills route requires (SDK `AnthropicBeta` `skills-2025-10-02`; docs: "Enables Skills API"). */
export const SKILLS_BETA = "skills-2025-10-02";

/** Assumed: the largest total size of one upload's files, in bytes (the skills guide's 8 MB, as remembered). */
export const MAX_SKILL_BYTES = 8 * 1024 * 1024;
/** Assumed: the most files one upload may hold. */
export const MAX_SKILL_FILES = 1000;
/** The Agent Skills format's limits on the frontmatter `name` and `description` (assumed for the API). */
const MAX_SLUG = 64;
const MAX_DESCRIPTION = 1024;
/** SDK: "kebab-case slug". */
const KEBAB = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** One file part of a multipart request, as `server.ts` collects them. */
export interface UploadedFile {
  field: string;
  filename: string;
  data: Buffer;
}

/** A parsed `multipart/form-data` body: text fields by name (each value in order) and file parts in order. */
export interface MultipartBody {
  multipart: true;
  fields: Record<string, string[]>;
  files: UploadedFile[];
}

/** True for a body `server.ts` parsed from multipart. */
export function isMultipartBody(v: unknown): v is MultipartBody {
  return isObj(v) && v.multipart === true && Array.isArray(v.files);
}

/** Anthropic's skills as the emulator lists them (read-only, the same in every workspace). */
const ANTHROPIC_SKILLS: ReadonlyArray<{ id: string; display_name: string; description: string }> = [
  { id: "docx", display_name: "Word documents", description: "Create and edit Word documents." },
  { id: "pdf", display_name: "PDF", description: "Read, create and fill PDF files." },
  { id: "pptx", display_name: "PowerPoint presentations", description: "Create and edit presentations." },
  { id: "xlsx", display_name: "Excel spreadsheets", description: "Create and analyse spreadsheets." },
];
/** The date-based version of every Anthropic skill in the emulator (docs example `20251013`). */
const ANTHROPIC_VERSION = "20251013";
const ANTHROPIC_CREATED = "2025-10-02T00:00:00.000000Z";

function anthropicSkill(id: string): { skill: BetaSkill; version: BetaSkillVersion } | undefined {
  const found = ANTHROPIC_SKILLS.find((s) => s.id === id);
  if (!found) return undefined;
  return {
    skill: {
      type: "skill",
      id: found.id,
      display_name: found.display_name,
      latest_version_id: ANTHROPIC_VERSION,
      source: { type: "anthropic" },
      created_at: ANTHROPIC_CREATED,
      updated_at: ANTHROPIC_CREATED,
    },
    version: {
      type: "skill_version",
      id: ANTHROPIC_VERSION,
      skill_id: found.id,
      name: found.id,
      description: found.description,
      created_at: ANTHROPIC_CREATED,
    },
  };
}

function readOnly(id: string): ApiError {
  // Status assumed: the SDK says Anthropic skills are "shared and read-only", not how a write is refused.
  return badRequest(`skill '${id}' is an Anthropic skill: shared and read-only`);
}

/**
 * Custom skills (`/v1/skills`, beta `skills-2025-10-02`): no archive, no update; delete deletes the versions with the
 * skill. Each record keeps the skill's versions. Create (multipart), retrieve and list (Anthropic's skills too) have
 * their own functions below. Anthropic's skills are not in the workspace: a write naming one is refused as read-only.
 */
export const SKILLS = new SimpleResource<BetaSkill, SkillRecord>({
  noun: "skill",
  type: "skill",
  idPrefix: "skill",
  collection: "skills",
  beta: SKILLS_BETA,
  archivable: false,
  deletable: true,
  records: (ws) => ws.skills,
  object: (rec) => rec.skill,
  missing: (id) => (anthropicSkill(id) ? readOnly(id) : notFound(`skill '${id}' not found`)),
});

/** The custom skill `id` of `ws`. @throws 404 (400 for an Anthropic skill, which is read-only). */
function getSkill(ws: Workspace, id: string): SkillRecord {
  return SKILLS.get(ws, id);
}

/** A version id: the request's timestamp as epoch microseconds (docs: "Epoch timestamp: 1759178010641129"). */
function versionId(now: string, rec: SkillRecord | undefined): string {
  const m = /^(.*\.\d{3})(\d{3})Z$/.exec(now);
  let micros = m ? BigInt(Date.parse(`${m[1]}Z`)) * 1000n + BigInt(m[2] ?? "0") : BigInt(Date.parse(now)) * 1000n;
  for (const v of rec?.versions ?? []) if (BigInt(v.version.id) >= micros) micros = BigInt(v.version.id) + 1n;
  return micros.toString();
}

/** What an upload resolves to: the skill's slug, the SKILL.md description, and the files below the top directory. */
interface ParsedUpload {
  name: string;
  description: string;
  files: StoredSkillFile[];
}

/** `text`'s leading YAML frontmatter (`---` … `---`) as an object, or undefined when there is none. */
function frontmatter(text: string): Record<string, unknown> | undefined {
  const m = /^\uFEFF?---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(\r?\n|$)/.exec(text);
  if (!m) return undefined;
  try {
    const data = parseYaml(m[1] ?? "") as unknown;
    return isObj(data) ? data : undefined;
  } catch {
    return undefined;
  }
}

/** Checks one upload's `files[]` parts (see the module comment) and returns what it resolves to. @throws 400. */
function parseUpload(files: readonly UploadedFile[]): ParsedUpload {
  if (files.length === 0) throw fieldError("files", "Field required");
  if (files.length > MAX_SKILL_FILES) throw fieldError("files", `at most ${MAX_SKILL_FILES} files per upload`);
  let total = 0;
  let top: string | undefined;
  const seen = new Set<string>();
  const stored: StoredSkillFile[] = [];
  let skillMd: Buffer | undefined;
  for (const [i, file] of files.entries()) {
    const where = `files.${i}`;
    const name = file.filename;
    const segments = name.split("/");
    if (
      name === "" ||
      name.includes("\\") ||
      name.startsWith("/") ||
      segments.some((s) => s === "" || s === "." || s === "..") ||
      // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters in paths is the point.
      /[\u0000-\u001f\u007f]/.test(name)
    ) {
      throw fieldError(
        where,
        "file names must be relative paths inside the skill's directory (no '..', no '/' at the start)",
      );
    }
    if (segments.length < 2) {
      throw fieldError(where, "All files must be in the same top-level directory (this file is at the upload's root)");
    }
    const dir = segments[0] as string;
    if (top !== undefined && dir !== top) {
      throw fieldError(where, "All files must be in the same top-level directory");
    }
    top = dir;
    const path = segments.slice(1).join("/");
    if (seen.has(path)) throw fieldError(where, "the same file path is uploaded twice");
    seen.add(path);
    total += file.data.length;
    if (total > MAX_SKILL_BYTES) {
      throw new ApiError(
        413,
        "request_too_large",
        `the files of one skill upload may total at most ${MAX_SKILL_BYTES} bytes`,
      );
    }
    if (path === "SKILL.md") skillMd = file.data;
    stored.push({ path, data: file.data.toString("base64") });
  }
  if (!skillMd) throw fieldError("files", "must include a SKILL.md file at the root of the top-level directory");
  const meta = frontmatter(skillMd.toString("utf8"));
  if (!meta) throw fieldError("files", "SKILL.md must start with YAML frontmatter (--- name, description ---)");
  const description = meta.description;
  if (typeof description !== "string" || description.trim() === "") {
    throw fieldError("files", "SKILL.md frontmatter needs a non-empty `description`");
  }
  if (description.length > MAX_DESCRIPTION) {
    throw fieldError("files", `SKILL.md frontmatter \`description\` is longer than ${MAX_DESCRIPTION} characters`);
  }
  const declared = meta.name;
  if (declared !== undefined && typeof declared !== "string") {
    throw fieldError("files", "SKILL.md frontmatter `name` must be a string");
  }
  const name = declared ?? (top as string);
  if (!KEBAB.test(name) || name.length > MAX_SLUG) {
    throw fieldError(
      "files",
      `the skill's name (SKILL.md frontmatter \`name\`, or its directory) must be a kebab-case slug of at most ${MAX_SLUG} characters`,
    );
  }
  stored.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { name, description, files: stored };
}

function fileParts(body: MultipartBody): UploadedFile[] {
  for (const f of body.files) {
    if (f.field !== "files[]" && f.field !== "files") throw fieldError(f.field, "Extra inputs are not permitted");
  }
  return body.files;
}

function multipart(body: unknown): MultipartBody {
  if (!isMultipartBody(body)) throw badRequest("send the skill's files as multipart/form-data (`files[]` parts)");
  return body;
}

function onlyFields(body: MultipartBody, allowed: readonly string[]): void {
  for (const key of Object.keys(body.fields)) {
    if (!allowed.includes(key)) throw fieldError(key, "Extra inputs are not permitted");
  }
}

/** The single value of text field `name`, or undefined. @throws 400 when sent twice. */
function field(body: MultipartBody, name: string): string | undefined {
  const values = body.fields[name];
  if (values === undefined) return undefined;
  if (values.length !== 1) throw fieldError(name, "expected a single value");
  return values[0];
}

function newVersion(rec: SkillRecord | undefined, skillId: string, upload: ParsedUpload, now: string) {
  const version: BetaSkillVersion = {
    type: "skill_version",
    id: versionId(now, rec),
    skill_id: skillId,
    name: upload.name,
    description: upload.description,
    created_at: now,
  };
  return { version, files: upload.files };
}

/**
 * Creates a custom skill and its first version (`POST /v1/skills`, multipart: `files[]`, optional `display_name`).
 * @throws 400 for the rules of the module comment; 413 over `MAX_SKILL_BYTES`.
 */
export function createSkill(ws: Workspace, body: unknown, now: string): BetaSkill {
  const form = multipart(body);
  onlyFields(form, ["display_name"]);
  const upload = parseUpload(fileParts(form));
  const displayName = field(form, "display_name");
  if (displayName !== undefined) {
    if (displayName.length < 1 || displayName.length > 255) {
      throw fieldError("display_name", "String should have between 1 and 255 characters");
    }
    if (/[\r\n]/.test(displayName)) throw fieldError("display_name", "must be a single line");
  }
  const id = newId("skill");
  const first = newVersion(undefined, id, upload, now);
  const skill: BetaSkill = {
    type: "skill",
    id,
    display_name: displayName ?? upload.name,
    latest_version_id: first.version.id,
    source: { type: "custom" },
    created_at: now,
    updated_at: now,
  };
  ws.skills.set(id, { skill, versions: [first] });
  return clone(skill);
}

/** Reads a skill (`GET /v1/skills/:id`): custom, or one of Anthropic's. @throws 404. */
export function retrieveSkill(ws: Workspace, id: string): BetaSkill {
  const rec = ws.skills.get(id);
  if (rec) return clone(rec.skill);
  const anthropic = anthropicSkill(id);
  if (anthropic) return anthropic.skill;
  throw notFound(`skill '${id}' not found`);
}

/**
 * Lists skills (`GET /v1/skills`), newest first: custom and Anthropic ones, or only those whose `source.type` equals
 * the `source` query ("custom", "anthropic"; SDK `SkillListParams.source`).
 */
export function listSkills(
  ws: Workspace,
  query: Record<string, unknown>,
  page: PageRequest,
  now: string,
): Page<BetaSkill> {
  const source = queryValue(query, "source");
  const all: BetaSkill[] = [
    ...[...ws.skills.values()].map((r) => r.skill),
    ...ANTHROPIC_SKILLS.map((s) => anthropicSkill(s.id)?.skill as BetaSkill),
  ];
  const items = all.filter(
    (s) => source === undefined || source === "" || (s.source as BetaSkillSource).type === source,
  );
  return SKILLS.page(items, page, now, `skills:${source ?? ""}`);
}

/**
 * Uploads a new version (`POST /v1/skills/:id/versions`, multipart `files[]`), which becomes `latest_version_id`.
 * @throws 404; 400 for the upload rules, and when its slug differs from the skill's.
 */
export function createSkillVersion(ws: Workspace, id: string, body: unknown, now: string): BetaSkillVersion {
  const rec = getSkill(ws, id);
  const form = multipart(body);
  onlyFields(form, []);
  const upload = parseUpload(fileParts(form));
  const slug = rec.versions[0]?.version.name;
  if (slug !== undefined && upload.name !== slug) {
    throw fieldError(
      "files",
      `the skill's name is '${slug}' and cannot change: every upload must resolve to the same name (SKILL.md frontmatter \`name\`, or its directory)`,
    );
  }
  const created = newVersion(rec, id, upload, now);
  rec.versions.push(created);
  rec.skill = { ...rec.skill, latest_version_id: created.version.id, updated_at: now };
  return clone(created.version);
}

function getVersion(ws: Workspace, skillId: string, version: string) {
  const anthropic = anthropicSkill(skillId);
  if (!ws.skills.has(skillId) && anthropic) {
    if (version === anthropic.version.id) return { version: anthropic.version, files: undefined };
    throw notFound(`version '${version}' of skill '${skillId}' not found`);
  }
  const rec = ws.skills.get(skillId);
  if (!rec) throw notFound(`skill '${skillId}' not found`);
  const found = rec.versions.find((v) => v.version.id === version);
  if (!found) throw notFound(`version '${version}' of skill '${skillId}' not found`);
  return found;
}

/** Reads one version (`GET /v1/skills/:id/versions/:version`). @throws 404. */
export function retrieveSkillVersion(ws: Workspace, skillId: string, version: string): BetaSkillVersion {
  return clone(getVersion(ws, skillId, version).version);
}

/** Lists a skill's versions (`GET /v1/skills/:id/versions`), newest first. @throws 404. */
export function listSkillVersions(ws: Workspace, skillId: string, page: PageRequest): Page<BetaSkillVersion> {
  const rec = ws.skills.get(skillId);
  const anthropic = anthropicSkill(skillId);
  if (!rec && !anthropic) throw notFound(`skill '${skillId}' not found`);
  const items = rec ? rec.versions.map((v) => v.version) : [anthropic?.version as BetaSkillVersion];
  const result = paginate(items, (v) => [v.created_at, v.id], page, `skill-versions:${skillId}`);
  return { data: result.data.map(clone), next_page: result.next_page };
}

/**
 * Deletes one version (`DELETE /v1/skills/:id/versions/:version`); the newest remaining one becomes
 * `latest_version_id`. @throws 404; 400 for the last version (a skill holds at least one: delete the skill).
 */
export function deleteSkillVersion(
  ws: Workspace,
  skillId: string,
  version: string,
  now: string,
): BetaDeletedSkillVersion {
  const rec = getSkill(ws, skillId);
  const index = rec.versions.findIndex((v) => v.version.id === version);
  if (index === -1) throw notFound(`version '${version}' of skill '${skillId}' not found`);
  if (rec.versions.length === 1) {
    throw badRequest("a skill holds at least one version: this is its last one; delete the skill instead");
  }
  rec.versions.splice(index, 1);
  const newest = rec.versions[rec.versions.length - 1];
  if (newest && rec.skill.latest_version_id !== newest.version.id) {
    rec.skill = { ...rec.skill, latest_version_id: newest.version.id, updated_at: now };
  }
  return { id: version, type: "skill_version_deleted" };
}

/**
 * A version's files as a zip archive (`GET /v1/skills/:id/versions/:version/content`): every file under the skill's
 * slug directory (SDK: the slug is "the top-level directory of the Skill's mounted files and the base name of a
 * downloaded archive"), built with fflate. @throws 404 (also for Anthropic skills, whose content the emulator lacks).
 */
export function downloadSkillVersion(ws: Workspace, skillId: string, version: string): RawResponse {
  const found = getVersion(ws, skillId, version);
  if (!found.files) throw notFound(`the emulator holds no content for Anthropic skill '${skillId}'`);
  const slug = found.version.name;
  const entries: Record<string, Uint8Array> = {};
  for (const f of found.files) entries[`${slug}/${f.path}`] = Buffer.from(f.data, "base64");
  const bytes = Buffer.from(zipSync(entries, { level: 6, mtime: found.version.created_at }));
  return {
    raw: true,
    write(_req, res, headers) {
      const inherited = Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)) as Record<
        string,
        string | number | string[]
      >;
      res.writeHead(200, {
        ...inherited,
        "content-type": "application/zip",
        "content-length": bytes.length,
        "content-disposition": `attachment; filename="${slug}.zip"`,
      });
      res.end(bytes);
    },
  };
}
