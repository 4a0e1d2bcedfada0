/**
 * Declared secret variables (issue 7 item 5): the `${env:NAME}` variables a stack may read are listed in
 * `reconcile.yaml` (`secret_env:`, overridable per target), so a pull request cannot point a credential at a
 * variable the CI happens to hold (an API key, a GitHub token) and ship it to an MCP server of its choosing.
 */
import type { LoadedDocument } from "./load.js";
import { atPath, type DataPath, eachString, locate } from "./position.js";
import { reservedEnvReason, type TargetConfig } from "./project-config.js";
import type { SpecError } from "./types.js";
import { matchesPath, secretFieldPaths } from "./validate.js";

const SECRET_REF = /^\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}$/;

const declaredSets = new WeakMap<readonly string[], ReadonlySet<string>>();

/**
 * A target's `secret_env` as a set, built once per list: every credential document asks it, and a stack with
 * thousands of credentials declares thousands of variables (a list search per document was quadratic: about 50 ms of
 * each load at 10,000 agents and 2,000 credentials). Keyed by the list itself, which the parsed configuration never
 * changes.
 */
function declaredSet(list: readonly string[]): ReadonlySet<string> {
  let set = declaredSets.get(list);
  if (!set) {
    set = new Set(list);
    declaredSets.set(list, set);
  }
  return set;
}

/**
 * The errors of the `${env:NAME}` references in a document's secret fields (`secretFieldPaths`), located at the
 * scalar that holds each: a variable that holds an API key or CI/GitHub credential (`reservedEnvReason`: every
 * target's `api_key_env`, `ANTHROPIC_*`, `GITHUB_*`, `ACTIONS_*`, ...), always; and, when `target` is given, a variable
 * the target does not declare in `secret_env`. Without a target (a programmatic load with no target selected) only
 * the reserved names are refused. Messages name the variable, never a value.
 */
export function secretEnvErrors(document: LoadedDocument, target: TargetConfig | undefined): SpecError[] {
  const kind = typeof document.data.kind === "string" ? document.data.kind : undefined;
  if (!kind) return [];
  const name = typeof document.data.name === "string" ? document.data.name : undefined;
  const secrets = secretFieldPaths(kind);
  if (secrets.length === 0) return [];
  const errors: SpecError[] = [];
  const fail = (path: DataPath, message: string) => {
    const error: SpecError = { location: locate(document, path), message: atPath(path, message), kind };
    if (name) error.name = name;
    errors.push(error);
  };
  eachString(document.data, (value, livePath) => {
    if (!value.startsWith("${env:")) return; // not a well-formed reference (`SECRET_REF`)
    const path = [...livePath];
    if (!matchesPath(path, secrets)) return;
    const variable = SECRET_REF.exec(value)?.[1];
    if (!variable) return; // malformed references are reported by `referenceErrors`
    const reserved = reservedEnvReason(variable, target?.reserved_env ?? []);
    if (reserved) {
      fail(
        path,
        `\${env:${variable}} may not be read by a spec: ${reserved}. Give the credential its own variable (declared under secret_env: in reconcile.yaml)`,
      );
    } else if (target && !declaredSet(target.secret_env).has(variable)) {
      const where = target.source === null ? "secret_env:" : `secret_env: (or targets.${target.name}.secret_env:)`;
      fail(
        path,
        `\${env:${variable}} is not a declared secret variable${target.source === null ? "" : ` of target "${target.name}"`}: add ${variable} to ${where} in reconcile.yaml, so reviewers see which variables the stack reads`,
      );
    }
  });
  return errors;
}
