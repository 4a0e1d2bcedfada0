import { describe, expect, test } from "vitest";
import { formatSpecError, loadProject } from "../../src/spec/index.js";
import { errorLines, writeRepo, yaml } from "./helpers.js";

const V1 = "apiVersion: reconcile/v1";
const agent = (name: string, ...more: string[]) => yaml(V1, "kind: Agent", `name: ${name}`, "model: m", ...more);
const credential = (name: string, ...more: string[]) => [
  `  - name: ${name}`,
  ...more,
  "    auth: {type: static_bearer, mcp_server_url: 'https://mcp.example.com/mcp', token: '${env:T}'}",
];

describe("previous_names", () => {
  test("are resolved on agents, environments, vaults and credentials; the default is none", async () => {
    const { errors, specs } = await loadProject(
      await writeRepo({
        "agents/a.yaml": agent("support", "previous_names: [helpdesk, support-v1]"),
        "agents/b.yaml": agent("other"),
        "environments/e.yaml": yaml(
          V1,
          "kind: Environment",
          "name: sandbox",
          "config: {type: self_hosted}",
          "previous_names: [box]",
        ),
        "vaults/v.yaml": yaml(
          V1,
          "kind: Vault",
          "name: vault",
          "previous_names: [secrets]",
          "credentials:",
          ...credential("token", "    previous_names: [old-token]"),
          ...credential("other"),
        ),
      }),
    );
    expect(errors).toEqual([]);
    expect(specs.agents.map((a) => [a.name, a.previous_names])).toEqual([
      ["other", []],
      ["support", ["helpdesk", "support-v1"]],
    ]);
    expect(specs.environments[0]?.previous_names).toEqual(["box"]);
    expect(specs.vaults[0]?.previous_names).toEqual(["secrets"]);
    expect(specs.vaults[0]?.credentials.map((c) => [c.name, c.previous_names])).toEqual([
      ["other", []],
      ["token", ["old-token"]],
    ]);
  });

  test("a previous name must point at one spec of its kind only, and not at a spec that exists", async () => {
    const root = await writeRepo({
      "agents/a.yaml": agent("a", "previous_names: [a, old]"),
      "agents/b.yaml": agent("b", "previous_names:", "  - c", "  - old"),
      "agents/c.yaml": agent("c"),
      // Another kind may reuse the name: names are unique per kind.
      "environments/e.yaml": yaml(V1, "kind: Environment", "name: e", "config: {type: cloud}", "previous_names: [old]"),
    });
    const { errors, specs } = await loadProject(root);
    expect(errors.map(formatSpecError)).toEqual([
      `agents/a.yaml:5:18: Agent/a: previous_names[0]: "a" is this spec's own name: list only the names it had before`,
      'agents/b.yaml:6:5: Agent/b: previous_names[0]: another Agent is named "c" (defined at agents/c.yaml:1:1): a spec can only take over the resource of a name no spec uses any more',
      'agents/b.yaml:7:5: Agent/b: previous_names[1]: "old" is also a previous name of Agent "a" (at agents/a.yaml:5:21): only one spec can take over its resource',
    ]);
    expect(specs.agents.map((a) => a.name)).toEqual(["c"]);
    expect(specs.environments.map((e) => e.previous_names)).toEqual([["old"]]);
  });

  test("a previous name may not be the name of an invalid spec either", async () => {
    expect(
      await errorLines({
        "a.yaml": agent("a", "previous_names: [broken]"),
        "b.yaml": yaml(V1, "kind: Agent", "name: broken"),
      }),
    ).toEqual([
      'a.yaml:5:18: Agent/a: previous_names[0]: another Agent is named "broken": a spec can only take over the resource of a name no spec uses any more',
      'b.yaml:1:1: Agent/broken: missing required field "model"',
    ]);
  });

  test("the credentials of a vault follow the same rules among themselves", async () => {
    expect(
      await errorLines({
        "v.yaml": yaml(
          V1,
          "kind: Vault",
          "name: v",
          "credentials:",
          ...credential("a", "    previous_names: [a, old]"),
          ...credential("b", "    previous_names: [c, old]"),
          ...credential("c"),
        ),
      }),
    ).toEqual([
      `v.yaml:6:22: Vault/v: credentials[0].previous_names[0]: "a" is this credential's own name: list only the names it had before`,
      'v.yaml:9:22: Vault/v: credentials[1].previous_names[0]: another credential of this vault is named "c": a credential can only take over a name no credential uses any more',
      'v.yaml:9:25: Vault/v: credentials[1].previous_names[1]: "old" is also a previous name of credential "a" (at line 6): only one credential can take it over',
    ]);
  });

  test("the schema checks the form: spec names, listed once, not on toolsets", async () => {
    expect(
      await errorLines({
        "a.yaml": agent("a", "previous_names: [Old_Name, x, x]"),
        "t.yaml": yaml(V1, "kind: McpToolset", "name: t", "url: https://t.example.com", "previous_names: [u]"),
      }),
    ).toEqual([
      "a.yaml:5:18: Agent/a: previous_names[0]: must be 1-64 lowercase letters, digits and '-', starting and ending with a letter or digit",
      'a.yaml:5:31: Agent/a: previous_names: "x" is listed twice (items 2 and 3)',
      't.yaml:5:1: McpToolset/t: unknown field "previous_names" (allowed: apiVersion, kind, name, description, url, tunnel, host, path, server_name, default_permission_policy, tools)',
    ]);
  });
});
