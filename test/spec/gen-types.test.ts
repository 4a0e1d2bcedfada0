import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { beforeEach, describe, expect, test } from "vitest";
import { REPO_ROOT } from "./helpers.js";

const run = promisify(execFile);

/** Runs the generator of the copy at `root`; resolves with its exit code and output instead of throwing. */
async function gen(root: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [path.join(root, "scripts/gen-types.mjs"), ...args]);
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe("scripts/gen-types.mjs", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), "reconcile-gen-"));
    for (const dir of ["scripts", "schemas", "src/generated"]) {
      await cp(path.join(REPO_ROOT, dir), path.join(root, dir), { recursive: true });
    }
    await symlink(path.join(REPO_ROOT, "node_modules"), path.join(root, "node_modules"));
  });

  test("the committed generated files are up to date", async () => {
    expect(await gen(root, "--check")).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  test("--check names a stale file, a missing one and an orphan, and says how to fix it", async () => {
    const agent = path.join(root, "src/generated/agent.ts");
    await writeFile(agent, `${await readFile(agent, "utf8")}// edited by hand\n`);
    await cp(path.join(root, "src/generated/vault.ts"), path.join(root, "src/generated/old-kind.ts"));
    await writeFile(path.join(root, "src/generated/index.ts"), "");
    const result = await gen(root, "--check");
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      [
        "Generated types are out of date with schemas/:",
        "  src/generated/agent.ts: differs from its schema",
        "  src/generated/index.ts: differs from its schema",
        "  src/generated/old-kind.ts: no schema generates it",
        "Run `npm run gen` and commit the result.",
        "",
      ].join("\n"),
    );
  });

  test("a schema change makes the check fail until `npm run gen` rewrites the types", async () => {
    const schemaFile = path.join(root, "schemas/mcp-toolset.schema.json");
    const schema = JSON.parse(await readFile(schemaFile, "utf8"));
    schema.properties.owner = { description: "Who runs the server.", type: "string" };
    await writeFile(schemaFile, JSON.stringify(schema, null, 2));

    const check = await gen(root, "--check");
    expect(check.code).toBe(1);
    expect(check.stderr).toContain("  src/generated/mcp-toolset.ts: differs from its schema\n");

    expect(await gen(root)).toMatchObject({ code: 0, stdout: "wrote src/generated/mcp-toolset.ts\n" });
    expect(await readFile(path.join(root, "src/generated/mcp-toolset.ts"), "utf8")).toContain("  owner?: string;\n");
    expect((await gen(root, "--check")).code).toBe(0);
  });
});
