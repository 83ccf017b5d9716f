/**
 * Which partition owns an invocation, and deterministic ids for invocations started by handlers.
 * Both are part of the cluster's persistent contract: changing them strands existing state.
 */
import { createHash } from "node:crypto";
import type { InvocationId, Target } from "@capstan/sdk/protocol";
import { formatInvocationId } from "@capstan/sdk/protocol";
import { invariant } from "./invariant";

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
  invariant(
    Number.isInteger(partitions) && partitions > 0 && partitions <= 9999,
    `bad partition count ${partitions}`,
  );
  if (target.key !== undefined) return fnv1a32(`${target.service}\0${target.key}`) % partitions;
  if (idempotencyKey !== undefined) {
    return fnv1a32(`${target.service}\0${target.handler}\0${idempotencyKey}`) % partitions;
  }
  return undefined;
}

/**
 * `partitionOfTarget`, with `unconstrained` choosing when any partition will do (random at the
 * ingress, hash-derived for child invocations).
 *
 * @example
 * partitionFor({ service: "Mailer", handler: "send" }, undefined, 16, () => randomInt(16))
 */
export function partitionFor(
  target: Target,
  idempotencyKey: string | undefined,
  partitions: number,
  unconstrained: () => number,
): number {
  return partitionOfTarget(target, idempotencyKey, partitions) ?? unconstrained();
}

/**
 * The id of an ingress invocation: `unique` is the caller's randomness (e.g. 12 random bytes as hex).
 *
 * @example
 * formatNewInvocationId(partitionFor(target, key, 16, rand), randomBytes(12).toString("hex"))
 */
export function formatNewInvocationId(partition: number, unique: string): InvocationId {
  return formatInvocationId(partition, unique);
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
  const partition = partitionFor(
    target,
    idempotencyKey,
    partitions,
    () => Number.parseInt(unique.slice(0, 8), 16) % partitions,
  );
  return formatInvocationId(partition, unique);
}
