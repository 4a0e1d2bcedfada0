/**
 * `${var:NAME}` substitution: the values that differ between targets (model ids, MCP server URLs, hosts), declared
 * per target under `targets.<name>.values` in `reconcile.yaml`, are written into spec strings before validation.
 */
import type { LoadedDocument } from "./load.js";
import { atPath, type DataPath, eachString, locate } from "./position.js";
import type { TargetConfig } from "./project-config.js";
import type { SpecError } from "./types.js";
import { matchesPath, type PathPattern, secretFieldPaths } from "./validate.js";

/** A `${var:...}` reference; the name is checked separately, so `${var:my-host}` is reported rather than kept. */
const VAR_REF = /\$\{var:([^}]*)\}/g;
/** A variable name, as `targets.<name>.values` keys are (see `schemas/project.schema.json`). */
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Fields that identify a spec: they must read the same in every target, or a spec would be a different resource in
 * each workspace (and its plan address, its adopt entries and its previous names would move with the target).
 */
const IDENTITY_FIELDS: PathPattern[] = [
  ["apiVersion"],
  ["kind"],
  ["name"],
  ["previous_names", "*"],
  ["credentials", "*", "name"],
  ["credentials", "*", "previous_names", "*"],
];

/** What `substituteVars` returns for one document. */
export interface Substitution {
  /** The document with its data substituted (the same object when it holds no `${var:...}`). */
  document: LoadedDocument;
  /**
   * Unknown variables, malformed references, references in secret or identity fields, or any reference when no
   * target is selected; located at the scalar that holds them. A reference that fails is left as written.
   */
  errors: SpecError[];
}

/** A secret reference, exactly: `common.schema.json#/$defs/secret_ref`. */
const SECRET_REF = /^\$\{env:[A-Za-z_][A-Za-z0-9_]*\}$/;
/** The start of something meant as a `${var:...}` or `${env:...}` reference, in any case and spacing. */
const REF_START = /\$\{\s*(var|env)\s*:/gi;

/**
 * Why a string holds a malformed reference, or undefined when it holds none. References are `${var:NAME}`
 * anywhere, and `${env:NAME}` as the whole value of a secret field (`secret` true); a malformed one must be reported
 * as such, not sent as a literal model id nor refused as a "literal secret". Elsewhere `${env:...}` is plain text
 * (a prompt may show shell syntax), so only `${var:` is looked at. In a secret field the message never repeats the
 * value, which may be a secret pasted by mistake. Reported:
 * - a `${var:` (or, in a secret field, `${env:`), in any case and spacing, with no closing `}`;
 * - such a scheme not written in lower case without spaces (`${ENV:X}`, `${ Var:x}`);
 * - in a secret field, a value that starts with `${` but is not exactly `${env:NAME}` with a valid name (a
 *   `${var:...}` there is refused by substitution).
 * A `${var:...}` name that is not letters, digits and `_` is reported by substitution.
 */
export function malformedReference(text: string, secret: boolean): string | undefined {
  for (const match of text.matchAll(REF_START)) {
    const [start, scheme = ""] = match;
    const kind = scheme.toLowerCase();
    if (kind === "env" && !secret) continue;
    const rest = text.slice((match.index ?? 0) + start.length);
    if (!rest.includes("}")) {
      const shown = `${start}${rest.split(/\s/)[0]?.slice(0, 64) ?? ""}`;
      return secret
        ? `the \${${kind}:... reference is not closed: write \${env:NAME}, with the closing }`
        : `"${shown}" is not closed: add the closing } (like \${${kind}:NAME})`;
    }
    if (start !== `\${${kind}:`) {
      return secret
        ? "a reference is written ${env:NAME}, with env in lower case and no spaces"
        : `"${start}" is not a reference: write \${${kind}:NAME}, with ${kind} in lower case and no spaces`;
    }
  }
  const trimmed = text.trim();
  if (!secret || !trimmed.startsWith("${") || SECRET_REF.test(text) || trimmed.startsWith("${var:")) return undefined;
  if (SECRET_REF.test(trimmed))
    return "a secret field holds one ${env:NAME} reference and nothing else, not even spaces";
  if (/^\$\{env:[^}]*\}$/.test(trimmed)) {
    return "the name in ${env:NAME} must be an environment variable name: letters, digits and _, not starting with a digit";
  }
  if (/^\$\{env:[^}]*\}/.test(trimmed)) return "a secret field holds one ${env:NAME} reference and nothing else";
  return "a secret reference is written ${env:NAME}: only environment variables are supported";
}

/**
 * The malformed references (`malformedReference`) in the string values of a document, each located at its scalar.
 * Keys are not looked at. Independent of any target: the same in every one.
 */
export function referenceErrors(document: LoadedDocument): SpecError[] {
  const kind = typeof document.data.kind === "string" ? document.data.kind : undefined;
  const name = typeof document.data.name === "string" ? document.data.name : undefined;
  const secrets = kind ? secretFieldPaths(kind) : [];
  const errors: SpecError[] = [];
  eachString(document.data, (value, path) => {
    if (!value.includes("${")) return; // every malformed reference starts with "${"
    const here = [...path];
    const message = malformedReference(value, matchesPath(here, secrets));
    if (message === undefined) return;
    const error: SpecError = { location: locate(document, here), message: atPath(here, message) };
    if (kind) error.kind = kind;
    if (kind && name) error.name = name;
    errors.push(error);
  });
  return errors;
}

/** Whether a document's string values contain `${var:` anywhere (keys are not looked at). */
export function usesVars(data: unknown): boolean {
  if (typeof data === "string") return data.includes("${var:");
  if (Array.isArray(data)) return data.some(usesVars);
  if (data !== null && typeof data === "object") return Object.values(data).some(usesVars);
  return false;
}

/**
 * Replaces every `${var:NAME}` in the string values of a reconcile document with `target.values[NAME]`, anywhere in
 * the string and as often as it occurs (`https://${var:host}/mcp`). Keys are never substituted, `${env:NAME}` is
 * left alone (secret references stay references), and a substituted value is not scanned again. The values are not
 * secret. Refused, at the scalar's position (aliases point at their anchor):
 * - a reference in a secret field (`secretFieldPaths`): secrets must be `${env:NAME}`;
 * - a reference in `apiVersion`, `kind`, `name`, `previous_names` or a credential's `name`/`previous_names`
 *   (`IDENTITY_FIELDS`);
 * - a name that is not letters, digits and `_`;
 * - a variable the target does not define, or any reference when `target` is undefined (no target selected);
 * - a malformed `${var:...}` or `${env:...}` reference anywhere (`referenceErrors`), with or without a target.
 */
export function substituteVars(document: LoadedDocument, target: TargetConfig | undefined): Substitution {
  const malformed = referenceErrors(document);
  if (!usesVars(document.data)) return { document, errors: malformed };
  const kind = typeof document.data.kind === "string" ? document.data.kind : undefined;
  const name = typeof document.data.name === "string" ? document.data.name : undefined;
  const secrets = kind ? secretFieldPaths(kind) : [];
  const errors: SpecError[] = [...malformed];
  const fail = (path: DataPath, message: string) => {
    const error: SpecError = { location: locate(document, path), message: atPath(path, message) };
    if (kind) error.kind = kind;
    if (kind && name) error.name = name;
    const same = (e: SpecError) =>
      e.message === error.message && e.location.line === error.location.line && e.location.col === error.location.col;
    if (!errors.some(same)) errors.push(error);
  };

  const substitute = (text: string, path: DataPath): string => {
    if (!text.includes("${var:")) return text;
    if (matchesPath(path, secrets)) {
      fail(
        path,
        "${var:...} is not allowed in a secret field: write a reference to an environment variable, like ${env:NAME}",
      );
      return text;
    }
    if (matchesPath(path, IDENTITY_FIELDS)) {
      fail(
        path,
        "${var:...} is not allowed here: apiVersion, kind, names and previous names identify a spec and must be the same in every target",
      );
      return text;
    }
    return text.replace(VAR_REF, (ref, varName: string) => {
      if (!VAR_NAME.test(varName)) {
        fail(
          path,
          `"${ref}" is not a valid variable reference: a variable name is letters, digits and _, not starting with a digit`,
        );
        return ref;
      }
      const value = target ? (Object.hasOwn(target.values, varName) ? target.values[varName] : undefined) : undefined;
      if (value !== undefined) return value;
      fail(path, undefinedMessage(ref, varName, target));
      return ref;
    });
  };

  const walk = (value: unknown, path: DataPath): unknown => {
    if (typeof value === "string") return substitute(value, path);
    if (Array.isArray(value)) return value.map((item, i) => walk(item, [...path, i]));
    if (value !== null && typeof value === "object") {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) out[key] = walk(item, [...path, key]);
      return out;
    }
    return value;
  };
  const data = walk(document.data, []) as Record<string, unknown>;
  return { document: { ...document, data }, errors };
}

/** Why a variable has no value, and where to define it. */
function undefinedMessage(ref: string, varName: string, target: TargetConfig | undefined): string {
  if (!target) {
    return `${ref} needs a target to take its value from: declare targets with their values in reconcile.yaml and pass --target NAME`;
  }
  if (target.source === null) {
    return `${ref} is not defined: reconcile.yaml declares no targets (declare one under targets: with values.${varName})`;
  }
  return `${ref} is not defined for target "${target.name}" (define it under targets.${target.name}.values in reconcile.yaml)`;
}
