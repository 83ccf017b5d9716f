/**
 * Which partition owns an invocation, and the deterministic ids of invocations started by handlers.
 * In the protocol because both sides compute them: the runtime stamps a call's or send's child id
 * when it records the entry, and the SDK derives the same id to hand a send's caller its handle
 * without a round trip. Part of the cluster's persistent contract: changing them strands state.
 */
import { createHash } from "node:crypto";
import { formatInvocationId, type InvocationId } from "./ids";
import type { Target } from "./journal";

/** Most partitions a cluster may have: ids embed the partition in at most four digits. */
export const MAX_PARTITIONS = 9999;

/** FNV-1a, 32 bit, over the UTF-8 bytes: tiny, fast and stable across processes and languages. */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, "utf8")) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * The partition an invocation must live on, when one is imposed: keyed targets (objects, workflows)
 * live with their key's state and lock; requests with an idempotency key live with their idempotency
 * entry. Undefined when any partition will do.
 *
 * @example
 * partitionOfTarget({ service: "Cart", handler: "add", key: "u1" }, undefined, 16) // same number for every Cart/u1 request
 */
export function partitionOfTarget(
  target: Target,
  idempotencyKey: string | undefined,
  partitions: number,
): number | undefined {
  if (!Number.isInteger(partitions) || partitions <= 0 || partitions > MAX_PARTITIONS) {
    throw new Error(`invariant violated: bad partition count ${partitions}`);
  }
  if (target.key !== undefined) return fnv1a32(`${target.service}\0${target.key}`) % partitions;
  if (idempotencyKey !== undefined) {
    return fnv1a32(`${target.service}\0${target.handler}\0${idempotencyKey}`) % partitions;
  }
  return undefined;
}

/**
 * The id of the invocation started by journal entry `entryIndex` (a call or send) of `parentId`.
 * Deterministic, so re-applying the log or a resent entry yields the same child; unique because the
 * parent id and the index are (a 128-bit SHA-256 prefix makes accidental collisions negligible).
 *
 * @example
 * childInvocationId(parent, 3, { service: "Mailer", handler: "send" }, undefined, 16) // "inv_7_3f2a…", same on every replay
 */
export function childInvocationId(
  parentId: InvocationId,
  entryIndex: number,
  target: Target,
  idempotencyKey: string | undefined,
  partitions: number,
): InvocationId {
  const unique = createHash("sha256").update(`${parentId}\0${entryIndex}`).digest("hex").slice(0, 32);
  const partition =
    partitionOfTarget(target, idempotencyKey, partitions) ??
    Number.parseInt(unique.slice(0, 8), 16) % partitions;
  return formatInvocationId(partition, unique);
}
