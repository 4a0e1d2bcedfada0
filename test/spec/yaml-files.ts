/** YAML files and helpers shared by the tests of parsing in worker threads and of the parse cache. */
import type { DataPath } from "../../src/spec/position.js";

export const V1 = "apiVersion: reconcile/v1";

/**
 * Files that exercise what `locate` follows: anchors, aliases, merge keys, flow style, several documents, values
 * JSON cannot hold (`.nan`, `-0`), and YAML and schema errors.
 */
export const FILES: Record<string, string> = {
  "agents/anchors.yaml": [
    V1,
    "kind: Agent",
    "name: anchors",
    "model: &m {id: claude-sonnet-4-6, effort: [high]}",
    "metadata: &meta",
    "  team: platform",
    "  tier: 7",
    "tools:",
    "  - &t {type: agent_toolset_20260401, configs: [{name: bash, permission_policy: sometimes}]}",
    "  - *t",
    "description: *m",
    "",
  ].join("\n"),
  "agents/merge.yaml": [
    V1,
    "kind: Agent",
    "name: merge",
    "model: claude-haiku-4-5",
    "base: &base {unknown_field: 1}",
    "metadata:",
    "  <<: *base",
    "  team: x",
    "---",
    V1,
    "kind: Agent",
    "name: second",
    "model: {id: 42}",
    "toolsets: [nope]",
    "---",
    "# only a comment",
    "",
  ].join("\n"),
  "agents/floats.yaml": `${V1}\nkind: Agent\nname: floats\nmodel: claude-haiku-4-5\nmetadata: {a: .nan, b: .inf, c: -.inf, d: -0.0, e: 0x1F}\n`,
  "agents/syntax.yaml": `${V1}\nkind: Agent\nname: [unclosed\nmodel: x\n`,
  "agents/dupe.yaml": `${V1}\nkind: Agent\nname: dupe\nname: again\nmodel: claude-haiku-4-5\n`,
  "agents/list.yaml": "- not\n- a mapping\n",
  "vaults/v.yaml": [
    V1,
    "kind: Vault",
    "name: v",
    "credentials:",
    "  - name: c",
    "    auth: {type: static_bearer, token: plain-text, toolset: missing}",
    "",
  ].join("\n"),
  "environments/e.yaml": `${V1}\nkind: Environment\nname: e\nconfig: {type: cloud, networking: {type: limited, allowed_hosts: [1, 2]}}\n`,
};

/** Every data path of a value, and one that leaves it, for each node. */
export function paths(value: unknown, base: DataPath = []): DataPath[] {
  const out: DataPath[] = [base, [...base, "absent"]];
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) out.push(...paths(v, [...base, i]));
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...base, k]));
  }
  return out;
}
