/**
 * The plan digest: one short value that identifies what a plan would do, so that two plans made at different times
 * (the one reviewed on a pull request, the one made again at the merge commit) can be compared. It covers the stack,
 * the target, the options and every action (addresses, ids, versions, field changes), and leaves out what varies
 * without changing the work: `created_at`, warnings, and the input digests.
 */
import { digest, type Plan } from "./plan.js";

/**
 * The digest of what `plan` would do (sha256, hex, 32 characters; independent of key order and of `created_at`).
 * Equal digests mean equal actions for the same stack, target and options.
 */
export function planDigest(plan: Pick<Plan, "stack" | "target" | "options" | "actions">): string {
  return digest({ stack: plan.stack, target: plan.target, options: plan.options, actions: plan.actions });
}
