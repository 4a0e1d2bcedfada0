/**
 * Resolving `Skill` specs (the folder read and checked) and the `skills:` entries of `Agent` specs (Skill spec names
 * checked). `resolve.ts` dispatches here.
 */
import path from "node:path";
import { readSkillFolder } from "../providers/skill-content.js";
import { atPath, type DataPath, locate } from "./position.js";
import { didYouMean } from "./suggest.js";
import type { ResolvedAgentSkill, ResolvedSkill, SpecError } from "./types.js";
import type { ValidatedSpec } from "./validate.js";

type SkillSpec = Extract<ValidatedSpec, { kind: "Skill" }>;
type AgentSpec = Extract<ValidatedSpec, { kind: "Agent" }>;

/** The default version pin of an agent's skill (SDK `BetaManagedAgentsSkillParams.version`: "Defaults to latest"). */
export const LATEST = "latest";

function errorAt(spec: ValidatedSpec, at: DataPath, message: string): SpecError {
  return { location: locate(spec.document, at), kind: spec.kind, name: spec.spec.name, message: atPath(at, message) };
}

/**
 * Resolves one `Skill` spec: reads its folder (`path`, relative to the spec file, inside `root`) with
 * `readSkillFolder`, which refuses a folder outside the repository, a symlink leading out of it, a folder without
 * SKILL.md or without frontmatter `description`, a slug that is not kebab-case, and a folder past the limits. Every
 * such problem is one error located at the spec's `path` field.
 */
export async function resolveSkill(
  spec: SkillSpec,
  root: string,
): Promise<{ value?: ResolvedSkill; errors: SpecError[] }> {
  const s = spec.spec;
  const read = await readSkillFolder(root, path.dirname(spec.document.absolutePath), s.path);
  if (!read.ok) return { errors: [errorAt(spec, ["path"], read.message)] };
  return {
    errors: [],
    value: {
      kind: "Skill",
      name: s.name,
      display_name: s.display_name ?? s.name,
      path: read.folder,
      slug: read.slug,
      description: read.description,
      files: read.files,
      protect: s.protect ?? false,
      source: spec.document.location,
    },
  };
}

/** What an agent may name in `skills:`. */
export interface SkillNames {
  /** Every Skill spec name the repository declares, valid or not (for "did you mean"). */
  declared: ReadonlySet<string>;
  /** `Kind/name` of specs that exist but are invalid: a reference to one is neither resolved nor reported. */
  skipped: ReadonlySet<string>;
}

/**
 * An agent's `skills:` entries as `ResolvedAgentSkill`s, in spec order. Reports, at the entry: a `skill:` naming no
 * Skill spec (with "did you mean"), and the same skill twice (the API keeps one entry per `skill_id`).
 * @returns the skills, the errors, and whether every entry resolved (false also for a reference to an invalid spec)
 */
export function resolveAgentSkills(
  spec: AgentSpec,
  names: SkillNames,
): { skills: ResolvedAgentSkill[]; errors: SpecError[]; complete: boolean } {
  const skills: ResolvedAgentSkill[] = [];
  const errors: SpecError[] = [];
  const seen = new Map<string, number>();
  let complete = true;
  for (const [index, entry] of (spec.spec.skills ?? []).entries()) {
    const version = entry.version ?? LATEST;
    let resolved: ResolvedAgentSkill;
    let key: string;
    if ("skill" in entry) {
      if (!names.declared.has(entry.skill) || names.skipped.has(`Skill/${entry.skill}`)) {
        complete = false;
        if (!names.skipped.has(`Skill/${entry.skill}`)) {
          errors.push(
            errorAt(
              spec,
              ["skills", index, "skill"],
              `unknown Skill "${entry.skill}"${didYouMean(entry.skill, names.declared)}; name a Skill spec of this repository, or use \`anthropic: <id>\` for an Anthropic skill`,
            ),
          );
        }
        continue;
      }
      resolved = { type: "custom", skill: entry.skill, version };
      key = `skill:${entry.skill}`;
    } else if ("anthropic" in entry) {
      resolved = { type: "anthropic", skill_id: entry.anthropic, version };
      key = `anthropic:${entry.anthropic}`;
    } else {
      resolved = { type: entry.type, skill_id: entry.skill_id, version };
      key = `${entry.type}:${entry.skill_id}`;
    }
    const first = seen.get(key);
    if (first !== undefined) {
      errors.push(
        errorAt(
          spec,
          ["skills", index],
          `this skill is already listed (first at line ${locate(spec.document, ["skills", first]).line}); an agent has each skill once`,
        ),
      );
      continue;
    }
    seen.set(key, index);
    skills.push(resolved);
  }
  return { skills, errors, complete };
}
