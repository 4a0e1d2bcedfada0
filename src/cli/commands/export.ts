/**
 * `reconcile export [--dir DIR] [--target NAME] [--local] [--out DIR] [--id ID ...] [--force] [--json]`: write specs for live
 * resources (all unarchived agents, environments, vaults with their credentials, memory stores, custom skills with their
 * files, tunnels and deployments, or only the ids given), in the fleet layout (docs/export.md), and record `adopt:` entries so the next apply takes the resources over instead of recreating them.
 *
 * Output: one line per file written and a summary on stdout, then the environment variables the secret references
 * need (secrets are write-only: the API never returns them); warnings on stderr. With `--json`, stdout holds only a
 * JSON list of `{address, id, file}` and everything else goes to stderr. Exit 0 on success, 1 on any error (nothing
 * is written when files are in the way).
 */
import { resolve } from "node:path";
import { Command } from "commander";
import { createColors } from "picocolors";
import { escapeControl } from "../../reconcile/escape.js";
import { type ExportResult, exportSpecs } from "../../reconcile/export.js";
import { addAdoptEntry } from "../../spec/project-config.js";
import type { Output } from "../output.js";
import { type ProjectFlags, projectOptions, withProject } from "../session.js";

/** Flags of `export` (plus the shared `--dir`, `--target`, `--local`). */
export interface ExportFlags extends ProjectFlags {
  out?: string;
  id?: string[];
  force?: boolean;
  includeExisting?: boolean;
  json?: boolean;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** The lines after the file list: summary, adoptions, warnings and the secret variables. */
function summary(result: ExportResult, color: boolean): { out: string[]; err: string[] } {
  const c = createColors(color);
  const resources = result.entries.filter((e) => e.id !== null).length;
  const toolsets = result.files.filter((f) => f.kind === "McpToolset").length;
  const out: string[] = [];
  const err: string[] = result.warnings.map((w) => `Warning: ${escapeControl(w)}`);
  if (result.files.length === 0) {
    out.push("Nothing to export: no unarchived resource was found that this stack could take over.");
    return { out, err };
  }
  out.push(
    "",
    c.bold(
      `Exported ${plural(resources, "resource")}${toolsets > 0 ? ` and ${plural(toolsets, "toolset")}` : ""} into ${plural(result.files.length, "file")}.`,
    ),
  );
  if (result.adopted.length > 0) {
    out.push(
      `Added ${result.adopted.length} adopt ${result.adopted.length === 1 ? "entry" : "entries"} to reconcile.yaml (stack ${result.stack}): the next \`reconcile apply\` takes these resources over instead of creating new ones.`,
    );
  }
  if (result.secrets.length > 0) {
    const width = Math.max(...result.secrets.map((s) => s.name.length));
    out.push(
      "",
      "Secrets are write-only: the API never returns them, so the specs refer to environment variables instead.",
      "Set these before `reconcile plan` or `reconcile apply`:",
      ...result.secrets.map((s) => `  ${s.name.padEnd(width)}  ${s.address} ${s.field}`),
    );
  }
  out.push("", "Next: `reconcile validate`, then `reconcile plan`, which should show only the adoptions.");
  return { out, err };
}

/** Runs export and returns the exit code. */
export function runExport(flags: ExportFlags, output: Output): Promise<number> {
  const c = createColors(output.color);
  return withProject(flags, output, async (project, connection) => {
    const result = await exportSpecs({
      client: connection.client,
      project,
      out: flags.out === undefined ? undefined : resolve(flags.out),
      ids: flags.id,
      force: flags.force === true,
      includeExisting: flags.includeExisting === true,
      adopt: addAdoptEntry,
      onFile: flags.json
        ? undefined
        : (file) => {
            const what =
              file.resources.length === 0
                ? `${file.kind} ${file.name}`
                : file.resources.map((r) => `${r.address} (${r.id})`).join(", ");
            output.out(`${c.green("+")} ${escapeControl(file.file)}  ${c.dim(escapeControl(what))}\n`);
          },
    });
    const { out, err } = summary(result, flags.json ? false : output.color);
    if (flags.json) {
      output.out(`${JSON.stringify(result.entries, null, 2)}\n`);
      for (const line of [...err, ...out]) output.err(`${line}\n`);
    } else {
      for (const line of err) output.err(`${line}\n`);
      for (const line of out) output.out(`${line}\n`);
    }
    return 0;
  });
}

/** The commander definition of `export`. */
export function exportCommand(output: Output, setExit: (code: number) => void): Command {
  return projectOptions(new Command("export"))
    .description("write specs for live resources and mark them for adoption, so apply takes them over")
    .option("--out <path>", "where to write the spec files (default: the repository root)")
    .option(
      "--id <id...>",
      "export only these resources: agent_…, env_…, vlt_… (with its credentials), vcrd_… or vlt_…/vcrd_…, memstore_…, skill_…, tnl_…, depl_…",
    )
    .option("--force", "overwrite spec files that already exist")
    .option("--include-existing", "also export resources that already have a spec here (default: skip them)")
    .option("--json", "print only a JSON list of {address, id, file} on stdout")
    .action(async (flags: ExportFlags) => setExit(await runExport(flags, output)));
}
