/**
 * `reconcile init [--dir DIR] [--stack NAME]`: start a reconcile repository in DIR (default: the current directory):
 * `reconcile.yaml`, one spec of each kind, a `.gitignore` entry for `.reconcile/` and a minimal validate-and-plan CI
 * workflow (`src/init/`). Refuses, writing nothing, when DIR already has `reconcile.yaml` or any of the spec files.
 * Exit 0, or 1 with what is in the way.
 */
import { resolve } from "node:path";
import { Command } from "commander";
import { initRepository } from "../../init/init.js";
import { escapeControl } from "../../reconcile/escape.js";
import { reportError } from "../errors.js";
import type { Output } from "../output.js";

/** Flags of `init`. */
export interface InitFlags {
  dir?: string;
  stack?: string;
}

/** Runs init and returns the exit code. */
export async function runInit(flags: InitFlags, output: Output): Promise<number> {
  try {
    const dir = resolve(flags.dir ?? ".");
    const result = await initRepository({ dir, ...(flags.stack ? { stack: flags.stack } : {}) });
    const lines = [
      `Started a reconcile repository in ${dir} (stack ${result.stack}):`,
      ...result.written.map((f) => `  + ${f}`),
      ...result.kept.map((f) => `  = ${f} (kept as it was)`),
      `  ${result.gitignore === "present" ? "=" : "+"} .gitignore: .reconcile/ ${result.gitignore === "present" ? "(already ignored)" : "(the local emulator's state)"}`,
      "",
      "Next:",
      "  reconcile validate",
      "  reconcile apply --local --auto-approve   # rehearse against the local emulator, no API key needed",
      "  reconcile plan                           # against your workspace, with ANTHROPIC_API_KEY set",
    ];
    output.out(`${escapeControl(lines.join("\n"), { keepNewlines: true })}\n`);
    return 0;
  } catch (error) {
    return reportError(error, output);
  }
}

/** The commander definition of `init`. */
export function initCommand(output: Output, setExit: (code: number) => void): Command {
  return new Command("init")
    .description("start a reconcile repository: reconcile.yaml, one spec of each kind, .gitignore and a CI workflow")
    .option("--dir <path>", "the directory to start it in (default: the current directory; created if missing)")
    .option("--stack <name>", "the stack id (default: from the directory's name)")
    .action(async (flags: InitFlags) => setExit(await runInit(flags, output)));
}
