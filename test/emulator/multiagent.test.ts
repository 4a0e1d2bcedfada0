/**
 * The emulator's multiagent rules, through the unmodified SDK (SDK `BetaManagedAgentsMultiagentCoordinatorParams`,
 * `BetaManagedAgentsMultiagent20261001Params`, `BetaManagedAgentsMultiagentSubagentsEnabledParams`): referenced
 * agents must exist and not be archived, a pinned version must exist, each agent once per list, a list without inline
 * agents must name one, the coordinator form's depth limit 1, and the level-by-level merge on update.
 */
import type Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEmulator } from "../../src/emulator/index.js";
import { expectApiError, sdk, start } from "./helpers.js";

let emu: RunningEmulator;
let client: Anthropic;

beforeAll(async () => {
  emu = await start();
  client = sdk(emu);
});
afterAll(async () => {
  await emu.close();
});

const model = "claude-haiku-4-5";

describe("multiagent_20261001 rosters", () => {
  it("resolve ids to the current version, pins to the given one, self to the agent itself", async () => {
    const helper = await client.beta.agents.create({ name: "helper", model });
    await client.beta.agents.update(helper.id, { version: 1, system: "v2" });
    const lead = await client.beta.agents.create({
      name: "lead",
      model,
      multiagent: {
        type: "multiagent_20261001",
        subagents: { type: "enabled", predefined_agents: [helper.id, { type: "self" }] },
        workflows: {
          type: "enabled",
          inline_agents: { type: "disabled" },
          predefined_agents: [{ type: "agent", id: helper.id, version: 1 }],
        },
      },
    });
    expect(lead.multiagent).toEqual({
      type: "multiagent_20261001",
      advisor: { type: "disabled" },
      subagents: {
        type: "enabled",
        inline_agents: { type: "enabled" },
        predefined_agents: [
          { type: "agent", id: helper.id, version: 2 },
          { type: "agent", id: lead.id, version: 1 },
        ],
      },
      workflows: {
        type: "enabled",
        inline_agents: { type: "disabled" },
        predefined_agents: [{ type: "agent", id: helper.id, version: 1 }],
      },
    });
  });

  it("refuses an unknown agent, an archived one, a version it does not have, and duplicates", async () => {
    const helper = await client.beta.agents.create({ name: "h2", model });
    const gone = await client.beta.agents.create({ name: "gone", model });
    await client.beta.agents.archive(gone.id);
    const roster = (predefined_agents: unknown[]) => ({
      name: "bad",
      model,
      multiagent: { type: "multiagent_20261001" as const, subagents: { type: "enabled" as const, predefined_agents } },
    });
    const create = (list: unknown[]) => client.beta.agents.create(roster(list) as never);
    const at = "multiagent.subagents.predefined_agents.0";
    await expectApiError(create(["agent_011CNoSuchAgentAtAll00"]), 400, "invalid_request_error", at, "not found");
    await expectApiError(create([gone.id]), 400, "invalid_request_error", at, "archived");
    await expectApiError(
      create([{ type: "agent", id: helper.id, version: 7 }]),
      400,
      "invalid_request_error",
      `${at}.version`,
      "no version 7",
    );
    await expectApiError(
      create([helper.id, { type: "agent", id: helper.id }]),
      400,
      "invalid_request_error",
      "predefined_agents.1",
      "more than once",
    );
  });

  it("refuses inline agents disabled with no saved agent", async () => {
    await expectApiError(
      client.beta.agents.create({
        name: "empty",
        model,
        multiagent: {
          type: "multiagent_20261001",
          workflows: { type: "enabled", inline_agents: { type: "disabled" } },
        },
      }),
      400,
      "invalid_request_error",
      "multiagent.workflows.predefined_agents",
    );
  });

  it("an update sending the whole configuration replaces the roster; omitting multiagent keeps it", async () => {
    const a = await client.beta.agents.create({ name: "a", model });
    const b = await client.beta.agents.create({ name: "b", model });
    const lead = await client.beta.agents.create({
      name: "lead2",
      model,
      multiagent: { type: "multiagent_20261001", subagents: { type: "enabled", predefined_agents: [a.id] } },
    });
    const kept = await client.beta.agents.update(lead.id, { version: 1, system: "new" });
    expect(kept.multiagent).toEqual(lead.multiagent);
    const moved = await client.beta.agents.update(lead.id, {
      version: 2,
      multiagent: {
        type: "multiagent_20261001",
        advisor: { type: "disabled" },
        subagents: { type: "enabled", inline_agents: { type: "enabled" }, predefined_agents: [b.id] },
        workflows: { type: "disabled" },
      },
    });
    expect(moved.multiagent).toEqual({
      type: "multiagent_20261001",
      advisor: { type: "disabled" },
      subagents: {
        type: "enabled",
        inline_agents: { type: "enabled" },
        predefined_agents: [{ type: "agent", id: b.id, version: 1 }],
      },
      workflows: { type: "disabled" },
    });
  });
});

describe("sessions of a multiagent agent", () => {
  it("copy the roster as full agent definitions at the referenced versions", async () => {
    const helper = await client.beta.agents.create({ name: "s-helper", model, system: "Help." });
    const lead = await client.beta.agents.create({
      name: "s-lead",
      model,
      multiagent: { type: "multiagent_20261001", subagents: { type: "enabled", predefined_agents: [helper.id] } },
    });
    await client.beta.agents.update(helper.id, { version: 1, system: "Help more." });
    const env = await client.beta.environments.create({ name: "s-env" });
    const session = await client.beta.sessions.create({ agent: lead.id, environment_id: env.id });
    expect(session.agent.multiagent).toMatchObject({
      type: "multiagent_20261001",
      subagents: {
        type: "enabled",
        predefined_agents: [{ type: "agent", id: helper.id, version: 1, name: "s-helper", system: "Help." }],
      },
      workflows: { type: "enabled", predefined_agents: [] },
    });
  });
});

describe("coordinator rosters", () => {
  it("keep the depth limit 1: an agent with multiagent set cannot be in a roster", async () => {
    const plain = await client.beta.agents.create({ name: "plain", model });
    const coordinator = await client.beta.agents.create({
      name: "coord",
      model,
      multiagent: { type: "coordinator", agents: [plain.id] },
    });
    await expectApiError(
      client.beta.agents.create({
        name: "nested",
        model,
        multiagent: { type: "coordinator", agents: [coordinator.id] },
      }),
      400,
      "invalid_request_error",
      "multiagent.agents.0",
      "depth 1",
    );
  });
});
