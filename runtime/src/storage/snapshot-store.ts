/**
 * Port: immutable snapshots of a partition's state, as bytes or as files streamed from and to disk,
 * and a pointer to the newest. Implementations: S3SnapshotStore (objects in S3, the pointer in
 * DynamoDB) and MemorySnapshotStore.
 *
 * Each snapshot is written once under a key of its own and never changed; the pointer then moves to
 * it by a conditional write that only goes forward (a higher LSN) and never for a writer whose epoch
 * is below the pointer's. A new leader reads the newest snapshot and replays the log after its LSN.
 * The newest SNAPSHOTS_KEPT snapshots are kept; older ones are deleted after the pointer moved.
 */

/**
 * Largest snapshot object: what one S3 PUT takes (5 GiB). A state file beyond it is not shipped (the
 * log is then not trimmed below it either); multipart upload would lift it.
 */
export const MAX_SNAPSHOT_BYTES = 5 * 1024 ** 3;

/** Snapshots kept per partition: the newest, and one before it in case the newest cannot be read. */
export const SNAPSHOTS_KEPT = 2;

/** Where a snapshot is and what it covers. */
export interface SnapshotRef {
  lsn: number;
  /** The fence epoch of the leader that wrote it. */
  epoch: number;
  /** The object's unique key. */
  key: string;
}

export interface SnapshotStore {
  /**
   * Stores `bytes` as the partition's state at `lsn`, written by the leader of `epoch`, and moves the
   * pointer to it. Resolves `false`, storing nothing, when the pointer is already at `lsn` or beyond;
   * rejects with SnapshotFencedError when the pointer was moved by a higher epoch.
   */
  put(partition: number, lsn: number, epoch: number, bytes: Uint8Array): Promise<boolean>;
  /**
   * Like `put`, with the snapshot read from `file` as a stream: never whole in memory. Rejects with
   * SnapshotTooLargeError, storing nothing, for a file beyond the store's object limit.
   */
  putFile(partition: number, lsn: number, epoch: number, file: string): Promise<boolean>;
  /**
   * Streams snapshot `ref` into `file` (created or truncated) and fsyncs it. Rejects with
   * SnapshotMissingError when the object is gone (dropped by newer snapshots since `ref` was read).
   */
  download(ref: SnapshotRef, file: string): Promise<void>;
  /** The newest snapshot of the partition, if any, whole in memory (small snapshots and tests). */
  latest(partition: number): Promise<(SnapshotRef & { bytes: Uint8Array }) | undefined>;
  /** The kept snapshots, newest first. */
  list(partition: number): Promise<SnapshotRef[]>;
  close(): Promise<void>;
}

/** A leader with an older epoch than the pointer's tried to store a snapshot: it no longer leads. */
export class SnapshotFencedError extends Error {
  override readonly name = "SnapshotFencedError";
  readonly code = "STORE_SNAPSHOT_FENCED";
  constructor(
    readonly partition: number,
    readonly epoch: number,
    readonly pointerEpoch: number,
  ) {
    super(
      `snapshot of partition ${partition} by epoch ${epoch} refused: the pointer is at epoch ${pointerEpoch}`,
    );
  }
}

/** A snapshot is larger than the store can hold in one object. */
export class SnapshotTooLargeError extends Error {
  override readonly name = "SnapshotTooLargeError";
  readonly code = "STORE_SNAPSHOT_TOO_LARGE";
  constructor(
    readonly partition: number,
    readonly bytes: number,
    readonly maxBytes: number,
  ) {
    super(`snapshot of partition ${partition} is ${bytes} bytes, more than the ${maxBytes} one object holds`);
  }
}

/** A snapshot named by a ref is gone: newer snapshots replaced it since the ref was read. */
export class SnapshotMissingError extends Error {
  override readonly name = "SnapshotMissingError";
  readonly code = "STORE_SNAPSHOT_MISSING";
  constructor(readonly key: string) {
    super(`snapshot object ${key} is gone (replaced by newer snapshots)`);
  }
}

/** A unique, sortable object key: partition, zero-padded LSN, epoch, and a random suffix. */
export function snapshotObjectKey(partition: number, lsn: number, epoch: number, unique: string): string {
  return `snap/${partition}/${String(lsn).padStart(16, "0")}-${epoch}-${unique}`;
}

/** Validates put's arguments the same way in every implementation. */
export function checkSnapshotArgs(partition: number, lsn: number, epoch: number): void {
  for (const [name, value, min] of [
    ["partition", partition, 0],
    ["lsn", lsn, 1],
    ["epoch", epoch, 0],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < min) {
      throw new RangeError(`${name} must be an integer ≥ ${min}, got ${value}`);
    }
  }
}
