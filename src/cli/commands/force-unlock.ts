/**
 * `reconcile force-unlock ID [--force] [--dir DIR] [--target NAME]`, as Terraform has it: releases the apply lock of
 * the stack and target if, and only if, its current lock id is ID (the id a held-lock error names), for when the
 * holder died and you do not want to wait for its lease to expire. Asks for `yes` on a terminal; refuses a stdin that
 * is not a terminal unless `--force`. Exit 0 when released, 1 otherwise (nothing changed). See ADR 8.
 */
import { createInterface } from "node:readline/promises";
import { Command } from "commander";
import { forceUnlock, inspectLock } from "../../providers/lock.js";
import { reportError } from "../errors.js";
import type { Output } from "../output.js";
import { type ProjectFlags, projectOptions, withProject } from "../session.js";

/** Flags of `force-unlock`. */
export interface ForceUnlockFlags extends ProjectFlags {
  force?: boolean;
}

/** Asks the terminal for `yes` (Terraform's force-unlock prompt). */
async function confirm(output: Output): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(
      "\nDo you really want to force-unlock?\n  reconcile will remove the lock of this stack and target. Another apply may then start,\n  even though the holder may still be running. Only 'yes' will be accepted to confirm.\n\n  Enter a value: ",
    );
    return answer.trim() === "yes";
  } finally {
    rl.close();
    output.err("\n");
  }
}

/** Runs force-unlock and returns the exit code. */
export function runForceUnlock(id: string, flags: ForceUnlockFlags, output: Output): Promise<number> {
  if (flags.local) {
    return Promise.resolve(
      reportError(
        new Error(
          "--local has no lock to force: the state file lock lasts only as long as the process holding it, and a dead holder's lock is taken over by itself",
        ),
        output,
      ),
    );
  }
  return withProject(flags, output, async (project, connection) => {
    const scope = { stack: project.config.stack, target: project.target.name };
    const state = await inspectLock(connection.client, scope);
    const holder = state?.holder;
    if (!state || !holder || holder.id !== id) {
      await forceUnlock(connection.client, scope, id); // throws the reason nothing can be unlocked
      return 1;
    }
    const live = !state.expired;
    output.err(
      `Lock ${holder.id} of stack ${scope.stack}, target ${scope.target}: held by ${holder.who}, ${holder.operation} since ${holder.since}, ${live ? "expires" : "expired"} ${holder.expires}.\n`,
    );
    if (!flags.force) {
      if (!process.stdin.isTTY) {
        output.err("Error: force-unlock needs confirmation, and stdin is not a terminal: pass --force.\n");
        return 1;
      }
      if (!(await confirm(output))) {
        output.err("Force-unlock cancelled; the lock is still held.\n");
        return 1;
      }
    }
    await forceUnlock(connection.client, scope, id);
    output.out(`Released lock ${id} of stack ${scope.stack}, target ${scope.target}.\n`);
    return 0;
  });
}

/** The commander definition of `force-unlock`. */
export function forceUnlockCommand(output: Output, setExit: (code: number) => void): Command {
  return projectOptions(new Command("force-unlock"))
    .description("release the apply lock of the stack and target if its lock id is ID (when its holder died)")
    .argument("<id>", "the lock id, as a held-lock error names it")
    .option("--force", "do not ask for confirmation (required when stdin is not a terminal)")
    .action(async (id: string, flags: ForceUnlockFlags) => setExit(await runForceUnlock(id, flags, output)));
}
