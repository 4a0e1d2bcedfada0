import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { formatSpecError, loadProject } from "../../src/spec/index.js";

/** The repository root (the example fleet lives there; tests use `FIXTURE_ROOT` instead). */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The test fleet: a frozen copy of the example fleet, which users may edit (`test/fixtures/fleet`). */
export const FIXTURE_ROOT = fileURLToPath(new URL("../fixtures/fleet/", import.meta.url));

/** Writes `files` (POSIX path → content) into a fresh temporary directory and returns its path. */
export async function writeRepo(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), "reconcile-spec-"));
  for (const [file, content] of Object.entries(files)) {
    const target = path.join(root, ...file.split("/"));
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, content);
  }
  return root;
}

/** Loads a fixture repository and returns its errors as printed lines. */
export async function errorLines(files: Record<string, string>): Promise<string[]> {
  const { errors } = await loadProject(await writeRepo(files));
  return errors.map(formatSpecError);
}

/** Joins lines into a YAML document. */
export function yaml(...lines: string[]): string {
  return `${lines.join("\n")}\n`;
}
