/**
 * `desiredResourcesInSlices` (src/reconcile/desired.ts) must give exactly what `desiredResources` gives, in the same
 * order, however many parts a provider's list is cut into: `plan` uses it so that the event loop turns while the
 * desired state of a large fleet is built.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { generateFleet } from "../../src/bench/fleet.js";
import { envSecrets } from "../../src/providers/secrets.js";
import type { DesiredResource, ProviderContext } from "../../src/providers/types.js";
import { desiredResources, desiredResourcesInSlices } from "../../src/reconcile/desired.js";
import { loadSpecs } from "../../src/reconcile/workflow.js";
import { copyFleet, removeDir } from "../e2e/helpers.js";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await removeDir(dir);
});

/** Everything a desired resource holds, functions called, as comparable data. */
const comparable = (resources: DesiredResource[]) =>
  resources.map((r) => JSON.parse(JSON.stringify({ ...r, annotations: r.annotations?.() })) as unknown);

describe("the desired state built in slices", () => {
  test("is the same as built at once, on the example fleet and on 150 agents and 70 vaults (several slices)", async () => {
    const fixture = await copyFleet();
    const generated = await mkdtemp(path.join(tmpdir(), "reconcile-desired-slices-"));
    dirs.push(fixture, generated);
    await generateFleet(generated, {
      agents: 150,
      environments: 4,
      vaults: 70,
      credentialsPerVault: 2,
      toolsets: 6,
      seed: 3,
    });
    for (const dir of [fixture, generated]) {
      const project = await loadSpecs(dir);
      const ctx: ProviderContext = { stack: project.config.stack, secrets: envSecrets({}) };
      const whole = desiredResources(project.specs, ctx);
      const sliced = await desiredResourcesInSlices(project.specs, ctx);
      expect(sliced.map((r) => r.address)).toEqual(whole.map((r) => r.address));
      expect(comparable(sliced)).toEqual(comparable(whole));
    }
    const project = await loadSpecs(generated);
    expect(project.specs.agents.length).toBe(150);
  });
});
