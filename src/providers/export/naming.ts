/**
 * Names for exported specs and secret variables: slugs of API names, made unique within a kind, and upper snake
 * case environment variable names for secret references.
 */

/** The spec-name rule (`common.schema.json#/$defs/name`): 1-64 lowercase letters, digits and `-`. */
export const SPEC_NAME = /^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$/;

/** The longest spec name. */
const MAX_NAME = 64;

/** True when `name` is a valid spec name. */
export function isSpecName(name: string): boolean {
  return SPEC_NAME.test(name);
}

/**
 * A spec name made from free text (an API `name` or `display_name`): accents dropped, lower case, every run of
 * other characters turned into one `-`, cut to 64 characters. `fallback` when nothing is left.
 * `slug("Export Support Bot!")` → `export-support-bot`.
 */
export function slug(text: string, fallback: string): string {
  const s = text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, MAX_NAME)
    .replace(/-+$/, "");
  return s === "" ? fallback : s;
}

/**
 * Hands out names unique within one set: the wanted name if free, else `name-2`, `name-3`, ... (the base is cut so
 * the result stays within 64 characters).
 */
export class NameBook {
  private readonly taken = new Set<string>();

  /** @param reserved names that are already in use and must not be handed out */
  constructor(reserved: Iterable<string> = []) {
    for (const name of reserved) this.taken.add(name);
  }

  /** True when `name` was handed out or reserved. */
  has(name: string): boolean {
    return this.taken.has(name);
  }

  /** The first free name of `wanted`, `wanted-2`, `wanted-3`, ...; it is taken from now on. */
  claim(wanted: string): string {
    let name = wanted;
    for (let n = 2; this.taken.has(name); n++) {
      const suffix = `-${n}`;
      name = `${wanted.slice(0, MAX_NAME - suffix.length).replace(/-+$/, "")}${suffix}`;
    }
    this.taken.add(name);
    return name;
  }
}

/**
 * An environment variable name from spec names and a field: upper snake case, `_` between parts, prefixed with
 * `SECRET_` when it would start with a digit. `envVarName(["mail", "workspace-mcp", "token"])` →
 * `MAIL_WORKSPACE_MCP_TOKEN`.
 */
export function envVarName(parts: readonly string[]): string {
  const name = parts
    .join("_")
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
  return /^[A-Z_]/.test(name) ? name : `SECRET_${name}`;
}
