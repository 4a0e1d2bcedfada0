/**
 * `scripts/gen-validators.mjs` (issue 10 item 6): the validators compiled at build time must follow the schemas, or
 * `npm run gen:check` (the first step of `npm test`) fails. Run on a copy of the repository.
 */
import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { REPO_ROOT } from "./helpers.js";

const run = promisify(execFile);
const OUT = "src/generated/validators/standalone.ts";

async function gen(root: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [path.join(root, "scripts/gen-validators.mjs"), ...args]);
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe("scripts/gen-validators.mjs", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), "reconcile-gen-validators-"));
    for (const dir of ["scripts", "schemas", "src/generated"]) {
      await cp(path.join(REPO_ROOT, dir), path.join(root, dir), { recursive: true });
    }
    await symlink(path.join(REPO_ROOT, "node_modules"), path.join(root, "node_modules"));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test("the committed validators are up to date, and cover every schema and every $defs entry", async () => {
    expect(await gen(root, "--check")).toEqual({ code: 0, stdout: "", stderr: "" });
    const code = await readFile(path.join(root, OUT), "utf8");
    const vault = JSON.parse(await readFile(path.join(root, "schemas/vault.schema.json"), "utf8"));
    expect(code).toContain(`"${vault.$id}": v`);
    for (const name of Object.keys(vault.$defs ?? {})) expect(code).toContain(`"${vault.$id}#/$defs/${name}": v`);
  });

  test("a schema change fails --check until `npm run gen` rewrites the validators, which then enforce it", async () => {
    const schemaFile = path.join(root, "schemas/mcp-toolset.schema.json");
    const schema = JSON.parse(await readFile(schemaFile, "utf8"));
    schema.properties.owner = { description: "Who runs the server.", type: "string", maxLength: 3 };
    await writeFile(schemaFile, JSON.stringify(schema, null, 2));

    const check = await gen(root, "--check");
    expect(check.code).toBe(1);
    expect(check.stderr).toBe(
      [
        "Generated validators are out of date with schemas/:",
        `  ${OUT}: differs from the schemas`,
        "Run `npm run gen` and commit the result.",
        "",
      ].join("\n"),
    );
    expect(await gen(root)).toEqual({ code: 0, stdout: `wrote ${OUT}\n`, stderr: "" });
    expect((await gen(root, "--check")).code).toBe(0);
    expect(await readFile(path.join(root, OUT), "utf8")).toContain('"maxLength":3');
  });
});
