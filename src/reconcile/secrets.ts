/**
 * Secret rotation (issue 9 item 1): from a full plan, the plan that writes only credential secrets, to be executed
 * by `applyPlan` like any other plan (one writer: the credential provider sends the secret, its fingerprint and its
 * write time in one request). Everything else the full plan holds (agents, environments, other credential fields,
 * replaces) is left alone and counted as "other changes pending".
 */
import type { DesiredResource } from "../providers/types.js";
import type { FieldChange } from "./diff.js";
import { topField } from "./diff.js";
import type { LiveState } from "./observe.js";
import type { Plan, PlannedAction } from "./plan.js";

/** What rotation does with one credential, before anything is written. */
export interface RotationEntry {
  /** `credential.VAULT/NAME`. */
  address: string;
  /**
   * `rotate` (the fingerprint differs, or `--force`), `create` (not live yet, its vault is), `unchanged`, `skipped`
   * (a variable is not set, or the credential cannot be written by rotation: its vault is missing, it needs a
   * replace or an adoption; `reason` says which and what to run).
   */
  status: "rotate" | "create" | "unchanged" | "skipped";
  /** Why it is skipped: names variables and addresses only, never values. */
  reason?: string;
}

/** The rotation of a full plan. */
export interface Rotation {
  /** The plan to apply: only the writes of `rotate` and `create` entries, secret fields only. */
  plan: Plan;
  /** One entry per credential looked at, in address order. */
  entries: RotationEntry[];
  /** Actions of the full plan rotation does not perform (agents, environments, non-secret fields...). */
  otherChanges: number;
}

/** Options of `rotationPlan`. */
export interface RotationOptions {
  /** Only these credentials, as `vault/credential` spec names (`--only`); default every declared credential. */
  only?: readonly string[];
  /** Rewrite secrets whose fingerprint matches too (`--force`: a broker that reissues the same token string). */
  force?: boolean;
}

const SECRET_CHANGE: FieldChange = { path: "secret", sensitive: true };

const isSecret = (change: FieldChange) => topField(change.path) === "secret";

/**
 * Restricts `plan` (built from `desired` and `live` by `preparePlan`) to credential secret writes.
 * @throws Error naming the unknown names when `options.only` names a credential no spec declares
 */
export function rotationPlan(
  plan: Plan,
  desired: readonly DesiredResource[],
  live: LiveState,
  options: RotationOptions = {},
): Rotation {
  const credentials = desired.filter((d) => d.type === "credential");
  if (options.only && options.only.length > 0) {
    const known = new Set(credentials.map((d) => d.name));
    const unknown = options.only.filter((name) => !known.has(name));
    if (unknown.length > 0) {
      throw new Error(
        `--only names no declared credential: ${unknown.join(", ")}; declared: ${[...known].sort().join(", ") || "none"} (write vault/credential)`,
      );
    }
  }
  const wanted = options.only && options.only.length > 0 ? new Set(options.only) : null;
  const byAddress = new Map(plan.actions.filter((a) => !a.duplicate_of).map((a) => [a.address, a]));
  const actions: PlannedAction[] = [];
  const entries: RotationEntry[] = [];
  const covered = new Set<PlannedAction>();
  for (const resource of [...credentials].sort((a, b) => (a.address < b.address ? -1 : 1))) {
    if (wanted && !wanted.has(resource.name)) continue;
    const action = byAddress.get(resource.address);
    const entry = (status: RotationEntry["status"], reason?: string) =>
      entries.push({ address: resource.address, status, ...(reason ? { reason } : {}) });
    if (resource.missingSecrets.length > 0) {
      const names = resource.missingSecrets.map((n) => `\${env:${n}}`).join(", ");
      entry("skipped", `${names} not set; set it in the environment that runs rotate (in CI: the job's secrets)`);
      continue;
    }
    const current = live.resources.get(resource.address);
    if (!action) {
      if (options.force && current) {
        actions.push(secretUpdate(resource, current.id, []));
        entry("rotate");
      } else entry("unchanged");
      continue;
    }
    switch (action.action) {
      case "create": {
        const vault = resource.dependsOn.find((a) => a.startsWith("vault."));
        if (vault && !live.resources.has(vault)) {
          entry("skipped", `its vault ${vault} does not exist yet: run \`reconcile apply\` first`);
          break;
        }
        actions.push(action);
        covered.add(action);
        entry("create");
        break;
      }
      case "update": {
        const secret = action.changes.filter(isSecret);
        if (secret.length === 0 && !options.force) {
          entry("unchanged");
          break;
        }
        actions.push(secretUpdate(resource, action.id ?? current?.id ?? "", secret, action.version));
        if (action.changes.every(isSecret) && !action.ownership) covered.add(action);
        entry("rotate");
        break;
      }
      default:
        entry(
          "skipped",
          `the plan holds a ${action.action} of it (${action.reason ?? "not a secret change"}): run \`reconcile plan\` and \`reconcile apply\``,
        );
    }
  }
  const otherChanges = plan.actions.filter((a) => a.action !== "keep" && !covered.has(a)).length;
  return { plan: { ...plan, actions }, entries, otherChanges };
}

/** An update that writes the secret only (with its fingerprint and write time, added by the credential provider). */
function secretUpdate(resource: DesiredResource, id: string, changes: FieldChange[], version?: number): PlannedAction {
  return {
    address: resource.address,
    type: resource.type,
    name: resource.name,
    action: "update",
    id,
    ...(version !== undefined ? { version } : {}),
    changes: changes.length > 0 ? changes : [SECRET_CHANGE],
    depends_on: [...resource.dependsOn],
    ...(resource.source ? { source: resource.source } : {}),
  };
}
