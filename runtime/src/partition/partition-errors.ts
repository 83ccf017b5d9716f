/**
 * Why a partition refused an append. Both carry a stable code the API layer passes on (mapped to 503
 * with a retry hint in server/); neither means anything was recorded.
 */

/** Wait this long before retrying a partition that stopped: its leadership has to move or restart. */
export const PARTITION_UNAVAILABLE_RETRY_AFTER_MS = 5_000;
/** Wait this long before retrying an overloaded partition: its queue drains in a few commits. */
export const PARTITION_OVERLOADED_RETRY_AFTER_MS = 1_000;

/** Too many records wait for the partition's log: backpressure on requests from outside. */
export class PartitionOverloadedError extends Error {
  override readonly name = "PartitionOverloadedError";
  readonly code = "RUNTIME_OVERLOADED";
}

/**
 * The partition is not led here: its processor stopped (fenced by another writer, a failed store, a
 * bug in apply) or it is not available on this node. A restart or a new leader serves it again.
 */
export class PartitionUnavailableError extends Error {
  override readonly name = "PartitionUnavailableError";
  readonly code = "RUNTIME_PARTITION_UNAVAILABLE";
  constructor(
    readonly partition: number,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`partition ${partition} is unavailable: ${reason}`, options);
  }
}
