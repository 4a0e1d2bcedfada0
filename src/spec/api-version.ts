/**
 * Whose format an `apiVersion` names. A reconcile repository may hold other tools' YAML next to its specs; a document
 * is skipped only when its `apiVersion` clearly belongs to another tool, never when it could be a typo of ours
 * (DESIGN.md, "Identity typos fail closed"). See docs/adr/0010-typos-fail-closed.md.
 */
import { distance } from "./suggest.js";

/** How `classifyApiVersion` sees an `apiVersion` value. */
export type ApiVersionClass = "reconcile" | "near" | "foreign";

/** The greatest edit distance at which an `apiVersion` group still reads as a typo of `reconcile`. */
const NEAR_DISTANCE = 3;
/** Core Kubernetes API versions have no group: `v1`, `v2beta1`. */
export const BARE_VERSION = /^v\d+((alpha|beta)\d*)?$/;

/**
 * Whose format an `apiVersion` value names: `reconcile` when its group (the part before `/`, case-insensitive) is
 * `reconcile` (validate then checks the version); `near` when the group contains `reconcile` or is within 3 edits of
 * it (`reconcle/v1`, `recon-cile/v1`, `reconcile.dev/v1`): a typo, which must be an error; `foreign` otherwise
 * (`apps/v1`, `v1`, `networking.k8s.io/v1`, `kagent.dev/v1alpha2`): another tool's manifest, skipped.
 */
export function classifyApiVersion(apiVersion: string): ApiVersionClass {
  const value = apiVersion.trim().toLowerCase();
  const group = value.includes("/") ? value.slice(0, value.indexOf("/")) : value;
  if (group === "reconcile") return "reconcile";
  if (BARE_VERSION.test(group)) return "foreign";
  if (group.includes("reconcile") || distance(group, "reconcile") <= NEAR_DISTANCE) return "near";
  return "foreign";
}
