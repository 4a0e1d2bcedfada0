/**
 * The benchmark's synthetic fleet: a repository of valid, realistic specs (agents with varied models, prompts of a
 * few hundred characters, 1-3 toolsets each and built-in tool overrides; limited-networking environments; vaults of
 * `static_bearer` and `environment_variable` credentials whose secrets are `${env:BENCH_SECRET_n}` references; MCP
 * toolsets with per-tool allowlists; with the issue 11 kinds: memory stores, skill folders, tunnels and deployments),
 * written deterministically from a seed. Used by `npm run bench` and by
 * `test/bench/` (at a tiny size) so the generator cannot rot.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseDocument, stringify } from "yaml";
import { mulberry32 } from "../emulator/faults.js";

/** Sizes of the fleet and the seed that makes it reproducible. */
export interface FleetOptions {
  agents: number;
  environments: number;
  vaults: number;
  credentialsPerVault: number;
  toolsets: number;
  /** Memory stores (issue 11); each deployment mounts one. Default 0. */
  memoryStores?: number;
  /** Custom skills, each a folder with a SKILL.md and a script; every 25th agent uses one. Default 0. */
  skills?: number;
  /** MCP tunnels; every 10th toolset is reached through one (`tunnel:` + `host:`). Default 0. */
  tunnels?: number;
  /** Deployments, each pinned to an agent that the benchmark's change step edits (so each is repointed). Default 0. */
  deployments?: number;
  /** Same seed, same options → byte-identical files. */
  seed: number;
  /** The stack name written to `reconcile.yaml`; default `bench-fleet`. */
  stack?: string;
}

/** What `generateFleet` wrote. */
export interface GeneratedFleet {
  root: string;
  stack: string;
  /** Agent spec names, in generation order (index `i` is the `i`-th agent). */
  agentNames: string[];
  /** Per agent (same order), the file holding its system prompt: its spec (inline `system`) or a `prompts/*.md`. */
  promptFiles: { file: string; inline: boolean }[];
  /** The environment variables the credentials refer to (`BENCH_SECRET_n`), in order. */
  secretNames: string[];
  /** Number of spec files written (`reconcile.yaml` and prompt files not counted). */
  specFiles: number;
  /** Resources an apply of this fleet creates: agents + environments + vaults + credentials + the issue 11 kinds. */
  resources: number;
  /** Each deployment and the agent it pins (the change step's repoints). */
  deployments: { name: string; agent: string }[];
}

/** The default sizes of `npm run bench` (the issue's fleet). */
export const DEFAULT_FLEET: FleetOptions = {
  agents: 1000,
  environments: 100,
  vaults: 50,
  credentialsPerVault: 4,
  toolsets: 50,
  memoryStores: 20,
  skills: 10,
  tunnels: 5,
  deployments: 50,
  seed: 42,
};

const DOMAINS = [
  "billing",
  "exports",
  "search",
  "payments",
  "identity",
  "analytics",
  "support",
  "inventory",
  "shipping",
  "compliance",
  "onboarding",
  "security",
  "catalog",
  "reporting",
  "scheduling",
  "notifications",
];
const TEAMS = ["platform", "support", "growth", "finance", "workplace", "data", "security", "sales"];
const ROLES = ["triage", "assistant", "reviewer", "reporter", "investigator", "planner", "auditor", "concierge"];
const NOUNS = ["ticket", "invoice", "job", "order", "customer", "report", "event", "account", "shipment", "alert"];
const READ_VERBS = ["get", "list", "search", "describe"];
const WRITE_VERBS = ["create", "update", "retry", "cancel", "send", "close"];
const MODELS: (string | { id: string; effort?: string; speed?: string })[] = [
  "claude-haiku-4-5",
  "claude-sonnet-4-6",
  "claude-opus-4-7",
  { id: "claude-sonnet-4-6", effort: "medium" },
  { id: "claude-opus-4-7", effort: "high" },
  { id: "claude-haiku-4-5", speed: "standard" },
];
const OPENINGS = [
  "You are the {role} for the {team} team's {domain} work.",
  "You help the {team} team with {domain} requests, acting as their {role}.",
  "Act as a careful {role} for {domain}: the {team} team relies on your answers.",
];
const RULES = [
  "Read the {noun} before you act on it and quote the fields you relied on.",
  "Prefer read-only tools; every write waits for a human to approve it, so propose one change at a time.",
  "Never invent identifiers, amounts or dates that the tools did not return.",
  "If the request is ambiguous, state the reading you chose and why in one sentence.",
  "Keep customer data out of your notes unless the task needs it.",
  "When a tool fails twice, stop and report the error verbatim instead of retrying.",
  "Summarise what you checked, what you changed, and what a human should do next.",
  "Escalate anything that touches money, access rights or deletion to the on-call engineer.",
];

/** The folders a fleet is written into. */
const FOLDERS = [
  "agents",
  "environments",
  "vaults",
  "toolsets",
  "prompts",
  "memory-stores",
  "skills",
  "tunnels",
  "deployments",
];

const pad = (n: number, width: number) => String(n).padStart(width, "0");
const modeline = (schema: string) => `# yaml-language-server: $schema=../schemas/${schema}.schema.json\n`;

/**
 * Writes a synthetic fleet under `dir` (created if missing): `reconcile.yaml`, `agents/`, `environments/`,
 * `vaults/`, `toolsets/` and `prompts/`, one spec per file with the schema modeline. Every spec is valid; the same
 * options give the same bytes. With at least 2 toolsets, a vault's `static_bearer` credentials name distinct
 * toolsets (a vault holds one credential per MCP server URL); otherwise they use their own `mcp_server_url`.
 */
export async function generateFleet(dir: string, options: FleetOptions): Promise<GeneratedFleet> {
  const rand = mulberry32(options.seed);
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)] as T;
  const chance = (p: number) => rand() < p;
  /** `k` distinct items of `list` (all of them when it has fewer). */
  const sample = <T>(list: readonly T[], k: number): T[] => {
    const copy = [...list];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = int(i + 1);
      [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
    }
    return copy.slice(0, Math.min(k, copy.length));
  };
  const stack = options.stack ?? "bench-fleet";
  const root = path.resolve(dir);
  const counts = {
    memoryStores: options.memoryStores ?? 0,
    skills: options.skills ?? 0,
    tunnels: options.tunnels ?? 0,
    deployments: options.deployments ?? 0,
  };
  for (const sub of FOLDERS) {
    await mkdir(path.join(root, sub), { recursive: true });
  }
  const writes: Promise<void>[] = [];
  const write = (rel: string, text: string) => writes.push(writeFile(path.join(root, rel), text));
  const yaml = (value: unknown) => stringify(value, { lineWidth: 0 });

  // Toolsets: one MCP server each, mostly with an allowlist of read tools (allowed) and write tools (asked).
  const tunnelNames: string[] = [];
  for (let t = 0; t < counts.tunnels; t++) {
    const name = `tunnel-${pad(t, 3)}`;
    tunnelNames.push(name);
    const spec = { apiVersion: "reconcile/v1", kind: "Tunnel", name, display_name: `Private network ${t}` };
    write(`tunnels/${name}.yaml`, modeline("tunnel") + yaml(spec));
  }

  const toolsetNames: string[] = [];
  const toolsetUrls: string[] = [];
  // Toolsets a credential may name: not those behind a tunnel (their URL is known only after apply).
  const urlToolsets: string[] = [];
  for (let i = 0; i < options.toolsets; i++) {
    const domain = DOMAINS[i % DOMAINS.length] as string;
    const name = `${domain}-tools-${pad(i, 3)}`;
    const url = `https://${domain}-${pad(i, 3)}.mcp.example.com/mcp`;
    toolsetNames.push(name);
    toolsetUrls.push(url);
    const tunnel =
      tunnelNames.length > 0 && i % 10 === 9 ? tunnelNames[Math.floor(i / 10) % tunnelNames.length] : undefined;
    if (!tunnel) urlToolsets.push(name);
    const spec: Record<string, unknown> = {
      apiVersion: "reconcile/v1",
      kind: "McpToolset",
      name,
      description: `The ${domain} service's MCP server (synthetic toolset ${i}).`,
      ...(tunnel ? { tunnel, host: `${domain}-${pad(i, 3)}`, path: "/mcp" } : { url }),
    };
    if (chance(0.3)) spec.default_permission_policy = pick(["always_ask", "auto", "always_allow"]);
    if (i % 8 !== 7) {
      const nouns = sample(NOUNS, 1 + int(3));
      const tools: { name: string; permission_policy?: string }[] = [];
      for (const noun of nouns) {
        for (const verb of sample(READ_VERBS, 1 + int(2)))
          tools.push({ name: `${verb}_${noun}`, permission_policy: "always_allow" });
        if (chance(0.7)) {
          const verb = pick(WRITE_VERBS);
          const tool: { name: string; permission_policy?: string } = { name: `${verb}_${noun}` };
          if (!chance(0.2)) tool.permission_policy = verb === "retry" ? "auto" : "always_ask";
          tools.push(tool);
        }
      }
      spec.tools = tools;
    }
    write(`toolsets/${name}.yaml`, modeline("mcp-toolset") + yaml(spec));
  }

  // Environments: mostly cloud with limited networking, some with packages, a few unrestricted or self-hosted.
  const cloudEnvironments: string[] = [];
  for (let i = 0; i < options.environments; i++) {
    const domain = DOMAINS[i % DOMAINS.length] as string;
    const team = pick(TEAMS);
    const name = `env-${pad(i, 3)}-${domain}`;
    let config: Record<string, unknown>;
    const shape = rand();
    if (shape < 0.05) config = { type: "self_hosted" };
    else if (shape < 0.2) {
      config = { type: "cloud", networking: { type: "unrestricted" }, packages: { npm: ["typescript", "zod"] } };
    } else {
      const hosts = [`api.${domain}.example.com`, `${domain}.internal.example.com`, "status.example.com"];
      if (chance(0.3)) hosts.push("*.cdn.example.com");
      const networking: Record<string, unknown> = {
        type: "limited",
        allowed_hosts: sample(hosts, 1 + int(hosts.length)),
        allow_mcp_servers: true,
      };
      config = { type: "cloud", networking };
      if (chance(0.35)) {
        networking.allow_package_managers = true;
        config.packages = { apt: sample(["jq", "curl", "postgresql-client", "ripgrep"], 1 + int(3)), pip: ["httpx"] };
      }
    }
    if (config.type === "cloud") cloudEnvironments.push(name);
    const spec = {
      apiVersion: "reconcile/v1",
      kind: "Environment",
      name,
      description: `Sandbox for the ${team} team's ${domain} agents.`,
      config,
      metadata: { team, "cost-center": String(4000 + int(900)) },
    };
    write(`environments/${name}.yaml`, modeline("environment") + yaml(spec));
  }

  // Vaults: alternating static_bearer (for a toolset's server) and environment_variable credentials.
  const secretNames: string[] = [];
  const secret = () => {
    const name = `BENCH_SECRET_${secretNames.length}`;
    secretNames.push(name);
    return `\${env:${name}}`;
  };
  for (let v = 0; v < options.vaults; v++) {
    const team = TEAMS[v % TEAMS.length] as string;
    const name = `vault-${pad(v, 3)}-${team}`;
    const bearerToolsets = urlToolsets.length >= 2 ? sample(urlToolsets, options.credentialsPerVault) : [];
    const credentials: Record<string, unknown>[] = [];
    for (let c = 0; c < options.credentialsPerVault; c++) {
      const bearer = c % 2 === 0;
      const toolset = bearerToolsets[c / 2];
      const auth: Record<string, unknown> = bearer
        ? toolset
          ? { type: "static_bearer", toolset, token: secret() }
          : {
              type: "static_bearer",
              mcp_server_url: `https://vault-${v}-cred-${c}.mcp.example.com/mcp`,
              token: secret(),
            }
        : {
            type: "environment_variable",
            secret_name: `SERVICE_TOKEN_${c}`,
            secret_value: secret(),
            networking: { type: "limited", allowed_hosts: [`api.${pick(DOMAINS)}.example.com`] },
            injection_location: { header: true },
          };
      credentials.push({
        name: bearer ? `mcp-token-${c}` : `service-token-${c}`,
        display_name: bearer ? `MCP token ${c} of ${team}` : `Service token ${c} of ${team}`,
        auth,
      });
    }
    const spec = {
      apiVersion: "reconcile/v1",
      kind: "Vault",
      name,
      display_name: `${team} credentials ${v}`,
      metadata: { team },
      credentials,
    };
    write(`vaults/${name}.yaml`, modeline("vault") + yaml(spec));
  }

  // Skills: a folder each (SKILL.md with frontmatter and one script) and its spec beside it.
  const skillNames: string[] = [];
  for (let k = 0; k < counts.skills; k++) {
    const domain = DOMAINS[k % DOMAINS.length] as string;
    const name = `${domain}-runbook-${pad(k, 3)}`;
    skillNames.push(name);
    await mkdir(path.join(root, "skills", name, "scripts"), { recursive: true });
    write(
      `skills/${name}/SKILL.md`,
      `---\nname: ${name}\ndescription: How the ${domain} team investigates an alert (synthetic skill ${k}).\n---\n\n# ${domain} runbook\n\n1. Read the alert.\n2. Run scripts/check.sh with the alert id.\n3. Write down what you found.\n`,
    );
    write(`skills/${name}/scripts/check.sh`, `#!/bin/sh\necho "checking ${domain} alert $1"\n`);
    const spec = {
      apiVersion: "reconcile/v1",
      kind: "Skill",
      name,
      path: name,
      display_name: `${domain} runbook ${k}`,
    };
    write(`skills/${name}.yaml`, modeline("skill") + yaml(spec));
  }
  const memoryStoreNames: string[] = [];
  for (let m = 0; m < counts.memoryStores; m++) {
    const team = TEAMS[m % TEAMS.length] as string;
    const name = `notes-${pad(m, 3)}-${team}`;
    memoryStoreNames.push(name);
    const spec = {
      apiVersion: "reconcile/v1",
      kind: "MemoryStore",
      name,
      description: `The ${team} team's notes from past runs (synthetic store ${m}); read them before you start.`,
      metadata: { team },
    };
    write(`memory-stores/${name}.yaml`, modeline("memory-store") + yaml(spec));
  }

  // Agents: varied models, prompts inline (or in prompts/ for every 7th), 1-3 toolsets, some tool overrides.
  const agentNames: string[] = [];
  const promptFiles: GeneratedFleet["promptFiles"] = [];
  for (let a = 0; a < options.agents; a++) {
    const role = pick(ROLES);
    const domain = pick(DOMAINS);
    const team = pick(TEAMS);
    const name = `agent-${pad(a, 4)}-${domain}-${role}`;
    agentNames.push(name);
    const fill = (s: string) =>
      s
        .replaceAll("{role}", role)
        .replaceAll("{team}", team)
        .replaceAll("{domain}", domain)
        .replaceAll("{noun}", pick(NOUNS));
    const prompt = `${fill(pick(OPENINGS))}\n\n${sample(RULES, 3 + int(3))
      .map((r) => `- ${fill(r)}`)
      .join("\n")}\n`;
    const spec: Record<string, unknown> = {
      apiVersion: "reconcile/v1",
      kind: "Agent",
      name,
      description: `${role[0]?.toUpperCase()}${role.slice(1)} for ${domain} (team ${team}).`,
      model: pick(MODELS),
    };
    if (a % 7 === 6) {
      spec.system_file = `../prompts/${name}.md`;
      write(`prompts/${name}.md`, prompt);
      promptFiles.push({ file: `prompts/${name}.md`, inline: false });
    } else {
      spec.system = prompt;
      promptFiles.push({ file: `agents/${name}.yaml`, inline: true });
    }
    if (toolsetNames.length > 0) spec.toolsets = sample(toolsetNames, 1 + int(3));
    const tools: Record<string, unknown>[] = [];
    if (chance(0.4)) {
      const configs: Record<string, unknown>[] = [{ name: "bash", permission_policy: "always_ask" }];
      if (chance(0.5)) configs.push({ name: "web_search", enabled: false });
      if (chance(0.3)) configs.push({ name: "read", permission_policy: "always_allow" });
      tools.push({ type: "agent_toolset_20260401", configs });
    }
    if (chance(0.1)) {
      tools.push({
        type: "custom",
        name: `lookup_${domain}_${pick(NOUNS)}`,
        description: `Looks up a ${domain} record by id in the team's own system.`,
        input_schema: { type: "object", properties: { id: { type: "string" } }, required: ["id"] },
      });
    }
    if (tools.length > 0) spec.tools = tools;
    if (skillNames.length > 0 && a % 25 === 3)
      spec.skills = [{ skill: skillNames[Math.floor(a / 25) % skillNames.length] }];
    spec.metadata = { team, owner: `${team}-automation`, tier: pick(["production", "staging", "experimental"]) };
    write(`agents/${name}.yaml`, modeline("agent") + yaml(spec));
  }

  // Deployments: each pins every 20th agent (agents the change step edits, so apply repoints them), a cloud
  // environment and a memory store, with a nightly schedule.
  const deployments: GeneratedFleet["deployments"] = [];
  const deploymentCount = cloudEnvironments.length > 0 ? Math.min(counts.deployments, agentNames.length) : 0;
  for (let d = 0; d < deploymentCount; d++) {
    const agent = agentNames[(d * 20) % agentNames.length] as string;
    const name = `nightly-${pad(d, 3)}`;
    deployments.push({ name, agent });
    const spec: Record<string, unknown> = {
      apiVersion: "reconcile/v1",
      kind: "Deployment",
      name,
      agent,
      environment: cloudEnvironments[d % cloudEnvironments.length],
      message: "Review what changed since the last run and write a short report.",
      schedule: { cron: `${d % 60} 2 * * *`, timezone: "UTC" },
    };
    if (memoryStoreNames.length > 0) spec.memory_stores = [{ name: memoryStoreNames[d % memoryStoreNames.length] }];
    write(`deployments/${name}.yaml`, modeline("deployment") + yaml(spec));
  }

  // The variables the credentials read are declared (secret_env), as every stack must.
  write(
    "reconcile.yaml",
    `# Synthetic benchmark fleet (generated by src/bench/fleet.ts, seed ${options.seed}).\nstack: ${stack}\n${secretNames.length > 0 ? `secret_env:\n${secretNames.map((n) => `  - ${n}\n`).join("")}` : ""}`,
  );
  await Promise.all(writes);
  return {
    root,
    stack,
    agentNames,
    promptFiles,
    secretNames,
    specFiles:
      options.agents +
      options.environments +
      options.vaults +
      options.toolsets +
      tunnelNames.length +
      skillNames.length +
      memoryStoreNames.length +
      deployments.length,
    resources:
      options.agents +
      options.environments +
      options.vaults * (1 + options.credentialsPerVault) +
      tunnelNames.length +
      skillNames.length +
      memoryStoreNames.length +
      deployments.length,
    deployments,
  };
}

/** The value `BENCH_SECRET_n` gets: deterministic, distinct per variable. */
export function benchSecretValue(name: string): string {
  return `bench-${name.toLowerCase()}-value`;
}

/** Sets every secret the fleet refers to in `env` (default `process.env`), so plan can fingerprint and apply send. */
export function setFleetSecrets(fleet: GeneratedFleet, env: NodeJS.ProcessEnv = process.env): void {
  for (const name of fleet.secretNames) env[name] = benchSecretValue(name);
}

/**
 * Edits the system prompt of every `every`-th agent (indexes 0, every, 2·every, ...), appending one sentence tagged
 * with `revision` so repeated calls keep changing it. Rewrites inline prompts through the YAML document (comments
 * and the modeline survive) and appends to `prompts/*.md` files.
 * @returns the names of the agents changed
 */
export async function changeAgentPrompts(fleet: GeneratedFleet, every: number, revision = 1): Promise<string[]> {
  const changed: string[] = [];
  const sentence = `Revision ${revision}: confirm the request's id in your first reply.`;
  for (let i = 0; i < fleet.agentNames.length; i += every) {
    const prompt = fleet.promptFiles[i];
    if (!prompt) continue;
    const file = path.join(fleet.root, prompt.file);
    const text = await readFile(file, "utf8");
    if (prompt.inline) {
      const doc = parseDocument(text);
      doc.set("system", `${String(doc.get("system"))}${sentence}\n`);
      await writeFile(file, doc.toString({ lineWidth: 0 }));
    } else {
      await writeFile(file, `${text}${sentence}\n`);
    }
    changed.push(fleet.agentNames[i] as string);
  }
  return changed;
}
