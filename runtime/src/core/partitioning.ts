/**
 * Which partition owns an invocation, and deterministic ids for invocations started by handlers.
 * Both are part of the cluster's persistent contract: changing them strands existing state.
 */
import type { InvocationId, Target } from "@capstan/sdk/protocol";
import { formatInvocationId, partitionOfTarget } from "@capstan/sdk/protocol";

// The derivations the SDK shares (it derives a send's child id too) live in the protocol.
export { childInvocationId, fnv1a32, partitionOfTarget } from "@capstan/sdk/protocol";

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
