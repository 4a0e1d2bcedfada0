/**
 * `reconcile validate [--dir DIR]`: load every spec, check it against its JSON Schema and check references,
 * printing every error at once as `file:line:col: Kind/name: message`. Exit 0 when valid, 1 otherwise. Makes no API
 * call and needs no key.
 */
import { Command } from "commander";
import { formatSpecError, loadProject } from "../../spec/index.js";
import { loadProjectConfig } from "../../spec/project-config.js";
import type { Output } from "../output.js";
import { findRoot } from "../root.js";

/** Runs validate for `dir` and returns the exit code. */
export async function runValidate(options: { dir?: string }, output: Output): Promise<number> {
  const root = findRoot(options.dir);
  const [{ errors: configErrors }, project] = await Promise.all([loadProjectConfig(root), loadProject(root)]);
  const errors = [...configErrors, ...project.errors];
  for (const error of errors) output.err(`${formatSpecError(error)}\n`);
  const s = project.specs;
  const counts = `${s.agents.length} agents, ${s.environments.length} environments, ${s.vaults.length} vaults, ${s.toolsets.length} toolsets`;
  if (errors.length > 0) {
    output.err(`${errors.length} error${errors.length === 1 ? "" : "s"} in ${project.files.length} files.\n`);
    return 1;
  }
  output.out(`Valid: ${project.files.length} files (${counts}).\n`);
  return 0;
}

/** The commander definition of `validate`. */
export function validateCommand(output: Output, setExit: (code: number) => void): Command {
  return new Command("validate")
    .description("check every spec against its schema and its references; print all errors as file:line:col")
    .option("--dir <path>", "repository root (default: nearest directory with reconcile.yaml or .git)")
    .action(async (options: { dir?: string }) => setExit(await runValidate(options, output)));
}
