import { randomBytes } from "node:crypto";

/**
 * Resource id prefixes, as in the SDK's doc examples (`agent_011CZkYpogX7uDKUyvBTophP`,
 * `env_011CZkZ9X2dpNyB7HsEFoRfW`, `vlt_011CZkZDLs7fYzm1hXNPeRjv`, `vcrd_011CZkZEMt8gZan2iYPQfSkw`,
 * `sesn_011CZkZAtmR3yMPDzynEDxu7`; tunnels `tnl_`, SDK `BetaTunnel.id`) plus `sevt_` for session events, `req_` for
 * request ids and `tnltok_` for tunnel token ids (assumed: the SDK gives no prefix for `BetaTunnelToken.id`); memory
 * stores, memories and memory versions are `memstore_`, `mem_` and `memver_` (SDK `BetaManagedAgentsMemoryStore.id`,
 * `BetaManagedAgentsMemory.id`, `.memory_version_id` doc comments); `skill_` as in the skills docs
 * (`skill_01AbCdEfGhIjKlMnOpQrStUv`); deployments and their runs `depl_` and `drun_` (`depl_011CZkZcDH3vPqd7xnEfwTai`
 * in the SDK's deployment examples, `drun_...` in `BetaManagedAgentsDeploymentRun.id`).
 */
export type IdPrefix =
  | "agent"
  | "env"
  | "vlt"
  | "vcrd"
  | "sesn"
  | "sevt"
  | "req"
  | "memstore"
  | "mem"
  | "memver"
  | "skill"
  | "tnl"
  | "tnltok"
  | "depl"
  | "drun";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** `n` characters drawn uniformly from base62 (rejection sampling over crypto-random bytes). */
function randomBase62(n: number): string {
  let out = "";
  while (out.length < n) {
    for (const byte of randomBytes(n * 2)) {
      // 248 = 4 * 62: bytes at or above it would bias the distribution.
      if (byte < 248) out += BASE62[byte % 62];
      if (out.length === n) break;
    }
  }
  return out;
}

/**
 * A new id shaped like the real ones: `<prefix>_011C` followed by 20 random base62 characters (24 after the
 * underscore, like the SDK examples). Ids are random, not time-ordered: nothing may depend on their order.
 */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_011C${randomBase62(20)}`;
}
