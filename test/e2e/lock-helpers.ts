/** Helpers of the lock tests: a CLI run that can be watched and killed, and a count of owned objects per address. */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type Anthropic from "@anthropic-ai/sdk";
import { expect } from "vitest";
import { ownershipMetadata } from "../../src/providers/ownership.js";
import { parseSkillLabel, SKILLS_BETAS } from "../../src/providers/skill.js";
import { tunnelMetadata } from "../../src/providers/tunnel.js";
import { type CliResult, REPO } from "./helpers.js";

/** A CLI run we can watch and kill. */
export interface Running {
  child: ChildProcess;
  done: Promise<CliResult>;
  /** Resolves once stdout or stderr contains `text`. */
  sees: (text: string) => Promise<void>;
}

/** Starts `bin/reconcile args` with `env` on a clean environment, stdin closed; see `Running`. */
export function startCli(args: string[], env: Record<string, string>): Running {
  const child = spawn(process.execPath, [join(REPO, "bin", "reconcile"), ...args], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      RECONCILE_CACHE_DIR: process.env.RECONCILE_CACHE_DIR ?? "",
      ...env,
    },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const waiters: Array<{ text: string; resolve: () => void }> = [];
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
    for (const w of waiters.filter((x) => stdout.includes(x.text) || stderr.includes(x.text))) w.resolve();
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
    for (const w of waiters.filter((x) => stdout.includes(x.text) || stderr.includes(x.text))) w.resolve();
  });
  child.stdin?.end();
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
  const sees = (text: string) =>
    new Promise<void>((resolve, reject) => {
      if (stdout.includes(text) || stderr.includes(text)) return resolve();
      waiters.push({ text, resolve });
      void done.then(() => reject(new Error(`exited before printing ${JSON.stringify(text)}:\n${stdout}\n${stderr}`)));
    });
  return { child, done, sees };
}

/** How many live owned objects claim each address (type.name), through the SDK. */
export async function ownedCounts(client: Anthropic): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const count = (type: string, metadata: Record<string, string> | undefined) => {
    const name = metadata?.["reconcile/name"];
    if (metadata?.["managed-by"] === "reconcile" && name) {
      counts.set(`${type}.${name}`, (counts.get(`${type}.${name}`) ?? 0) + 1);
    }
  };
  for await (const a of client.beta.agents.list({ limit: 100 })) count("agent", a.metadata);
  for await (const e of client.beta.environments.list({ limit: 100 })) count("environment", e.metadata);
  for await (const v of client.beta.vaults.list({ limit: 100 })) {
    count("vault", v.metadata);
    for await (const c of client.beta.vaults.credentials.list(v.id, { limit: 100 })) count("credential", c.metadata);
  }
  // Skills have no metadata: their owner is in the label (docs/adr/0021-skill-identity.md).
  for await (const s of client.beta.skills.list({ limit: 100, source: "custom", betas: SKILLS_BETAS })) {
    const owner = parseSkillLabel(s.display_name).owner;
    if (owner) count("skill", ownershipMetadata(owner.stack, owner.name));
  }
  for await (const m of client.beta.memoryStores.list({ limit: 100 })) count("memory_store", m.metadata);
  for await (const t of client.beta.tunnels.list({ limit: 100 })) count("tunnel", tunnelMetadata(t as never));
  for await (const d of client.beta.deployments.list({ limit: 100 })) count("deployment", d.metadata);
  return counts;
}

/** Asserts one live object per address, and the example fleet's 8 addresses. */
export function expectNoDuplicates(counts: Map<string, number>): void {
  expect([...counts].filter(([, c]) => c > 1)).toEqual([]);
  expect(counts.size).toBe(11); // the example fleet
}

/** A loopback HTTP proxy in front of `target` that can hold every request until it is opened again. */
export interface Gate {
  url: string;
  /** From now on, requests wait (requests already forwarded go on). */
  close: () => void;
  /** Lets waiting and new requests through. */
  open: () => void;
  stop: () => Promise<void>;
}

/** Starts a `Gate` in front of `target` (e.g. an emulator's URL), open, on a random port. */
export async function startGate(target: string): Promise<Gate> {
  let waiting: Array<() => void> | null = null;
  const server = createServer((req, res) => {
    const forward = () => {
      const upstream = request(
        new URL(req.url ?? "/", target),
        { method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on("error", () => res.destroy());
      req.pipe(upstream);
    };
    if (waiting) waiting.push(forward);
    else forward();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      waiting ??= [];
    },
    open: () => {
      const held = waiting ?? [];
      waiting = null;
      for (const forward of held) forward();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
