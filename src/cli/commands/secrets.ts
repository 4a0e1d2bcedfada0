/**
 * `reconcile secrets rotate | status | check` (issue 9; docs/secrets.md).
 *
 * - `rotate [--only vault/credential ...] [--force] [--json] [--lock-timeout D]`: writes the credentials whose
 *   secret fingerprint differs from the variables' values (or that do not exist yet), and nothing else, under the
 *   apply lock; one line per credential (rotated / unchanged / created / skipped / failed, with durations, never a
 *   value); other pending changes in one line. Exit 0 all good, 1 if any credential failed or was skipped.
 *   With `--tunnels [NAME...]`, rotates tunnel connector tokens instead (`runRotateTunnels`, commands/tunnel.ts).
 * - `status [--json]`: every declared credential's secret health (`secretHealth`: due after `rotation.max_age`,
 *   `mcp_oauth` expiring within 24 h or expired). Exit 0 all fine, 2 some need a rotation, 1 error.
 * - `check [--json]`: the API's OAuth validation of every live `mcp_oauth` credential (valid / invalid / unknown with
 *   the API's reason), plus the health above. Exit 0 all valid and none due, 2 some invalid or due, 1 error.
 */
import type Anthropic from "@anthropic-ai/sdk";
import { Command, InvalidArgumentError } from "commander";
import { createColors } from "picocolors";
import { validateOAuthCredential } from "../../providers/credential.js";
import { parseDuration } from "../../providers/lock.js";
import { envSecrets } from "../../providers/secrets.js";
import { type ApplyOutcome, applyPlan, describeError } from "../../reconcile/apply.js";
import { escapeJsonText, escapeControl as safe } from "../../reconcile/escape.js";
import { preflight } from "../../reconcile/preflight.js";
import { type RotationEntry, rotationPlan } from "../../reconcile/secrets.js";
import { needsRotation, type SecretHealth, secretHealth } from "../../reconcile/secrets-health.js";
import { type PreparedPlan, preparePlan } from "../../reconcile/workflow.js";
import { withLockedProject } from "../apply-lock.js";
import type { Output } from "../output.js";
import { type ProjectFlags, projectOptions, withProject } from "../session.js";
import { runRotateTunnels } from "./tunnel.js";

/** Flags of `secrets rotate`. */
export interface RotateFlags extends ProjectFlags {
  only?: string[];
  force?: boolean;
  json?: boolean;
  /** `--lock-timeout`, in ms. */
  lockTimeout?: number;
  /** `--tunnels [NAME...]`: rotate tunnel tokens instead (`true`: every declared tunnel). */
  tunnels?: string[] | boolean;
}

/** Flags of `secrets status` and `secrets check`. */
export interface StatusFlags extends ProjectFlags {
  json?: boolean;
}

/** One credential's rotation result, as printed and as `--json` lists it. */
export interface RotationResult {
  address: string;
  status: "rotated" | "created" | "unchanged" | "skipped" | "failed";
  /** Why it was skipped or failed: names and server messages, never a value. */
  reason?: string;
  duration_ms: number;
}

const SYMBOLS: Record<RotationResult["status"], string> = {
  rotated: "~",
  created: "+",
  unchanged: "=",
  skipped: "-",
  failed: "✗",
};

/** The results of a rotation: entries not written as they are, writes by their apply outcome. */
function results(entries: readonly RotationEntry[], outcomes: readonly ApplyOutcome[]): RotationResult[] {
  const byAddress = new Map(outcomes.map((o) => [o.address, o]));
  return entries.map((entry) => {
    if (entry.status === "unchanged" || entry.status === "skipped") {
      return {
        address: entry.address,
        status: entry.status,
        ...(entry.reason ? { reason: entry.reason } : {}),
        duration_ms: 0,
      };
    }
    const outcome = byAddress.get(entry.address);
    const done = entry.status === "create" ? "created" : "rotated";
    if (outcome?.status === "done") return { address: entry.address, status: done, duration_ms: outcome.duration_ms };
    return {
      address: entry.address,
      status: "failed",
      reason: outcome?.error ?? "not attempted",
      duration_ms: outcome?.duration_ms ?? 0,
    };
  });
}

/** Runs `secrets rotate` and returns the exit code. */
export function runRotate(flags: RotateFlags, output: Output): Promise<number> {
  if (flags.tunnels !== undefined) {
    if (flags.only || flags.force) {
      output.err(
        "Error: --tunnels rotates tunnel tokens only; --only and --force are for credentials. Run them apart.\n",
      );
      return Promise.resolve(1);
    }
    return runRotateTunnels(Array.isArray(flags.tunnels) ? flags.tunnels : [], flags, output);
  }
  const lock = { operation: "secrets rotate", timeoutMs: flags.lockTimeout ?? 0 };
  return withLockedProject(flags, output, lock, async (project, connection, signal) => {
    // Rotation reads the real variables, also with --local: a placeholder is nothing to rotate.
    const secrets = envSecrets();
    const prepared = await preparePlan({ project, client: connection.client, secrets });
    const rotation = rotationPlan(prepared.plan, prepared.desired, prepared.live, {
      ...(flags.only ? { only: flags.only } : {}),
      force: flags.force === true,
    });
    // What is known to fail before writing (metadata limits of a create) is reported per credential, not fatal.
    const { unready } = preflight(rotation.plan, prepared.desired, prepared.live);
    const outcomes: ApplyOutcome[] = [];
    const c = createColors(output.color);
    if (rotation.plan.actions.length > 0) {
      const result = await applyPlan(
        connection.client,
        rotation.plan,
        prepared.desired,
        prepared.live,
        { ...prepared.ctx, secrets },
        { skip: unready, signal },
      );
      outcomes.push(...result.outcomes);
    }
    const list = results(rotation.entries, outcomes);
    const bad = list.filter((r) => r.status === "failed" || r.status === "skipped").length;
    if (flags.json) {
      output.out(
        `${escapeJsonText(JSON.stringify({ stack: project.config.stack, target: project.target.name, credentials: list, other_changes: rotation.otherChanges }, null, 2))}\n`,
      );
      return bad > 0 ? 1 : 0;
    }
    for (const r of list) {
      const time =
        r.status === "rotated" || r.status === "created" || r.status === "failed"
          ? ` ${c.dim(`[${(r.duration_ms / 1000).toFixed(1)}s]`)}`
          : "";
      const why = r.reason ? `: ${safe(r.reason)}` : "";
      const line = `${SYMBOLS[r.status]} ${safe(r.address)}: ${r.status}${why}${time}`;
      output.out(`${r.status === "failed" ? c.red(line) : r.status === "skipped" ? c.yellow(line) : line}\n`);
    }
    if (list.length === 0) output.out("No credentials declared: nothing to rotate.\n");
    if (rotation.otherChanges > 0) {
      output.out(
        `${rotation.otherChanges} other change${rotation.otherChanges === 1 ? "" : "s"} pending, not made by rotate: run \`reconcile plan\`.\n`,
      );
    }
    const count = (status: RotationResult["status"]) => list.filter((r) => r.status === status).length;
    output.out(
      `\n${c.bold(`Rotation: ${count("rotated")} rotated, ${count("created")} created, ${count("unchanged")} unchanged, ${count("skipped")} skipped, ${count("failed")} failed.`)}\n`,
    );
    return bad > 0 ? 1 : 0;
  });
}

/** The health of every declared credential, observed for the project's target. */
function observeHealth(
  flags: StatusFlags,
  output: Output,
  body: (health: SecretHealth[], prepared: PreparedPlan, client: Anthropic) => Promise<number>,
): Promise<number> {
  return withProject(flags, output, async (project, connection) => {
    const prepared = await preparePlan({ project, client: connection.client, secrets: connection.secrets });
    return body(secretHealth(prepared.desired, prepared.live, { now: new Date() }), prepared, connection.client);
  });
}

function healthLine(h: SecretHealth): string {
  return `${safe(h.address)}: ${h.status}: ${safe(h.reason)}`;
}

/** Runs `secrets status` and returns the exit code (0 fine, 2 some need a rotation). */
export function runStatus(flags: StatusFlags, output: Output): Promise<number> {
  return observeHealth(flags, output, async (health) => {
    const code = health.some(needsRotation) ? 2 : 0;
    if (flags.json) {
      output.out(`${escapeJsonText(JSON.stringify({ credentials: health }, null, 2))}\n`);
      return code;
    }
    for (const h of health) output.out(`${healthLine(h)}\n`);
    if (health.length === 0) output.out("No credentials declared.\n");
    const due = health.filter(needsRotation).length;
    output.out(
      due > 0
        ? `\n${due} credential${due === 1 ? "" : "s"} need a rotation: run \`reconcile secrets rotate\`.\n`
        : "\nNo credential needs a rotation.\n",
    );
    return code;
  });
}

/** One credential's validation, as `secrets check --json` lists it. */
export interface CheckResult {
  address: string;
  status: "valid" | "invalid" | "unknown" | "error";
  reason: string;
}

/** Runs `secrets check` and returns the exit code (0 all valid and none due, 2 some invalid or due, 1 error). */
export function runCheck(flags: StatusFlags, output: Output): Promise<number> {
  return observeHealth(flags, output, async (health, prepared, client) => {
    const checks: CheckResult[] = [];
    for (const resource of prepared.desired) {
      if (resource.type !== "credential") continue;
      const live = prepared.live.resources.get(resource.address);
      const auth = live?.state.auth as { type?: unknown } | undefined;
      if (!live || auth?.type !== "mcp_oauth" || !live.parentId) continue;
      try {
        const v = await validateOAuthCredential(client, live.parentId, live.id);
        checks.push({ address: resource.address, status: v.status, reason: v.reason });
      } catch (error) {
        checks.push({ address: resource.address, status: "error", reason: describeError(error) });
      }
    }
    checks.sort((a, b) => (a.address < b.address ? -1 : 1));
    const failed = checks.some((x) => x.status === "error");
    const code = failed ? 1 : checks.some((x) => x.status !== "valid") || health.some(needsRotation) ? 2 : 0;
    if (flags.json) {
      output.out(`${escapeJsonText(JSON.stringify({ checks, credentials: health }, null, 2))}\n`);
      return code;
    }
    for (const x of checks) output.out(`${safe(x.address)}: ${x.status}: ${safe(x.reason)}\n`);
    if (checks.length === 0) output.out("No live mcp_oauth credentials to validate.\n");
    for (const h of health.filter(needsRotation)) output.out(`${healthLine(h)}\n`);
    return code;
  });
}

function duration(value: string): number {
  try {
    return parseDuration(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

const collect = (value: string, previous: string[] = []) => [...previous, ...value.split(",").filter(Boolean)];

/** The commander definition of `secrets` and its subcommands `rotate`, `status` and `check`. */
export function secretsCommand(output: Output, setExit: (code: number) => void): Command {
  const secrets = new Command("secrets").description(
    "rotate credential secrets from environment variables into the vaults, and report their health",
  );
  const configure = (command: Command) =>
    command.exitOverride().configureOutput({ writeOut: output.out, writeErr: output.err });
  secrets.addCommand(
    configure(
      projectOptions(new Command("rotate"))
        .description(
          "write the credentials whose secret changed (or that do not exist yet), and nothing else; exit 1 if any failed or was skipped",
        )
        .option("--only <vault/credential...>", "only these credentials (repeat, or separate with commas)", collect)
        .option("--force", "rewrite secrets whose fingerprint matches too (a broker that reissues the same token)")
        .option("--json", "print only the results as JSON")
        .option(
          "--tunnels [name...]",
          "rotate the connector tokens of these tunnels (every declared tunnel without names) instead of credential secrets; prints only the new token ids",
        )
        .option(
          "--lock-timeout <duration>",
          "wait this long for the stack's lock (0, 30s, 5m, 1h; default 0)",
          duration,
        )
        .action(async (flags: RotateFlags) => setExit(await runRotate(flags, output))),
    ),
  );
  secrets.addCommand(
    configure(
      projectOptions(new Command("status"))
        .description(
          "list every credential's secret health: due after rotation.max_age, mcp_oauth expiring within 24h or expired (exit 2 if any)",
        )
        .option("--json", "print only the health as JSON")
        .action(async (flags: StatusFlags) => setExit(await runStatus(flags, output))),
    ),
  );
  secrets.addCommand(
    configure(
      projectOptions(new Command("check"))
        .description(
          "ask the API to validate every live mcp_oauth credential (valid / invalid / unknown); exit 2 if any is not valid or is due, 1 on error",
        )
        .option("--json", "print only the results as JSON")
        .action(async (flags: StatusFlags) => setExit(await runCheck(flags, output))),
    ),
  );
  return secrets;
}
