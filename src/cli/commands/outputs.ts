/**
 * `reconcile outputs [--dir DIR] [--target NAME] [--local] [--json]`: the live ids of the stack's resources by spec
 * name (agents with their current version, environments, vaults, credentials), like `terraform output`. Read
 * through the same observe as `reconcile plan`, so only resources this stack owns appear.
 *
 * Output: one `address  id` line per resource, then notes on stderr about resources not created yet and owned ones
 * no spec declares. With `--json`, stdout holds only the outputs document (schemas/outputs.schema.json). Exit 0 on
 * success, 1 on any error. Makes list calls only; never prints a secret (outputs hold ids only).
 */
import { Command } from "commander";
import { type Outputs, observeOutputs } from "../../reconcile/outputs.js";
import type { Output } from "../output.js";
import { type ProjectFlags, projectOptions, withProject } from "../session.js";

/** Flags of `outputs` (plus the shared `--dir`, `--target`, `--local`). */
export interface OutputsFlags extends ProjectFlags {
  json?: boolean;
}

/** The text form: `address  id  (version N)` lines, aligned, in address order. */
export function renderOutputsText(outputs: Outputs): string {
  const rows: [string, string][] = [];
  const add = (type: string, section: Outputs["agents"]) => {
    for (const [name, entry] of Object.entries(section)) {
      rows.push([
        `${type}.${name}`,
        entry.version !== undefined ? `${entry.id}  (version ${entry.version})` : entry.id,
      ]);
    }
  };
  add("agent", outputs.agents);
  add("environment", outputs.environments);
  add("vault", outputs.vaults);
  add("credential", outputs.credentials);
  add("memory_store", outputs.memory_stores);
  if (rows.length === 0) return "No live resources yet: run `reconcile apply` first.\n";
  const width = Math.max(...rows.map(([address]) => address.length));
  return rows.map(([address, id]) => `${address.padEnd(width)}  ${id}\n`).join("");
}

/** Runs outputs and returns the exit code. */
export function runOutputs(flags: OutputsFlags, output: Output): Promise<number> {
  return withProject(flags, output, async (project, connection) => {
    const { outputs } = await observeOutputs(project, connection.client, connection.secrets);
    output.out(flags.json ? `${JSON.stringify(outputs, null, 2)}\n` : renderOutputsText(outputs));
    if (outputs.pending.length > 0) {
      output.err(`Not created yet (run reconcile apply): ${outputs.pending.join(", ")}\n`);
    }
    if (outputs.orphaned.length > 0) {
      output.err(
        `Owned by stack ${outputs.stack} but declared by no spec (plan --prune archives them): ${outputs.orphaned.join(", ")}\n`,
      );
    }
    return 0;
  });
}

/** The commander definition of `outputs`. */
export function outputsCommand(output: Output, setExit: (code: number) => void): Command {
  return projectOptions(new Command("outputs"))
    .description("print the live ids of the stack's resources by spec name (for scripts and the MCP server)")
    .option("--json", "print the outputs as JSON only (schemas/outputs.schema.json)")
    .action(async (flags: OutputsFlags) => setExit(await runOutputs(flags, output)));
}
