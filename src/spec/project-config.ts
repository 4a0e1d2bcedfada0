/**
 * The project configuration: `reconcile.yaml` at the repository root. It names the stack, the set of resources
 * this repository owns (written into every resource's ownership metadata), so two repositories can manage
 * different agents in one workspace without touching each other's (DESIGN.md, "Identity lives on the live
 * resource").
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import type { SpecError } from "./types.js";

/** The parsed `reconcile.yaml`. */
export interface ProjectConfig {
  /** The stack id: lower-case letters, digits and dashes, at most 63 characters. */
  stack: string;
  /** The file the configuration came from, or null when the defaults are used (no `reconcile.yaml`). */
  file: string | null;
}

/** The file name of the project configuration, at the repository root. */
export const PROJECT_CONFIG_FILE = "reconcile.yaml";

/** The stack used when a repository has no `reconcile.yaml`. */
export const DEFAULT_STACK = "default";

const STACK = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const KNOWN_KEYS = new Set(["stack"]);

/**
 * Reads `reconcile.yaml` under `root`; a missing file gives the defaults.
 * @returns the configuration, or the errors (with file:line:col) that make it unusable
 */
export async function loadProjectConfig(root: string): Promise<{ config: ProjectConfig; errors: SpecError[] }> {
  const defaults: ProjectConfig = { stack: DEFAULT_STACK, file: null };
  let text: string;
  try {
    text = await readFile(join(root, PROJECT_CONFIG_FILE), "utf8");
  } catch {
    return { config: defaults, errors: [] };
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const at = (offset: number | undefined) => {
    const pos = lineCounter.linePos(offset ?? 0);
    return { file: PROJECT_CONFIG_FILE, line: pos.line, col: pos.col };
  };
  const errors: SpecError[] = doc.errors.map((e) => ({
    location: at(e.pos[0]),
    message: e.message.split("\n")[0] ?? e.message,
  }));
  if (errors.length > 0) return { config: defaults, errors };
  const value = doc.toJS() as unknown;
  if (value === null || value === undefined) return { config: { ...defaults, file: PROJECT_CONFIG_FILE }, errors };
  if (typeof value !== "object" || Array.isArray(value)) {
    return {
      config: defaults,
      errors: [{ location: at(0), message: "reconcile.yaml must be a mapping, like `stack: my-agents`" }],
    };
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!KNOWN_KEYS.has(key)) {
      const node = doc.get(key, true) as { range?: [number, number, number] } | undefined;
      const pair = (doc.contents as { items?: Array<{ key: { value?: unknown; range?: [number] } }> }).items?.find(
        (item) => item.key.value === key,
      );
      errors.push({
        location: at(pair?.key.range?.[0] ?? node?.range?.[0]),
        message: `unknown setting "${key}" (known: ${[...KNOWN_KEYS].join(", ")})`,
      });
    }
  }
  const stack = record.stack ?? DEFAULT_STACK;
  if (typeof stack !== "string" || !STACK.test(stack)) {
    const node = doc.get("stack", true) as { range?: [number] } | undefined;
    errors.push({
      location: at(node?.range?.[0]),
      message:
        "stack must be lower-case letters, digits and dashes (at most 63 characters), like `stack: support-agents`",
    });
  }
  return { config: { stack: typeof stack === "string" ? stack : DEFAULT_STACK, file: PROJECT_CONFIG_FILE }, errors };
}
