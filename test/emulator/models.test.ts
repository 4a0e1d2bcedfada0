import { readFileSync } from "node:fs";
import type Anthropic from "@anthropic-ai/sdk";
import type { AgentCreateParams } from "@anthropic-ai/sdk/resources/beta/agents/agents.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEmulator } from "../../src/emulator/index.js";
import { MODELS } from "../../src/emulator/models.js";
import { expectApiError, sdk, start } from "./helpers.js";

/**
 * The model table through the unmodified SDK: `model.effort` is always present (SDK: "Always present; resolved to
 * the per-model default at save time when not supplied"), unknown ids and combinations a model does not accept are
 * 400s, and sessions snapshot the same resolved model.
 */

let emu: RunningEmulator;
let client: Anthropic;

beforeAll(async () => {
  emu = await start();
  client = sdk(emu);
});
afterAll(async () => {
  await emu.close();
});

describe("model.effort is always present", () => {
  it("create without effort resolves each model's default, in responses and lists", async () => {
    const a = await client.beta.agents.create({ name: "no-effort", model: "claude-haiku-4-5" });
    expect(a.model.effort).toEqual({ type: MODELS["claude-haiku-4-5"].defaultEffort });
    const b = await client.beta.agents.create({ name: "obj-no-effort", model: { id: "claude-opus-4-7" } });
    expect(b.model).toEqual({ id: "claude-opus-4-7", effort: { type: "high" }, speed: "standard" });
    const c = await client.beta.agents.create({ name: "null-effort", model: { id: "claude-opus-4-7", effort: null } });
    expect(c.model.effort).toEqual({ type: "high" });
    const listed = await client.beta.agents.retrieve(a.id);
    expect(listed.model.effort).toEqual({ type: "high" });
  });

  it("an update without effort keeps the stored one; sessions snapshot the resolved model", async () => {
    const a = await client.beta.agents.create({ name: "keep", model: { id: "claude-opus-4-7", effort: "low" } });
    const b = await client.beta.agents.update(a.id, { version: a.version, model: "claude-opus-4-6" });
    expect(b.model).toEqual({ id: "claude-opus-4-6", effort: { type: "low" }, speed: "standard" });
    const env = await client.beta.environments.create({ name: "models-env" });
    const session = await client.beta.sessions.create({ agent: a.id, environment_id: env.id });
    expect(session.agent.model).toEqual(b.model);
  });
});

describe("model validation", () => {
  it("the table lists exactly the named models of the SDK's BetaManagedAgentsModel", () => {
    const dts = readFileSync("node_modules/@anthropic-ai/sdk/resources/beta/agents/agents.d.ts", "utf8");
    const union = /export type BetaManagedAgentsModel = ([^;]+);/.exec(dts)?.[1] ?? "";
    const named = [...union.matchAll(/'([^']+)'/g)].map((m) => m[1]);
    expect(named.length).toBeGreaterThan(5);
    expect(Object.keys(MODELS).sort()).toEqual(named.sort());
  });

  it("an unknown model id is a 400 on create, update and advisor", async () => {
    await expectApiError(
      client.beta.agents.create({ name: "x", model: "claude-nonexistent-9" }),
      400,
      "invalid_request_error",
      "model: model 'claude-nonexistent-9' is not supported",
    );
    await expectApiError(
      client.beta.agents.create({ name: "x", model: { id: "gpt-4" } }),
      400,
      "invalid_request_error",
      "model.id: model 'gpt-4' is not supported",
    );
    const a = await client.beta.agents.create({ name: "upd", model: "claude-sonnet-4-6" });
    await expectApiError(
      client.beta.agents.update(a.id, { version: a.version, model: "m" }),
      400,
      "invalid_request_error",
      "model 'm' is not supported",
    );
    expect((await client.beta.agents.retrieve(a.id)).version).toBe(a.version);
  });

  it("a combination the model does not accept is a 400 naming the field", async () => {
    await expectApiError(
      client.beta.agents.create({ name: "x", model: { id: "claude-haiku-4-5", effort: "xhigh" } }),
      400,
      "invalid_request_error",
      "model.effort: effort 'xhigh' is not supported by model 'claude-haiku-4-5'",
    );
    await expectApiError(
      client.beta.agents.create({ name: "x", model: { id: "claude-sonnet-4-6", speed: "fast" } }),
      400,
      "invalid_request_error",
      "model.speed: speed 'fast' is not supported by model 'claude-sonnet-4-6'",
    );
    // Changing only the id keeps the stored effort, which the new model must accept too.
    const a = await client.beta.agents.create({ name: "xh", model: { id: "claude-opus-4-7", effort: "xhigh" } });
    await expectApiError(
      client.beta.agents.update(a.id, { version: a.version, model: "claude-haiku-4-5" }),
      400,
      "invalid_request_error",
      "effort 'xhigh' is not supported by model 'claude-haiku-4-5'",
    );
  });

  it("every row of the table accepts its own default with standard speed", async () => {
    for (const [id, row] of Object.entries(MODELS)) {
      expect(row.efforts).toContain(row.defaultEffort);
      expect(row.speeds).toContain("standard");
      const a = await client.beta.agents.create({ name: `row-${id}`, model: id as AgentCreateParams["model"] });
      expect(a.model.effort).toEqual({ type: row.defaultEffort });
    }
  });
});
