/**
 * `reconcile tunnel token NAME` and the tunnel half of `reconcile secrets rotate --tunnels` (issue 11 item 4;
 * docs/secrets.md, "Tunnel tokens").
 *
 * - `tunnel token NAME [--json]`: reveals the connector token of the Tunnel spec NAME (SDK `tunnels.revealToken`),
 *   for an operator who sets up the tunnel's connector. The token goes to stdout and nowhere else (nothing else is
 *   printed on stdout), with a warning on stderr; `--json` prints `{"tunnel", "token_id", "token"}` instead, still on
 *   stdout only, for a script that stores it in a secret manager. Plan, apply, logs and plan files never hold it.
 * - `secrets rotate --tunnels [NAME...]`: rotates the connector tokens of those tunnels (every declared tunnel
 *   without names) through the API (SDK `tunnels.rotateToken`), under the apply lock, and prints only the new token
 *   ids. The old token stops working for new connections; restart the connector with the new one
 *   (`reconcile tunnel token NAME`).
 */
import type Anthropic from "@anthropic-ai/sdk";
import { Command } from "commander";
import { createColors } from "picocolors";
import { revealTunnelToken, rotateTunnelToken, tunnelProvider } from "../../providers/tunnel.js";
import type { LiveResource } from "../../providers/types.js";
import { describeError } from "../../reconcile/apply.js";
import { escapeJsonText, escapeControl as safe } from "../../reconcile/escape.js";
import { observe } from "../../reconcile/observe.js";
import type { LoadedProject } from "../../reconcile/workflow.js";
import { adoptEntriesFor } from "../../spec/project-config.js";
import { didYouMean } from "../../spec/suggest.js";
import { withLockedProject } from "../apply-lock.js";
import type { Output } from "../output.js";
import { type ProjectFlags, projectOptions, withProject } from "../session.js";

/** Flags of `tunnel token`. */
export interface TokenFlags extends ProjectFlags {
  json?: boolean;
}

/**
 * The Tunnel spec names `names` asks for, checked against the specs (every declared one for an empty list).
 * @throws Error naming the unknown names, with a suggestion and the declared ones
 */
export function selectTunnels(project: LoadedProject, names: readonly string[]): string[] {
  const declared = (project.specs.tunnels ?? []).map((t) => t.name);
  const unknown = names.filter((name) => !declared.includes(name));
  if (unknown.length > 0) {
    const first = unknown[0] ?? "";
    throw new Error(
      `no Tunnel spec named ${unknown.map((n) => `"${n}"`).join(", ")}${didYouMean(first, declared)}; declared: ${declared.join(", ") || "none"}`,
    );
  }
  return names.length > 0 ? [...new Set(names)].sort() : declared;
}

/**
 * The live tunnels of the project's stack and target by address (`tunnel.NAME`), as `reconcile plan` sees them: owned
 * (the display-name tag) or named by an `adopt:` entry. Lists tunnels only.
 * @throws the SDK's `APIError` or the request layer's errors when listing fails
 */
export async function observeTunnels(client: Anthropic, project: LoadedProject): Promise<Map<string, LiveResource>> {
  const adopt = adoptEntriesFor(project.config, project.target.name)
    .filter((a) => a.address.startsWith("tunnel."))
    .map(({ address, id }) => ({ address, id }));
  const ctx = { stack: project.config.stack, secrets: () => undefined };
  const live = await observe(client, ctx, { adopt, providers: [tunnelProvider] });
  return new Map([...live.resources, ...live.adoptions]);
}

/** The live tunnel of spec `name`. @throws Error saying to apply first when it does not exist in the target. */
function liveTunnel(live: Map<string, LiveResource>, project: LoadedProject, name: string): LiveResource {
  const found = live.get(`tunnel.${name}`);
  if (!found) {
    throw new Error(
      `tunnel.${name} does not exist in target ${project.target.name} yet: run \`reconcile apply\` to create it`,
    );
  }
  return found;
}

/** Runs `tunnel token NAME` and returns the exit code (0 printed, 1 error). */
export function runToken(name: string, flags: TokenFlags, output: Output): Promise<number> {
  return withProject(flags, output, async (project, connection) => {
    const [selected] = selectTunnels(project, [name]);
    const tunnel = liveTunnel(await observeTunnels(connection.client, project), project, selected ?? name);
    const token = await revealTunnelToken(connection.client, tunnel.id);
    output.err(
      `Warning: this is the connector token of ${safe(tunnel.address)} (${safe(tunnel.id)}), a secret: give it to the tunnel's connector only, and keep it out of logs, tickets and shell history. If it leaks, run \`reconcile secrets rotate --tunnels ${safe(tunnel.name)}\`.\n`,
    );
    if (flags.json) {
      const doc = { tunnel: tunnel.name, token_id: token.id, token: token.tunnel_token };
      output.out(`${escapeJsonText(JSON.stringify(doc, null, 2))}\n`);
    } else {
      output.out(`${token.tunnel_token}\n`);
    }
    return 0;
  });
}

/** Flags of `secrets rotate --tunnels`. */
export interface RotateTunnelsFlags extends ProjectFlags {
  json?: boolean;
  /** `--lock-timeout`, in ms. */
  lockTimeout?: number;
}

/** One tunnel's token rotation, as printed and as `--json` lists it. Never holds a token. */
export interface TunnelRotationResult {
  address: string;
  status: "rotated" | "skipped" | "failed";
  /** The new token's id (`BetaTunnelToken.id`), when rotated. */
  token_id?: string;
  /** Why it was skipped or failed: names and server messages, never a value. */
  reason?: string;
  duration_ms: number;
}

const SYMBOLS: Record<TunnelRotationResult["status"], string> = { rotated: "~", skipped: "-", failed: "✗" };

/**
 * Runs `secrets rotate --tunnels [NAME...]` and returns the exit code: 0 when every selected tunnel was rotated, 1
 * when any was skipped (not created yet) or failed, or on error. Under the apply lock, like every write.
 */
export function runRotateTunnels(names: readonly string[], flags: RotateTunnelsFlags, output: Output): Promise<number> {
  const lock = { operation: "secrets rotate --tunnels", timeoutMs: flags.lockTimeout ?? 0 };
  return withLockedProject(flags, output, lock, async (project, connection, signal) => {
    const selected = selectTunnels(project, names);
    const live = await observeTunnels(connection.client, project);
    const reason = `reconcile secrets rotate --tunnels (stack ${project.config.stack}, target ${project.target.name})`;
    const list: TunnelRotationResult[] = [];
    for (const name of selected) {
      const address = `tunnel.${name}`;
      const tunnel = live.get(address);
      if (!tunnel) {
        list.push({ address, status: "skipped", reason: "not created yet: run `reconcile apply`", duration_ms: 0 });
        continue;
      }
      if (signal.aborted) {
        list.push({ address, status: "failed", reason: describeError(signal.reason), duration_ms: 0 });
        continue;
      }
      const started = performance.now();
      try {
        const token = await rotateTunnelToken(connection.client, tunnel.id, reason);
        list.push({
          address,
          status: "rotated",
          token_id: token.id,
          duration_ms: Math.round(performance.now() - started),
        });
      } catch (error) {
        const duration_ms = Math.round(performance.now() - started);
        list.push({ address, status: "failed", reason: describeError(error), duration_ms });
      }
    }
    const bad = list.some((r) => r.status !== "rotated") ? 1 : 0;
    if (flags.json) {
      const doc = { stack: project.config.stack, target: project.target.name, tunnels: list };
      output.out(`${escapeJsonText(JSON.stringify(doc, null, 2))}\n`);
      return bad;
    }
    const c = createColors(output.color);
    for (const r of list) {
      const what = r.status === "rotated" ? `rotated, new token id ${safe(r.token_id ?? "")}` : r.status;
      const why = r.reason ? `: ${safe(r.reason)}` : "";
      const time = r.status === "skipped" ? "" : ` ${c.dim(`[${(r.duration_ms / 1000).toFixed(1)}s]`)}`;
      const line = `${SYMBOLS[r.status]} ${safe(r.address)}: ${what}${why}${time}`;
      output.out(`${r.status === "failed" ? c.red(line) : r.status === "skipped" ? c.yellow(line) : line}\n`);
    }
    if (list.length === 0) output.out("No tunnels declared: nothing to rotate.\n");
    const count = (status: TunnelRotationResult["status"]) => list.filter((r) => r.status === status).length;
    output.out(
      `\n${c.bold(`Tunnel tokens: ${count("rotated")} rotated, ${count("skipped")} skipped, ${count("failed")} failed.`)}\n`,
    );
    if (count("rotated") > 0) {
      output.out("Restart each rotated tunnel's connector with its new token: `reconcile tunnel token NAME`.\n");
    }
    return bad;
  });
}

/** The commander definition of `tunnel` and its subcommand `token`. */
export function tunnelCommand(output: Output, setExit: (code: number) => void): Command {
  const tunnel = new Command("tunnel").description("operate the MCP tunnels the specs declare");
  tunnel.addCommand(
    projectOptions(new Command("token"))
      .description(
        "print the connector token of the tunnel NAME on stdout (only there; a warning on stderr), for the tunnel's connector",
      )
      .argument("<name>", "the Tunnel spec name")
      .option("--json", 'print {"tunnel", "token_id", "token"} as JSON instead (stdout only)')
      .exitOverride()
      .configureOutput({ writeOut: output.out, writeErr: output.err })
      .action(async (name: string, flags: TokenFlags) => setExit(await runToken(name, flags, output))),
  );
  return tunnel;
}
