import type { BetaManagedAgentsModel } from "@anthropic-ai/sdk/resources/beta/agents/agents.js";
import { fieldError } from "./validate.js";

/**
 * The one model table of the emulator: which model ids an agent (or a session's agent, or a multiagent advisor)
 * may name, each model's default `effort`, and which `effort` levels and `speed` modes it accepts. Every model rule
 * of the emulator reads this table and nothing else.
 *
 * Sources:
 * - ids: the SDK's `BetaManagedAgentsModel` union (`resources/beta/agents/agents.d.ts`), without its open
 *   `(string & {})` arm: the real API validates ids server-side, so an id outside the list is a 400 here.
 * - `effort` "Always present; resolved to the per-model default at save time when not supplied"
 *   (`BetaManagedAgentsModelConfig.effort`); the default is `high` for every model (Anthropic docs, "Effort":
 *   "high is the default").
 * - `xhigh` "Not all models accept this level" (`BetaManagedAgentsEffortXhigh`); `speed` "Not all models support
 *   `fast`; invalid combinations are rejected at create time" (`BetaManagedAgentsModelConfig.speed`). The shape of
 *   a row is the Models API's `capabilities.effort` (`resources/beta/models.d.ts`, `BetaEffortCapability`).
 *   Which model has which capability is NOT in the SDK: the rows below are the emulator's assumption (fast mode
 *   on the Opus line from 4.6, `max` from 4.6 on, `xhigh` from Opus 4.7 and the 5 line), to be checked against
 *   `client.beta.models.retrieve(id)` of a real workspace. They are deliberately narrow, so a spec that passes
 *   locally does not ask for more than a model may give.
 */

/** An effort level (`BetaManagedAgentsEffort*.type`). */
export type EffortLevel = "low" | "medium" | "high" | "xhigh" | "max";
/** A speed mode (`BetaManagedAgentsModelConfig.speed`). */
export type Speed = "standard" | "fast";

/** One row: what a model accepts. */
export interface ModelRow {
  /** Effort levels accepted (always includes `defaultEffort`). */
  efforts: readonly EffortLevel[];
  /** The effort stored when a create sends none. */
  defaultEffort: EffortLevel;
  /** Speed modes accepted (always includes `standard`). */
  speeds: readonly Speed[];
}

const BASE: readonly EffortLevel[] = ["low", "medium", "high"];
const WITH_MAX: readonly EffortLevel[] = [...BASE, "max"];
const ALL: readonly EffortLevel[] = [...BASE, "xhigh", "max"];
const STANDARD: readonly Speed[] = ["standard"];
const FAST: readonly Speed[] = ["standard", "fast"];

const row = (efforts: readonly EffortLevel[], speeds: readonly Speed[]): ModelRow => ({
  efforts,
  defaultEffort: "high",
  speeds,
});

/** The table, keyed by model id (every named member of the SDK's `BetaManagedAgentsModel`; a test checks the list). */
export const MODELS: Readonly<Record<BetaManagedAgentsModel, ModelRow>> = {
  "claude-fable-5-2": row(ALL, FAST),
  "claude-haiku-5-5": row(WITH_MAX, STANDARD),
  "claude-sonnet-5-5": row(ALL, STANDARD),
  "claude-opus-5-5": row(ALL, FAST),
  "claude-fable-5-1": row(ALL, FAST),
  "claude-sonnet-5": row(ALL, STANDARD),
  "claude-fable-5": row(ALL, FAST),
  "claude-opus-5": row(ALL, FAST),
  "claude-opus-4-8": row(ALL, FAST),
  "claude-opus-4-7": row(ALL, FAST),
  "claude-opus-4-6": row(WITH_MAX, FAST),
  "claude-sonnet-4-6": row(WITH_MAX, STANDARD),
  "claude-haiku-4-5": row(BASE, STANDARD),
  "claude-haiku-4-5-20251001": row(BASE, STANDARD),
  "claude-opus-4-5": row(BASE, STANDARD),
  "claude-opus-4-5-20251101": row(BASE, STANDARD),
  "claude-sonnet-4-5": row(BASE, STANDARD),
  "claude-sonnet-4-5-20250929": row(BASE, STANDARD),
};

/** The row of model `id`. @throws 400 at `path` ("model 'x' is not supported") for an id not in the table. */
export function modelRow(id: string, path: string): ModelRow {
  const found = Object.hasOwn(MODELS, id) ? MODELS[id] : undefined;
  if (found) return found;
  const shown = id.length > 64 ? `${id.slice(0, 64)}…` : id;
  throw fieldError(path, `model '${shown}' is not supported; use one of the models listed at /v1/models`);
}

/**
 * Checks an effort/speed combination against the model's row.
 * @throws 400 at `path.effort` / `path.speed` for a level or mode the model does not accept.
 */
export function checkModelCombination(id: string, effort: EffortLevel, speed: Speed, path: string): void {
  const r = modelRow(id, path === "" ? "id" : `${path}.id`);
  const p = (k: string) => (path === "" ? k : `${path}.${k}`);
  if (!r.efforts.includes(effort)) {
    throw fieldError(p("effort"), `effort '${effort}' is not supported by model '${id}'`);
  }
  if (!r.speeds.includes(speed)) {
    throw fieldError(p("speed"), `speed '${speed}' is not supported by model '${id}'`);
  }
}
