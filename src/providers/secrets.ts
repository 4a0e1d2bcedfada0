/**
 * Secret handling inside providers: substitute `SecretRef`s in request params at the last moment, and fingerprint
 * secret values so a plan can tell that a secret changed without ever holding or printing it.
 *
 * The fingerprint is an HMAC-SHA256 keyed by the stack and the resource address, over the values in a fixed order,
 * stored in the credential's metadata (`reconcile/secret-fingerprint`). Keying by stack and address means two
 * credentials with the same token get different fingerprints, and no precomputed table applies. See
 * docs/adr/0002-secret-fingerprints.md.
 */
import { createHmac } from "node:crypto";
import Anthropic from "@anthropic-ai/sdk";
import type { SecretRef, SecretSource } from "../spec/types.js";

/**
 * The credential metadata key holding when reconcile last wrote the credential's secret (ISO 8601, UTC), written in
 * the same request as the secret and its fingerprint, so a failed write cannot leave a time that claims a rotation.
 * `secretHealth` (src/reconcile/secrets-health.ts) compares it with `rotation.max_age`. See docs/adr/0018.
 */
export const SECRET_WRITTEN_AT_KEY = "reconcile/secret-written-at";

/** True when `value` is a `SecretRef` (`{ source: "env", name }`). */
export function isSecretRef(value: unknown): value is SecretRef {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as SecretRef).source === "env" &&
    typeof (value as SecretRef).name === "string" &&
    Object.keys(value).length === 2
  );
}

/** Every `SecretRef` inside `value`, depth first, in key order. */
export function collectSecretRefs(value: unknown, out: SecretRef[] = []): SecretRef[] {
  if (isSecretRef(value)) out.push(value);
  else if (Array.isArray(value)) for (const item of value) collectSecretRefs(item, out);
  else if (typeof value === "object" && value !== null)
    for (const item of Object.values(value)) collectSecretRefs(item, out);
  return out;
}

/** Thrown when apply needs a secret that is not set. The message names the variable, never a value. */
export class MissingSecretError extends Error {
  constructor(readonly variables: string[]) {
    super(
      `secret ${variables.map((v) => `\${env:${v}}`).join(", ")} is not set: export ${variables.join(", ")} in the environment that runs apply`,
    );
    this.name = "MissingSecretError";
  }
}

/**
 * A deep copy of `params` with every `SecretRef` replaced by its value from `secrets`.
 * @throws MissingSecretError naming every variable that is not set.
 */
export function substituteSecrets<T>(params: T, secrets: SecretSource): T {
  const missing = collectSecretRefs(params)
    .filter((ref) => secrets(ref) === undefined)
    .map((ref) => ref.name);
  if (missing.length > 0) throw new MissingSecretError([...new Set(missing)]);
  const walk = (value: unknown): unknown => {
    if (isSecretRef(value)) return secrets(value);
    if (Array.isArray(value)) return value.map(walk);
    if (typeof value === "object" && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    }
    return value;
  };
  return walk(params) as T;
}

/**
 * The fingerprint of the secrets `refs` point at, keyed by `stack` and `address`; `null` when any is unavailable
 * (the plan then cannot tell whether the secret changed, and says so).
 */
export function secretFingerprint(
  refs: readonly SecretRef[],
  secrets: SecretSource,
  stack: string,
  address: string,
): string | null {
  const hmac = createHmac("sha256", `reconcile-secret-v1\u0000${stack}\u0000${address}`);
  for (const ref of refs) {
    const value = secrets(ref);
    if (value === undefined) return null;
    hmac.update(`${ref.name}\u0000${value.length}\u0000${value}\u0000`);
  }
  return `v1:${hmac.digest("base64url")}`;
}

/** The default secret source: `${env:NAME}` reads `process.env.NAME` (an empty string counts as not set). */
export function envSecrets(env: NodeJS.ProcessEnv = process.env): SecretSource {
  return (ref) => {
    const value = env[ref.name];
    return value === undefined || value === "" ? undefined : value;
  };
}

/**
 * For the local emulator only: `source`, but an unset variable reads as `local-placeholder-NAME` so the example fleet
 * applies on a fresh clone. `onPlaceholder` is told each variable that got one (once), so the CLI can say so. Never
 * used against the real API.
 */
export function withLocalPlaceholders(source: SecretSource, onPlaceholder: (name: string) => void): SecretSource {
  const told = new Set<string>();
  return (ref) => {
    const value = source(ref);
    if (value !== undefined) return value;
    if (!told.has(ref.name)) {
      told.add(ref.name);
      onPlaceholder(ref.name);
    }
    return `local-placeholder-${ref.name}`;
  };
}

/**
 * `error` with every occurrence of the secret `values` in its message replaced by `(sensitive)`, for errors of a
 * request that carried them: a server (or a proxy in between) may echo a request body in its error message, and the
 * message is printed. An SDK `APIError` stays an `APIError` of the same status (its envelope message scrubbed);
 * anything else becomes an `Error` with the scrubbed message. Values shorter than 4 characters are left alone (they
 * would mask ordinary words and are no secret worth the name). Returns `error` itself when nothing matched.
 */
export function redactSecretValues(error: unknown, values: readonly string[]): unknown {
  const secrets = values.filter((v) => v.length >= 4).sort((a, b) => b.length - a.length);
  const scrub = (text: string) => secrets.reduce((out, v) => out.split(v).join("(sensitive)"), text);
  const message = error instanceof Error ? error.message : String(error);
  const apiMessage = error instanceof Anthropic.APIError ? error.apiMessage : undefined;
  const leaks = secrets.some((v) => message.includes(v) || (apiMessage ?? "").includes(v));
  if (!leaks) return error;
  if (error instanceof Anthropic.APIError && error.status !== undefined) {
    const type = typeof error.type === "string" ? error.type : "error";
    const envelope = { type: "error", error: { type, message: scrub(apiMessage ?? message) } };
    return Anthropic.APIError.generate(error.status, envelope, undefined, error.headers);
  }
  const scrubbed = new Error(scrub(message));
  scrubbed.name = error instanceof Error ? error.name : "Error";
  return scrubbed;
}

/** The values of the secrets `refs` point at that are set (for `redactSecretValues`). */
export function secretValues(refs: readonly SecretRef[], secrets: SecretSource): string[] {
  return refs.map((ref) => secrets(ref)).filter((v): v is string => typeof v === "string");
}
