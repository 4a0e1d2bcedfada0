import { symlink } from "node:fs/promises";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { formatSpecError, loadProject } from "../../src/spec/index.js";
import { writeRepo, yaml } from "./helpers.js";

const V1 = "apiVersion: reconcile/v1";
const SKILL_MD = yaml("---", "name: incident-runbook", "description: Handles incidents.", "---", "", "# Runbook");

describe("Skill specs", () => {
  test("resolve to the folder's files, slug and description; agents name them and Anthropic skills", async () => {
    const root = await writeRepo({
      "skills/incident-runbook/SKILL.md": SKILL_MD,
      "skills/incident-runbook/scripts/run.sh": "echo hi\n",
      "skills/runbook.yaml": yaml(
        V1,
        "kind: Skill",
        "name: runbook",
        "path: incident-runbook",
        "display_name: Runbook",
      ),
      "agents/a.yaml": yaml(
        V1,
        "kind: Agent",
        "name: a",
        "model: claude-haiku-4-5",
        "skills:",
        "  - skill: runbook",
        "  - anthropic: xlsx",
        "    version: '20251013'",
        "  - {type: custom, skill_id: skill_console}",
      ),
    });
    const { errors, specs } = await loadProject(root);
    expect(errors.map(formatSpecError)).toEqual([]);
    const skill = specs.skills?.[0];
    expect(skill).toMatchObject({
      name: "runbook",
      display_name: "Runbook",
      path: "skills/incident-runbook",
      slug: "incident-runbook",
      description: "Handles incidents.",
      protect: false,
    });
    expect(skill?.files.map((f) => f.path)).toEqual(["SKILL.md", "scripts/run.sh"]);
    expect(specs.agents[0]?.skills).toEqual([
      { type: "custom", skill: "runbook", version: "latest" },
      { type: "anthropic", skill_id: "xlsx", version: "20251013" },
      { type: "custom", skill_id: "skill_console", version: "latest" },
    ]);
  });

  test("folder problems are errors at `path`; unknown skill names get a suggestion", async () => {
    const root = await writeRepo({
      "skills/nomd/README.md": "x",
      "skills/bad.yaml": yaml(
        V1,
        "kind: Skill",
        "name: nomd",
        "path: nomd",
        "---",
        V1,
        "kind: Skill",
        "name: missing",
        "path: nowhere",
        "---",
        V1,
        "kind: Skill",
        "name: escape",
        "path: ../../etc",
        "---",
        V1,
        "kind: Skill",
        "name: archived",
        "path: nomd",
        "on_prune: archive",
      ),
      "agents/a.yaml": yaml(V1, "kind: Agent", "name: a", "model: m", "skills:", "  - skill: nmod", "  - skill: nomd"),
    });
    const lines = (await loadProject(root)).errors.map(formatSpecError);
    expect(lines).toEqual([
      'agents/a.yaml:6:12: Agent/a: skills[0].skill: unknown Skill "nmod" (did you mean "nomd"?); name a Skill spec of this repository, or use `anthropic: <id>` for an Anthropic skill',
      'skills/bad.yaml:4:7: Skill/nomd: path: the skill folder "nomd" has no SKILL.md at its root (the API requires one)',
      'skills/bad.yaml:9:7: Skill/missing: path: "nowhere" not found (looked for skills/nowhere)',
      'skills/bad.yaml:14:7: Skill/escape: path: "../../etc" points outside the repository root',
      "skills/bad.yaml:20:11: Skill/archived: on_prune: a skill cannot be archived: the API can only delete it; write `on_prune: delete` or leave it out",
    ]);
  });

  test("a symlink out of the repository is an error at `path`", async () => {
    const outside = await writeRepo({ "secret.txt": "secret" });
    const root = await writeRepo({
      "skills/s/SKILL.md": SKILL_MD,
      "skills/s.yaml": yaml(V1, "kind: Skill", "name: s", "path: s"),
    });
    await symlink(path.join(outside, "secret.txt"), path.join(root, "skills/s/leak.txt"));
    const lines = (await loadProject(root)).errors.map(formatSpecError);
    expect(lines).toEqual([
      expect.stringMatching(/^skills\/s\.yaml:4:7: Skill\/s: path: .*leak\.txt is a symlink .*outside the repository/),
    ]);
  });
});
