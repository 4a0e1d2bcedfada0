/** Plans for the rendering tests, built by the real providers and `buildPlan` from resolved specs. */
import { agentProvider } from "../../src/providers/agent.js";
import { credentialProvider } from "../../src/providers/credential.js";
import type { DesiredResource, LiveResource, ProviderContext } from "../../src/providers/types.js";
import { vaultProvider } from "../../src/providers/vault.js";
import type { LiveState } from "../../src/reconcile/observe.js";
import { buildPlan, type Plan } from "../../src/reconcile/plan.js";
import type { DesiredSpecs, ResolvedAgent } from "../../src/spec/types.js";
import { agentSpec, vaultSpec } from "../providers/fixtures.js";

/** A secret value that must never appear in any rendering. */
export const CANARY = "canary-render-7d3e9a15";

/** Every hostile construct the Markdown and terminal renderings must neutralize, one per line. */
export const HOSTILE_LINES = [
  "</details>",
  "</summary><img src=x onerror=alert(1)>",
  "```",
  "````` ",
  "~~~",
  "@someone please look",
  "cc @org/team",
  "fixes #1 and GH-12 and owner/repo#1",
  "<img src=x onerror=alert(1)>",
  "[click](javascript:alert(1)) **bold** <script>alert(1)</script>",
  "\u001b[1A\u001b[2Kall good",
  "bell\u0007 nul\u0000 del\u007f csi\u009b bidi\u202eevil\u202c isolate\u2066x\u2069",
];

const HOSTILE = HOSTILE_LINES.join(" ");

/** The characters no rendering may print raw (C0 but tab and line feed, DEL, C1, bidi overrides and isolates). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
export const UNSAFE_RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** Any C0 control character. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
export const C0 = /[\u0000-\u001f]/;

const ctx = (token: string): ProviderContext => ({ stack: "test", secrets: () => token });

function desired(specs: DesiredSpecs, token: string): DesiredResource[] {
  const c = ctx(token);
  return [vaultProvider, credentialProvider, agentProvider].flatMap((p) => p.desired(specs, c));
}

/** Live state as if `resources` had been applied and read back. */
export function liveFrom(resources: DesiredResource[], extra: LiveResource[] = []): LiveState {
  const map = new Map<string, LiveResource>();
  resources.forEach((r, i) => {
    const parentId = r.dependsOn[0] ? map.get(r.dependsOn[0])?.id : undefined;
    map.set(r.address, {
      type: r.type,
      name: r.name,
      address: r.address,
      id: `id_${i}`,
      ...(r.type === "agent" ? { version: 1 } : {}),
      ...(parentId ? { parentId } : {}),
      state: r.state,
      metadata: {},
      protected: false,
      deleteOnPrune: false,
      created_at: "2026-01-01T00:00:00Z",
    });
  });
  for (const r of extra) map.set(r.address, r);
  return { resources: map, duplicates: [], adoptions: new Map(), adoptionErrors: new Map() };
}

const specs = (agents: ResolvedAgent[]): DesiredSpecs => ({
  agents,
  environments: [],
  vaults: [vaultSpec()],
  toolsets: [],
});

/**
 * A plan with every action a reviewer sees: a hostile agent created, a hostile agent updated (prompt diff,
 * description, metadata), a rotated secret (the canary), a resource no longer declared (kept), and a hostile warning.
 */
export function hostilePlan(): Plan {
  const name = `evil</details>@someone#1\u001b[2K`;
  const before = [agentSpec({ name: "updated", system: "line one\nline two\nline three" })];
  const after = [
    agentSpec({
      name: "updated",
      description: HOSTILE,
      system: ["line one", ...HOSTILE_LINES, "line three"].join("\n"),
      metadata: { team: HOSTILE },
    }),
    agentSpec({ name, description: HOSTILE, system: HOSTILE_LINES.join("\n") }),
  ];
  const gone = liveFrom(desired(specs([agentSpec({ name: `gone${HOSTILE}` })]), "x"));
  const keptExtra = [...gone.resources.values()].filter((r) => r.type === "agent");
  const plan = buildPlan(
    desired(specs(after), `${CANARY}-rotated`),
    liveFrom(
      desired(specs(before), CANARY),
      keptExtra.map((r) => ({ ...r, id: `agent_${HOSTILE}` })),
    ),
    { stack: "test", target: "default", now: () => new Date("2026-11-26T00:00:00Z") },
  );
  plan.warnings.push(`agent.${name}: ${HOSTILE}`);
  return plan;
}

/**
 * A plan over `n` agents whose prompts all change (`lines` changed lines each), plus one agent with a prompt of
 * `bigLines` lines, so the Markdown rendering exceeds one comment and one section exceeds one part.
 */
export function largePlan(n: number, lines: number, bigLines: number): Plan {
  const prompt = (tag: string, count: number) =>
    Array.from({ length: count }, (_, i) => `${tag} line ${i}: ${"`".repeat(i % 7)} text ${"x".repeat(40)}`).join("\n");
  const names = Array.from({ length: n }, (_, i) => `agent-${String(i).padStart(3, "0")}`);
  const before = [
    ...names.map((name) => agentSpec({ name, system: prompt("old", lines) })),
    agentSpec({ name: "giant", system: prompt("old", bigLines) }),
  ];
  const after = [
    ...names.map((name) => agentSpec({ name, system: prompt("new", lines) })),
    agentSpec({ name: "giant", system: prompt("new", bigLines) }),
  ];
  return buildPlan(desired(specs(after), CANARY), liveFrom(desired(specs(before), CANARY)), {
    stack: "test",
    target: "default",
    now: () => new Date("2026-11-26T00:00:00Z"),
  });
}

/** A plan whose agent gets a binary prompt (every byte value, decoded as UTF-8) and a 1 MB one-line description. */
export function binaryPlan(): Plan {
  const bytes = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) % 256));
  const before = [agentSpec({ name: "binary", system: "short\nprompt" })];
  const after = [agentSpec({ name: "binary", system: bytes.toString("utf8"), description: "d".repeat(1_000_000) })];
  return buildPlan(desired(specs(after), CANARY), liveFrom(desired(specs(before), CANARY)), {
    stack: "test",
    target: "default",
  });
}
