/**
 * `reconcile import KIND NAME ID [--dir DIR] [--target NAME] [--local]`: take over the live resource ID as the spec
 * KIND/NAME (for a credential NAME is `VAULT/CREDENTIAL`). Writes an `adopt:` entry into reconcile.yaml; nothing in
 * the workspace changes until apply. Exit 0 on success, 1 otherwise.
 */
import { Command } from "commander";
import { importResource, parseResourceType } from "../../reconcile/import.js";
import type { Output } from "../output.js";
import { type ProjectFlags, projectOptions, withProject } from "../session.js";

/** Runs import and returns the exit code. */
export function runImport(
  kind: string,
  name: string,
  id: string,
  flags: ProjectFlags,
  output: Output,
): Promise<number> {
  return withProject(flags, output, async (project, connection) => {
    const type = parseResourceType(kind);
    const ctx = { stack: project.config.stack, secrets: connection.secrets };
    const { address, edit } = await importResource(project, connection.client, ctx, { type, name, id });
    if (edit === "already-managed") {
      output.out(`${address} is already managed by stack ${project.config.stack} as ${id}; nothing to do.\n`);
      return 0;
    }
    const verb = edit === "added" ? "Added" : edit === "updated" ? "Updated" : "Kept";
    output.out(
      `${verb} adopt entry ${address} = ${id} in reconcile.yaml.\nRun \`reconcile plan\` to see the differences; \`reconcile apply\` takes it over (and writes the ownership metadata).\n`,
    );
    return 0;
  });
}

/** The commander definition of `import`. */
export function importCommand(output: Output, setExit: (code: number) => void): Command {
  return projectOptions(new Command("import"))
    .description("take over an existing resource as a spec (records an adopt: entry in reconcile.yaml)")
    .argument("<kind>", "agent, environment, vault or credential")
    .argument("<name>", "the spec name (a credential's is VAULT/CREDENTIAL)")
    .argument("<id>", "the live resource's id, e.g. agent_011C...")
    .action(async (kind: string, name: string, id: string, flags: ProjectFlags) =>
      setExit(await runImport(kind, name, id, flags, output)),
    );
}
