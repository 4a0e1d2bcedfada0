import { describe, expect, test } from "vitest";
import { loadProject } from "../../src/spec/index.js";
import { errorLines, writeRepo, yaml } from "./helpers.js";

const V1 = "apiVersion: reconcile/v1";
const tunnel = (name: string, ...more: string[]) => yaml(V1, "kind: Tunnel", `name: ${name}`, ...more);
const toolset = (name: string, ...more: string[]) => yaml(V1, "kind: McpToolset", `name: ${name}`, ...more);
const agent = (name: string, ...more: string[]) =>
  yaml(V1, "kind: Agent", `name: ${name}`, "model: claude-haiku-4-5", ...more);

describe("Tunnel specs", () => {
  test("resolve with defaults, and a toolset behind one resolves to the tunnel form", async () => {
    const { specs, errors } = await loadProject(
      await writeRepo({
        "tunnels/corp.yaml": tunnel("corp"),
        "tunnels/lab.yaml": tunnel("lab", "display_name: Lab network", "protect: true"),
        "toolsets/db.yaml": toolset("db", "tunnel: corp", "host: db-mcp", "path: /mcp"),
        "toolsets/wiki.yaml": toolset("wiki", "tunnel: lab", "host: wiki.internal"),
        "agents/ops.yaml": agent("ops", "toolsets: [db, wiki]"),
      }),
    );
    expect(errors).toEqual([]);
    expect(specs.tunnels).toEqual([
      expect.objectContaining({ name: "corp", display_name: "corp", protect: false, on_prune: "archive" }),
      expect.objectContaining({ name: "lab", display_name: "Lab network", protect: true }),
    ]);
    const db = specs.toolsets.find((t) => t.name === "db");
    expect(db).toMatchObject({ url: null, tunnel: { name: "corp", host: "db-mcp", path: "/mcp" } });
    expect(specs.toolsets.find((t) => t.name === "wiki")?.tunnel).toEqual({
      name: "lab",
      host: "wiki.internal",
      path: "",
    });
    expect(specs.agents[0]?.toolsets.map((t) => t.name)).toEqual(["db", "wiki"]);
  });

  test("a toolset with both url and tunnel is an error at tunnel", async () => {
    const lines = await errorLines({
      "tunnels/corp.yaml": tunnel("corp"),
      "toolsets/db.yaml": toolset("db", "url: https://db.example.com/mcp", "tunnel: corp", "host: db"),
    });
    expect(lines).toEqual([
      "toolsets/db.yaml:5:1: McpToolset/db: give either `url` or `tunnel` (with `host`), not both",
    ]);
  });

  test("a toolset with neither url nor tunnel, or a tunnel without host, or host without tunnel, is an error", async () => {
    const lines = await errorLines({
      "tunnels/corp.yaml": tunnel("corp"),
      "toolsets/a.yaml": toolset("a"),
      "toolsets/b.yaml": toolset("b", "tunnel: corp"),
      "toolsets/c.yaml": toolset("c", "url: https://c.example.com", "host: c"),
    });
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^toolsets\/a\.yaml:1:1: .*needs `url`/);
    expect(lines[1]).toMatch(/^toolsets\/b\.yaml:1:1: .*host/);
    expect(lines[2]).toMatch(/^toolsets\/c\.yaml:1:1: .*`host` goes with `tunnel`/);
  });

  test("an unknown tunnel name is a located error with a suggestion; agents using the toolset are not reported again", async () => {
    const lines = await errorLines({
      "tunnels/corp.yaml": tunnel("corp"),
      "toolsets/db.yaml": toolset("db", "tunnel: crop", "host: db"),
      "agents/ops.yaml": agent("ops", "toolsets: [db]"),
    });
    expect(lines).toEqual([
      'toolsets/db.yaml:4:9: McpToolset/db: tunnel: unknown Tunnel "crop" (did you mean "corp"?)',
    ]);
  });

  test("bad host, path and display_name are located errors", async () => {
    const lines = await errorLines({
      "tunnels/corp.yaml": tunnel("corp", "display_name: 'a [b]'"),
      "toolsets/db.yaml": toolset("db", "tunnel: corp", "host: https://db", "path: mcp"),
    });
    expect(lines.join("\n")).toContain("toolsets/db.yaml:5:7: McpToolset/db: host: must be lower-case DNS labels");
    expect(lines.join("\n")).toContain("toolsets/db.yaml:6:7: McpToolset/db: path: must start with '/'");
    expect(lines.join("\n")).toContain("tunnels/corp.yaml:4:15: Tunnel/corp: display_name: must not contain '['");
  });

  test("on_prune: delete is refused (the API cannot delete a tunnel)", async () => {
    const lines = await errorLines({ "tunnels/corp.yaml": tunnel("corp", "on_prune: delete") });
    expect(lines).toEqual([
      "tunnels/corp.yaml:4:11: Tunnel/corp: on_prune: cannot be `delete`: the API cannot delete a tunnel, only archive it (irreversibly); remove `on_prune` or write `archive`",
    ]);
  });

  test("a credential naming a toolset behind a tunnel is an error at its toolset", async () => {
    const lines = await errorLines({
      "tunnels/corp.yaml": tunnel("corp"),
      "toolsets/db.yaml": toolset("db", "tunnel: corp", "host: db"),
      "vaults/v.yaml": yaml(
        V1,
        "kind: Vault",
        "name: v",
        "credentials:",
        "  - name: c",
        `    auth: {type: static_bearer, token: '\${env:T}', toolset: db}`,
      ),
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^vaults\/v\.yaml:6:.*toolset: the toolset "db" is behind tunnel "corp"/);
  });

  test("previous_names of a tunnel follow the rules of the other kinds", async () => {
    const lines = await errorLines({
      "tunnels/a.yaml": tunnel("a", "previous_names: [b]"),
      "tunnels/b.yaml": tunnel("b"),
    });
    expect(lines).toEqual([expect.stringMatching(/^tunnels\/a\.yaml:4:.*another Tunnel is named "b"/)]);
  });
});
