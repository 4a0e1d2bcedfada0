/**
 * Observe (src/reconcile/observe.ts) reads each list page by page and builds live states as the pages arrive
 * (`Provider.list`'s `onPage`), keeping none of the raw objects; a provider that does not page returns its objects
 * instead. Both ways give the same live state, through the SDK against the emulator.
 */
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../src/emulator/index.js";
import { agentProvider } from "../../src/providers/agent.js";
import { ownershipMetadata } from "../../src/providers/ownership.js";
import { envSecrets } from "../../src/providers/secrets.js";
import type { Provider, ProviderContext } from "../../src/providers/types.js";
import { observe } from "../../src/reconcile/observe.js";

describe("observe", () => {
  let emulator: RunningEmulator;
  let client: Anthropic;
  const ctx: ProviderContext = { stack: "obs", secrets: envSecrets({}) };
  const AGENTS = 230; // three pages of 100

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0 });
    client = new Anthropic({ apiKey: "k", baseURL: emulator.url, maxRetries: 0 });
    for (let i = 0; i < AGENTS; i++) {
      // Every third agent belongs to another stack, and one to none: observe keeps only its own.
      const stack = i % 3 === 0 ? "other" : "obs";
      await client.beta.agents.create({
        name: `agent ${i}`,
        model: "claude-sonnet-4-6",
        metadata: i === 1 ? {} : ownershipMetadata(stack, `a${i}`),
      });
    }
  });
  afterAll(async () => {
    await emulator.close();
  });

  it("gives the same live state from pages handed to onPage as from a provider that returns its whole list", async () => {
    const calls: number[] = [];
    const paging: Provider = {
      ...agentProvider,
      list: (c, parentId, onPage) =>
        agentProvider.list(c, parentId, (page) => {
          calls.push(page.length);
          onPage?.(page);
        }),
    };
    // A provider that does not page: it ignores onPage and returns every object.
    const whole: Provider = { ...agentProvider, list: (c, parentId) => agentProvider.list(c, parentId) };
    const byPage = await observe(client, ctx, { providers: [paging] });
    const atOnce = await observe(client, ctx, { providers: [whole] });
    expect(calls).toEqual([100, 100, 30]);
    const owned = [...byPage.resources.keys()].sort();
    expect(owned).toHaveLength(AGENTS - Math.ceil(AGENTS / 3) - 1);
    expect(owned).not.toContain("agent.a0"); // another stack's
    expect(owned).not.toContain("agent.a1"); // no stack's
    expect([...atOnce.resources.keys()].sort()).toEqual(owned);
    expect([...byPage.resources.values()]).toEqual([...atOnce.resources.values()]);
    // Each object is worked out once: a page handed to onPage is not returned as well.
    expect(byPage.duplicates).toEqual([]);
    expect(atOnce.duplicates).toEqual([]);
  });
});
