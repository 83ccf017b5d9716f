/**
 * The partition count a store was created with. A key's partition is a hash of the key modulo the
 * count, so opening a store with another count would look for every object's state, idempotency key
 * and workflow in the wrong partition: they would seem lost (and come back with the old count).
 * Restate and Kafka fix the count when the cluster or topic is created; so does this.
 */
import type { PartitionStore } from "../storage/partition-store";

const META_KEY = "partitions";

export class PartitionCountMismatchError extends Error {
  override readonly name = "PartitionCountMismatchError";
  readonly code = "STORE_PARTITION_COUNT";
  constructor(
    readonly stored: number,
    readonly configured: number,
  ) {
    super(
      `this data was created with ${stored} partitions, not ${configured}: a key's partition depends on ` +
        `the count, so state and invocations would not be found. Start with ${stored} partitions ` +
        `(CAPSTAN_PARTITIONS=${stored}), or with a new data directory.`,
    );
  }
}

/** Records `partitions` in a new store; throws PartitionCountMismatchError if the store has another. */
export async function claimPartitionCount(store: PartitionStore, partitions: number): Promise<void> {
  const stored = await store.getMeta(META_KEY);
  if (stored === undefined) return store.putMeta(META_KEY, partitions);
  if (stored !== partitions) throw new PartitionCountMismatchError(Number(stored), partitions);
}
