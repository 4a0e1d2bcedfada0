import { describe, expect, test } from "vitest";
import { errorLines, yaml } from "./helpers.js";

/** Every error at once: a file with a schema error still gets its reference errors checked (issue 10, item 4). */

const V1 = "apiVersion: reconcile/v1";
const toolset = (name: string) => yaml(V1, "kind: McpToolset", `name: ${name}`, `url: https://${name}.example.com/mcp`);

describe("a schema error and a reference error in one file", () => {
  test("an Agent reports both: the bad field and the unknown toolset", async () => {
    const lines = await errorLines({
      "toolsets/search.yaml": toolset("search"),
      "agents/a.yaml": yaml(
        V1,
        "kind: Agent",
        "name: a",
        "model: claude-haiku-4-5",
        "descriptoin: typo",
        "toolsets: [search, serach]",
      ),
    });
    expect(lines).toHaveLength(2);
    expect(lines.some((l) => l.includes("agents/a.yaml:5:") && l.includes("descriptoin"))).toBe(true);
    expect(lines).toContainEqual(
      expect.stringMatching(/^agents\/a\.yaml:6:\d+: Agent\/a: toolsets\[1\]: unknown McpToolset "serach"/),
    );
    expect(lines.join("\n")).toContain('did you mean "search"');
  });

  test("a Vault credential's unknown toolset is reported next to another credential's schema error", async () => {
    const lines = await errorLines({
      "vaults/v.yaml": yaml(
        V1,
        "kind: Vault",
        "name: v",
        "credentials:",
        "  - name: one",
        "    auth: {type: static_bearer, token: '${env:T}', toolset: nowhere}",
        "  - name: two",
        "    auth: {type: static_bearer}",
      ),
    });
    expect(lines.join("\n")).toContain('credentials[0].auth.toolset: unknown McpToolset "nowhere"');
    expect(lines.join("\n")).toMatch(/vaults\/v\.yaml:8:\d+: Vault\/v: credentials\[1\]\.auth/);
  });

  test("a reference whose own field is invalid, or names an invalid toolset, is not reported twice", async () => {
    const lines = await errorLines({
      "toolsets/broken.yaml": yaml(V1, "kind: McpToolset", "name: broken", "url: 42"),
      "agents/a.yaml": yaml(
        V1,
        "kind: Agent",
        "name: a",
        "model: claude-haiku-4-5",
        "extra: 1",
        "toolsets: [broken, 7]",
      ),
    });
    expect(lines.filter((l) => l.includes("unknown McpToolset"))).toEqual([]);
    expect(lines.some((l) => l.startsWith("agents/a.yaml:6:") && l.includes("toolsets[1]"))).toBe(true);
  });
});
