/**
 * Apply with duplicates present: a retried create of a replacement must not mistake a duplicate that was already
 * there for the object its lost request made (it would then archive the replaced one and the duplicate, and leave
 * the address empty). Deterministic: the SDK's `fetch` answers the first create with a 500 before it reaches the
 * emulator.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { envSecrets } from "../../src/providers/secrets.js";
import { applyPlan } from "../../src/reconcile/apply.js";
import { loadSpecs, preparePlan } from "../../src/reconcile/workflow.js";
import { copyFleet, removeDir } from "../e2e/helpers.js";

let emulator: RunningEmulator;
let dir: string;
let client: Anthropic;
const secrets = envSecrets({ WORKSPACE_MCP_TOKEN: "t" });

async function sandboxes() {
  const out: { id: string; type: string }[] = [];
  for await (const e of client.beta.environments.list()) {
    if (e.name === "export-sandbox") out.push({ id: e.id, type: e.config.type });
  }
  return out;
}

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  dir = await copyFleet();
  client = new Anthropic({ apiKey: "k", baseURL: emulator.url, maxRetries: 0 });
  const project = await loadSpecs(dir);
  const prepared = await preparePlan({ project, client, secrets });
  expect((await applyPlan(client, prepared.plan, prepared.desired, prepared.live, prepared.ctx)).failed).toBe(0);
});

afterAll(async () => {
  await emulator.close();
  await removeDir(dir);
});

describe("apply with a duplicate present", () => {
  it("retries a replacement's lost create instead of taking the duplicate for it", async () => {
    const [original] = await sandboxes();
    const live = await client.beta.environments.retrieve(original?.id ?? "");
    const duplicate = await client.beta.environments.create({
      name: live.name,
      description: live.description,
      config: live.config,
      metadata: live.metadata,
    } as never);
    await writeFile(
      join(dir, "environments", "export-sandbox.yaml"),
      "apiVersion: reconcile/v1\nkind: Environment\nname: export-sandbox\nconfig:\n  type: self_hosted\nmetadata:\n  team: support\n",
    );
    let failed = false;
    const faulty = new Anthropic({
      apiKey: "k",
      baseURL: emulator.url,
      maxRetries: 0,
      fetch: async (input, init) => {
        const path = new URL(String(input)).pathname;
        if (!failed && init?.method === "POST" && path === "/v1/environments") {
          failed = true;
          return new Response(JSON.stringify({ type: "error", error: { type: "api_error", message: "injected" } }), {
            status: 500,
            headers: { "content-type": "application/json" },
          });
        }
        return fetch(input, init);
      },
    });
    const project = await loadSpecs(dir);
    const prepared = await preparePlan({ project, client: faulty, secrets });
    expect(prepared.plan.actions.map((a) => `${a.action} ${a.id} ${a.duplicate_of ?? ""}`)).toEqual([
      `replace ${duplicate.id} `,
      `archive ${original?.id} ${duplicate.id}`,
    ]);
    const result = await applyPlan(faulty, prepared.plan, prepared.desired, prepared.live, prepared.ctx, {
      concurrency: 1,
      retry: { minDelayMs: 1, maxDelayMs: 5 },
    });
    expect(result.failed).toBe(0);
    expect(failed).toBe(true);
    const after = await sandboxes();
    expect(after).toHaveLength(1);
    expect(after[0]?.type).toBe("self_hosted");
    expect([original?.id, duplicate.id]).not.toContain(after[0]?.id);
  });
});
