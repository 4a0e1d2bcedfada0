/**
 * Actions-only glue around the pipeline: the default branch of a push or dispatch run (from the event file), and the
 * job summary (`$GITHUB_STEP_SUMMARY`), which the runner refuses above 1 MiB per step (ANCHORS.md "Actions
 * conventions").
 */
import { appendFile, readFile } from "node:fs/promises";

/** The most a step appends to the job summary, in characters (the runner's cap is 1024 KiB per step). */
export const STEP_SUMMARY_MAX = 1_000_000;

/**
 * Appends `markdown` to the job summary file, cut with a note when it would pass `STEP_SUMMARY_MAX`. No-op without a
 * file (outside Actions).
 */
export async function appendStepSummary(file: string | undefined, markdown: string): Promise<void> {
  if (!file || markdown === "") return;
  const text =
    markdown.length > STEP_SUMMARY_MAX
      ? `${markdown.slice(0, STEP_SUMMARY_MAX)}\n\n… cut: the plan is longer than the job summary allows; see the pull-request comments.\n`
      : markdown;
  await appendFile(file, `${text}\n`, "utf8");
}

/**
 * The repository's default branch as the event file of a `push` or `workflow_dispatch` run names it
 * (`repository.default_branch`).
 * @returns the branch name, or undefined when the event file is missing or does not say
 */
export async function eventDefaultBranch(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const file = env.GITHUB_EVENT_PATH;
  if (!file) return undefined;
  try {
    const event = JSON.parse(await readFile(file, "utf8")) as { repository?: { default_branch?: unknown } };
    const branch = event.repository?.default_branch;
    return typeof branch === "string" && branch !== "" ? branch : undefined;
  } catch {
    return undefined;
  }
}
