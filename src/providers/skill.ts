/**
 * The `skill` provider: `Skill` specs ↔ `/v1/skills` (SDK `client.beta.skills`, types `SkillCreateParams`,
 * `VersionCreateParams`, `BetaSkill`, `BetaSkillVersion`; every call sends the `skills-2025-10-02` beta, which the
 * SDK does not add by itself).
 *
 * A skill has no metadata and no update: its label (`display_name`) is set once, at creation, and its content
 * changes by uploading a new version. So (docs/adr/0021-skill-identity.md):
 * - Ownership lives in the label: `<display_name> [rc:<stack>/<name>[:protect]:<checksum>]` (`skillLabel`), read
 *   back by `metadataOf` as the usual ownership keys. The engine cannot write it later (`recordsOwnership: false`):
 *   an `adopt:` entry for a console skill stays in reconcile.yaml, and is the record of ownership.
 * - Live state is the latest version's files: `list` downloads the zip of `latest_version_id` of every skill that
 *   carries a reconcile label (one request each), `retrieve` of the one it reads. Desired state is the folder's
 *   files. Both are hashed by `skill-content.ts`, keyed by path (`files["scripts/run.sh"]`), so the plan names every
 *   file added, changed or removed.
 * - An update uploads a new version, only when `files` differ; old versions are kept. The label and the slug
 *   (SKILL.md's `name`) cannot change: a change replaces the skill (create the new one, then delete the old).
 * - Prune deletes (the API cannot archive a skill; deleting a skill deletes its versions).
 */
import { createHash } from "node:crypto";
import type Anthropic from "@anthropic-ai/sdk";
import { toFile } from "@anthropic-ai/sdk";
import pLimit from "p-limit";
import type { ResolvedSkill } from "../spec/types.js";
import { archiveObject, listObjects, readBytes, readObject, writeObject, writeSkillVersion } from "./client.js";
import { OWNERSHIP_KEYS, ownershipMetadata } from "./ownership.js";
import { desiredResource } from "./resource.js";
import { normalizeContent, readSkillZip, type SkillFile, skillContent } from "./skill-content.js";
import type { ApiObject, ComparableState, Provider } from "./types.js";

/** The beta every skills call sends (SDK `AnthropicBeta`; the skills docs: "skills-2025-10-02 - Enables Skills API"). */
export const SKILLS_BETAS = ["skills-2025-10-02"];

/** Parallel zip downloads while listing (the same bound observe uses for child lists). */
const DOWNLOAD_CONCURRENCY = 8;

/** The checksum in a label: 8 hex digits of SHA-256 over the owner, so a hand-typed look-alike is not ours. */
function checksum(stack: string, name: string, protect: boolean): string {
  return createHash("sha256")
    .update(`reconcile\0${stack}\0${name}\0${protect ? "protect" : ""}`)
    .digest("hex")
    .slice(0, 8);
}

const MARKER = / \[rc:([a-z0-9-]{1,63})\/([a-z0-9-]{1,64})(:protect)?:([0-9a-f]{8})\]$/;

/**
 * The label reconcile gives a skill it creates: `display` and the ownership marker
 * ` [rc:<stack>/<name>[:protect]:<checksum>]` (at most 151 characters, so `display` may use 100 of the API's 255).
 */
export function skillLabel(display: string, stack: string, name: string, protect: boolean): string {
  return `${display} [rc:${stack}/${name}${protect ? ":protect" : ""}:${checksum(stack, name, protect)}]`;
}

/** A label read back: the part a person chose, and the owner when the marker is reconcile's (checksum matching). */
export function parseSkillLabel(label: string): {
  display: string;
  owner?: { stack: string; name: string; protect: boolean };
} {
  const m = MARKER.exec(label);
  if (!m) return { display: label };
  const [, stack = "", name = "", protect, sum] = m;
  if (checksum(stack, name, protect !== undefined) !== sum) return { display: label };
  return { display: label.slice(0, m.index), owner: { stack, name, protect: protect !== undefined } };
}

/** The live content `list`/`retrieve` attach to a skill object: the latest version's slug and file hashes. */
interface LiveContent {
  slug: string;
  files: Record<string, string>;
}

const CONTENT = "reconcile_content";

/** Comparable form of a skill: its label (without reconcile's marker), slug and per-file hashes. */
export function skillState(display: string, slug: string, files: Record<string, string>): ComparableState {
  return { display_name: display, name: slug, files: { ...files } };
}

/** The zip archive of `skill`'s latest version (`versions.download`), unread. @throws the request layer's errors */
export function downloadLatestArchive(client: Anthropic, skill: ApiObject): Promise<Buffer> {
  const version = String(skill.latest_version_id);
  const request = `GET /v1/skills/${skill.id}/versions/${version}/content`;
  return readBytes(client, request, (o) =>
    client.beta.skills.versions.download(version, { skill_id: skill.id, betas: SKILLS_BETAS }, o),
  );
}

/** Downloads the zip of `skill`'s latest version and hashes it (`readSkillZip`, `skillContent`). */
async function liveContent(client: Anthropic, skill: ApiObject): Promise<LiveContent> {
  const read = readSkillZip(await downloadLatestArchive(client, skill));
  return { slug: read.slug, files: skillContent(read.files).files };
}

/** Every custom skill (all pages of `GET /v1/skills?source=custom`), without content. */
export function listCustomSkills(client: Anthropic): Promise<ApiObject[]> {
  return listObjects(client, "skill", "/v1/skills?source=custom", (query, o) =>
    client.beta.skills.list({ ...query, source: "custom", betas: SKILLS_BETAS }, o),
  );
}

/** The skill `id` (`GET /v1/skills/{id}`), without content. */
export function retrieveSkill(client: Anthropic, id: string): Promise<ApiObject> {
  return readObject(client, "skill", `GET /v1/skills/${id}`, (o) =>
    client.beta.skills.retrieve(id, { betas: SKILLS_BETAS }, o),
  );
}

/** The files of a resolved spec as the SDK uploads them: `<slug>/<path>`, text with LF line endings. */
async function uploads(spec: ResolvedSkill): Promise<File[]> {
  return Promise.all(
    spec.files.map((f: SkillFile) => toFile(Buffer.from(normalizeContent(f.data)), `${spec.slug}/${f.path}`)),
  );
}

/** The skill provider (see the module comment). */
export const skillProvider: Provider = {
  type: "skill",
  replaceOrder: "create-first",
  // Neither the label nor the slug can change (no update; SDK `BetaSkillVersion.name`: "Every later upload must
  // resolve to the same value"); protection lives in the label.
  replaceOn: ["display_name", "name", "protect"],
  recordsOwnership: false,
  outputsChangedByUpdate: ["latest_version_id"],
  desired(specs) {
    return (specs.skills ?? []).map((spec) =>
      desiredResource({
        type: "skill",
        name: spec.name,
        previousNames: [],
        state: skillState(spec.display_name, spec.slug, skillContent(spec.files).files),
        protect: spec.protect,
        source: spec.source,
        spec,
      }),
    );
  },
  async list(client) {
    const skills = await listCustomSkills(client);
    const limit = pLimit(DOWNLOAD_CONCURRENCY);
    return Promise.all(
      skills.map((skill) =>
        parseSkillLabel(String(skill.display_name)).owner
          ? limit(async () => ({ ...skill, [CONTENT]: await liveContent(client, skill) }))
          : skill,
      ),
    );
  },
  async retrieve(client, id) {
    const skill = await retrieveSkill(client, id);
    return { ...skill, [CONTENT]: await liveContent(client, skill) };
  },
  state(object) {
    const content = object[CONTENT] as LiveContent | undefined;
    return skillState(parseSkillLabel(String(object.display_name)).display, content?.slug ?? "", content?.files ?? {});
  },
  metadataOf(object) {
    const owner = parseSkillLabel(String(object.display_name)).owner;
    return owner ? ownershipMetadata(owner.stack, owner.name, owner.protect ? "protect" : null) : undefined;
  },
  outputs: (object) => ({ latest_version_id: String(object.latest_version_id) }),
  async create(client, desired, ctx, ownership) {
    const spec = desired.spec as ResolvedSkill;
    const protect = ownership[OWNERSHIP_KEYS.lifecycle] === "protect";
    const files = await uploads(spec);
    const skill = await writeObject(client, "skill", "POST /v1/skills", (o) =>
      client.beta.skills.create(
        { display_name: skillLabel(spec.display_name, ctx.stack, desired.name, protect), files, betas: SKILLS_BETAS },
        o,
      ),
    );
    return {
      id: skill.id,
      ...(typeof skill.latest_version_id === "string"
        ? { outputs: { latest_version_id: skill.latest_version_id } }
        : {}),
    };
  },
  async update(client, desired, live, request) {
    // Only the files can change in place (the other fields force a replacement); ownership cannot be written.
    if (!request.fields.includes("files")) return { id: live.id };
    const spec = desired.spec as ResolvedSkill;
    const files = await uploads(spec);
    const version = await writeSkillVersion(client, `POST /v1/skills/${live.id}/versions`, (o) =>
      client.beta.skills.versions.create(live.id, { files, betas: SKILLS_BETAS }, o),
    );
    return { id: live.id, outputs: { latest_version_id: version.id } };
  },
  async delete(client, live) {
    await archiveObject(client, "skill", `DELETE /v1/skills/${live.id}`, (o) =>
      client.beta.skills.delete(live.id, { betas: SKILLS_BETAS }, o),
    );
  },
};
