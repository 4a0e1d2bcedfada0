/**
 * `reconcile validate [--dir DIR] [--target NAME]`: load every spec, check it against its JSON Schema and check
 * references, printing every error at once as `file:line:col: Kind/name: message`. Without `--target` the specs are
 * checked against every target in reconcile.yaml (each with its own `${var:NAME}` values). Exit 0 when valid, 1
 * otherwise. `--json` prints only JSON on stdout (errors as schemas/errors.schema.json). Makes no API call and needs no key.
 */
import { Command } from "commander";
import { escapeControl } from "../../reconcile/escape.js";
import { plural } from "../../reconcile/render-text.js";
import { loadSpecs, SpecErrorsFound } from "../../reconcile/workflow.js";
import { formatSpecError, validateAllTargets } from "../../spec/index.js";
import type { DesiredSpecs, SpecError } from "../../spec/types.js";
import { printErrorReport, reportError, specErrorReport } from "../errors.js";
import type { Output } from "../output.js";
import { findProjectRoot } from "../root.js";

async function check(root: string, target: string | undefined) {
  if (target === undefined) {
    const all = await validateAllTargets(root);
    return {
      errors: all.errors,
      files: all.files,
      specs: all.targets[0]?.specs,
      targets: all.targets.map((t) => t.target.name),
    };
  }
  try {
    const project = await loadSpecs(root, target);
    return { errors: [], files: project.files, specs: project.specs, targets: [target] };
  } catch (error) {
    if (error instanceof SpecErrorsFound)
      return { errors: error.errors, files: [], specs: undefined, targets: [target] };
    throw error;
  }
}

/**
 * Runs validate for `dir` and returns the exit code. With `json`, stdout holds only JSON: the error report
 * (schemas/errors.schema.json) on failure, `{"ok": true, "targets", "files", "agents", "environments", "vaults",
 * "toolsets", "memory_stores", "skills", "tunnels", "deployments"}` (counts) when valid.
 */
export async function runValidate(
  options: { dir?: string; target?: string; json?: boolean },
  output: Output,
): Promise<number> {
  try {
    const { errors, files, specs, targets } = await check(findProjectRoot(options.dir), options.target);
    if (options.json && errors.length > 0) return printErrorReport(specErrorReport(errors as SpecError[]), output);
    for (const error of errors as SpecError[]) output.err(`${escapeControl(formatSpecError(error))}\n`);
    if (errors.length > 0) {
      output.err(`${plural(errors.length, "error")}.\n`);
      return 1;
    }
    const s = specs as DesiredSpecs;
    if (options.json) {
      const counts = { agents: s.agents.length, environments: s.environments.length, vaults: s.vaults.length };
      const more = {
        toolsets: s.toolsets.length,
        memory_stores: s.memory_stores?.length ?? 0,
        skills: s.skills?.length ?? 0,
        tunnels: s.tunnels?.length ?? 0,
        deployments: s.deployments?.length ?? 0,
      };
      output.out(`${JSON.stringify({ ok: true, targets, files: files.length, ...counts, ...more })}\n`);
      return 0;
    }
    const counts = [
      plural(s.agents.length, "agent"),
      plural(s.environments.length, "environment"),
      plural(s.vaults.length, "vault"),
      plural(s.toolsets.length, "toolset"),
      ...(s.memory_stores?.length ? [plural(s.memory_stores.length, "memory store")] : []),
      ...(s.skills?.length ? [plural(s.skills.length, "skill")] : []),
      ...(s.tunnels?.length ? [plural(s.tunnels.length, "tunnel")] : []),
      ...(s.deployments?.length ? [plural(s.deployments.length, "deployment")] : []),
    ].join(", ");
    const where = targets.length > 1 ? ` for targets ${targets.join(", ")}` : "";
    output.out(`Valid${where}: ${plural(files.length, "file")} (${counts}).\n`);
    return 0;
  } catch (error) {
    return reportError(error, output, options.json === true);
  }
}

/** The commander definition of `validate`. */
export function validateCommand(output: Output, setExit: (code: number) => void): Command {
  return new Command("validate")
    .description("check every spec against its schema and its references; print all errors as file:line:col")
    .option("--dir <path>", "repository root (default: nearest directory with reconcile.yaml or .git)")
    .option("--target <name>", "check for this target only (default: every target in reconcile.yaml)")
    .option("--json", "print only JSON on stdout: the counts, or every error (schemas/errors.schema.json)")
    .action(async (options: { dir?: string; target?: string; json?: boolean }) =>
      setExit(await runValidate(options, output)),
    );
}
