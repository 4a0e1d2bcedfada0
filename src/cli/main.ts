/**
 * The `reconcile` command line. Commands are thin: parse flags, call one function, print, return the exit code.
 */
import { Command, CommanderError } from "commander";
import { emulatorCommand } from "../emulator/cli.js";
import { applyCommand } from "./commands/apply.js";
import { deployCommand } from "./commands/deploy.js";
import { driftCommand } from "./commands/drift.js";
import { exportCommand } from "./commands/export.js";
import { forceUnlockCommand } from "./commands/force-unlock.js";
import { githubCommand } from "./commands/github.js";
import { importCommand } from "./commands/import.js";
import { initCommand } from "./commands/init.js";
import { mcpCommand } from "./commands/mcp.js";
import { outputsCommand } from "./commands/outputs.js";
import { planCommand } from "./commands/plan.js";
import { secretsCommand } from "./commands/secrets.js";
import { showCommand } from "./commands/show.js";
import { tunnelCommand } from "./commands/tunnel.js";
import { validateCommand } from "./commands/validate.js";
import { processOutput } from "./output.js";

/** The program's version, as `reconcile --version` prints it. */
export const VERSION = "0.1.0";

/**
 * Runs the CLI with `argv` (`process.argv` shape: node, script, args...) and resolves to the exit code.
 * `--no-color` (or NO_COLOR in the environment) turns colour off.
 */
export async function run(argv: string[]): Promise<number> {
  const output = processOutput(!argv.includes("--no-color"));
  let code = 0;
  const setExit = (c: number) => {
    code = c;
  };
  const program = new Command("reconcile")
    .description("GitOps for Claude Managed Agents: validate, plan and apply YAML specs against the Managed Agents API")
    .version(VERSION)
    .option("--no-color", "no ANSI colours (also when NO_COLOR is set or stdout is not a terminal)")
    .exitOverride()
    .configureOutput({ writeOut: output.out, writeErr: output.err });
  for (const command of [
    initCommand(output, setExit),
    validateCommand(output, setExit),
    planCommand(output, setExit),
    applyCommand(output, setExit),
    driftCommand(output, setExit),
    showCommand(output, setExit),
    importCommand(output, setExit),
    exportCommand(output, setExit),
    forceUnlockCommand(output, setExit),
    outputsCommand(output, setExit),
    deployCommand(output, setExit),
    secretsCommand(output, setExit),
    tunnelCommand(output, setExit),
    mcpCommand(output, setExit, VERSION),
    githubCommand(output, setExit),
  ]) {
    program.addCommand(command.exitOverride().configureOutput({ writeOut: output.out, writeErr: output.err }));
  }
  program.addCommand(emulatorCommand());
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 1;
    throw error;
  }
  return code;
}
