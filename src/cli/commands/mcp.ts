/**
 * `reconcile mcp [--dir DIR] [--target NAME] [--local] [--http [--host H] [--port N]] [--allow-destructive]
 * [--approvals elicit|client]`: serve the MCP runtime server (src/mcp/) for the stack's agents, over stdio (default)
 * or Streamable HTTP at `/mcp` with `GET /healthz`. docs/mcp.md has the client setup; ADR 0014 the approval gate
 * and the auth model.
 *
 * HTTP auth: the bearer token is read from the environment variable `--token-env` names (default
 * RECONCILE_MCP_TOKEN; never from a flag, which `ps` would show); OIDC with `--oidc-issuer` and
 * `--oidc-audience`. Without either, the server only starts on a loopback host. Runs until stdin closes (stdio) or
 * SIGINT/SIGTERM; exit 0, or 1 when it cannot start. `mcp.agents` in reconcile.yaml narrows the agents offered.
 */
import { Command, Option } from "commander";
import { jsonLineAudit } from "../../mcp/audit.js";
import type { AuthOptions } from "../../mcp/auth.js";
import { serveHttp } from "../../mcp/http.js";
import { createMcpServer, type McpServerDeps, serveStdio } from "../../mcp/server.js";
import { StackIndex } from "../../mcp/stack.js";
import { observeOutputs } from "../../reconcile/outputs.js";
import type { Output } from "../output.js";
import { type ProjectFlags, projectOptions, withProject } from "../session.js";

/** Flags of `mcp`. */
export interface McpFlags extends ProjectFlags {
  http?: boolean;
  host: string;
  port: string;
  tokenEnv: string;
  oidcIssuer?: string;
  oidcAudience?: string;
  oidcJwksUrl?: string;
  oidcAlgorithms?: string;
  allowedHost: string[];
  allowedOrigin: string[];
  allowDestructive?: boolean;
  approvals: "elicit" | "client";
  refreshSeconds: string;
  rateLimit: string;
}

/** The inbound auth the flags and environment configure, or null for none. */
export function authFromFlags(flags: McpFlags, env: NodeJS.ProcessEnv = process.env): AuthOptions | null {
  const token = env[flags.tokenEnv];
  const auth: AuthOptions = {};
  if (token !== undefined && token !== "") auth.token = token;
  if (flags.oidcIssuer || flags.oidcAudience) {
    auth.oidc = {
      issuer: flags.oidcIssuer ?? "",
      audience: flags.oidcAudience ?? "",
      ...(flags.oidcJwksUrl ? { jwksUrl: flags.oidcJwksUrl } : {}),
      ...(flags.oidcAlgorithms ? { algorithms: flags.oidcAlgorithms.split(",").map((a) => a.trim()) } : {}),
    };
  }
  return auth.token !== undefined || auth.oidc ? auth : null;
}

/** Resolves on SIGINT or SIGTERM. */
const signalled = () =>
  new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });

/** Runs the server until it is stopped; returns the exit code. */
export function runMcp(flags: McpFlags, output: Output, version: string): Promise<number> {
  // With --local, sessions are written to the state file: hold its lock for the server's life (ADR 8).
  const localLock = flags.local ? { operation: "mcp", timeoutMs: 0 } : undefined;
  return withProject(
    flags,
    output,
    async (project, connection) => {
      const allowAgents = project.config.mcp_agents ?? null;
      const declared = new Set(project.specs.agents.map((a) => a.name));
      const unknown = (allowAgents ?? []).filter((name) => !declared.has(name));
      if (unknown.length > 0) {
        throw new Error(
          `reconcile.yaml mcp.agents names ${unknown.join(", ")}, which no Agent spec declares; the agents are: ${[...declared].join(", ") || "(none)"}`,
        );
      }
      const index = new StackIndex({
        observe: () => observeOutputs(project, connection.client, connection.secrets),
        allowAgents,
        refreshMs: Number(flags.refreshSeconds) * 1000,
      });
      await index.refresh(); // fail now (bad key, unreachable API), not on the first tool call
      const deps: McpServerDeps = {
        client: connection.client,
        index,
        audit: jsonLineAudit((line) => output.err(line)),
        log: (line) => output.err(line),
        tools: { approvals: flags.approvals, allowDestructive: flags.allowDestructive === true },
        version,
      };
      if (!flags.http) {
        await serveStdio(deps);
        return 0;
      }
      const http = await serveHttp({
        host: flags.host,
        port: Number(flags.port),
        auth: authFromFlags(flags),
        allowedHosts: flags.allowedHost,
        allowedOrigins: flags.allowedOrigin,
        rateLimitPerMinute: Number(flags.rateLimit),
        createServer: () => createMcpServer(deps),
        log: (line) => output.err(line),
      });
      if (["0.0.0.0", "::"].includes(flags.host) && flags.allowedHost.length === 0) {
        output.err(
          "reconcile mcp: note: only loopback Host headers are accepted; add --allowed-host NAME for the name clients use\n",
        );
      }
      output.err(
        `reconcile mcp: serving stack ${project.config.stack} (target ${project.target.name}) at ${http.url}/mcp\n`,
      );
      await signalled();
      await http.close();
      return 0;
    },
    localLock,
  );
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** The commander definition of `mcp`. */
export function mcpCommand(output: Output, setExit: (code: number) => void, version: string): Command {
  return projectOptions(new Command("mcp"))
    .description("serve an MCP server that runs, watches and steers sessions of the stack's agents (stdio or HTTP)")
    .option("--http", "serve Streamable HTTP at /mcp instead of stdio")
    .option("--host <host>", "HTTP: the address to bind", "127.0.0.1")
    .option("--port <port>", "HTTP: the port (0 picks a free one)", "8787")
    .option(
      "--token-env <name>",
      "HTTP: the environment variable holding the bearer token (32+ characters)",
      "RECONCILE_MCP_TOKEN",
    )
    .option("--oidc-issuer <url>", "HTTP: accept OIDC access tokens (JWTs) from this issuer")
    .option("--oidc-audience <aud>", "HTTP: the audience those tokens must carry")
    .option("--oidc-jwks-url <url>", "HTTP: the issuer's JWKS (default <issuer>/.well-known/jwks.json)")
    .option(
      "--oidc-algorithms <list>",
      "HTTP: accepted JWT algorithms, comma-separated (asymmetric only; default RS256,ES256,EdDSA,...)",
    )
    .option("--allowed-host <name>", "HTTP: another Host header name to accept (repeatable)", collect, [])
    .option("--allowed-origin <origin>", "HTTP: a browser Origin to accept (repeatable)", collect, [])
    .option("--allow-destructive", "offer session_archive")
    .addOption(
      new Option(
        "--approvals <mode>",
        "who confirms an allow: elicit (a person, via MCP elicitation) or client (trust the caller)",
      )
        .choices(["elicit", "client"])
        .default("elicit"),
    )
    .option("--refresh-seconds <n>", "re-read the stack's resources when older than this", "60")
    .option("--rate-limit <n>", "HTTP: requests per minute per client", "120")
    .action(async (flags: McpFlags) => setExit(await runMcp(flags, output, version)));
}
