/**
 * Port: a partition's durable, ordered log. Implementations: SqliteLogStore (embedded) and
 * DynamoDbLogStore. Records are opaque JSON values to the store.
 *
 * Fencing: each partition has a fence (epoch, owner). `claim` raises the epoch and names its caller
 * the owner; from then on only that store's appends land. The check is made by the append itself,
 * atomically with the write, so it holds even where the LSN check cannot: a stale writer appending at
 * an LSN that trimming freed (wave2-aws research §3.3).
 */
export interface StoredRecord {
  lsn: number;
  record: unknown;
}

/** Who may append to a partition. Epoch 0 with no owner: never claimed. */
export interface LogFence {
  epoch: number;
  owner: string | undefined;
}

export interface LogStore {
  /**
   * Makes this store, as `owner`, the partition's only writer: raises the fence epoch above every
   * earlier claim and resolves with it. Appends by stores holding an older claim (or none) are
   * refused with LogFencedError from then on. With `ifEpoch`, the claim is a takeover of what the
   * caller saw: it rejects with LogFencedError if the epoch is no longer `ifEpoch`.
   */
  claim(partition: number, owner: string, options?: { ifEpoch?: number }): Promise<number>;
  /**
   * Gives the claim up (graceful hand-over): the owner is cleared, the epoch kept, so this store's
   * appends are refused and the next claim needs no lease to expire. A no-op if the claim was lost.
   */
  release(partition: number): Promise<void>;
  /** The partition's fence as it is durably stored. */
  fence(partition: number): Promise<LogFence>;
  /**
   * Appends `records` at LSNs `firstLsn, firstLsn+1, ...`. Resolves only once durable (fsync'd).
   * Rejects with LogFencedError unless the partition's fence still carries this store's claim (a
   * store that never claimed the partition may append only while nobody has), and with
   * LogConflictError if `firstLsn` is not the partition's next LSN (another writer got there first).
   * Concurrent appends (to any partitions) may share one commit (group commit).
   */
  append(partition: number, firstLsn: number, records: readonly unknown[]): Promise<void>;
  /** Records with lsn > afterLsn, in order, at most `limit`. */
  read(partition: number, afterLsn: number, limit: number): Promise<StoredRecord[]>;
  /** The highest LSN of the partition, 0 when empty. */
  lastLsn(partition: number): Promise<number>;
  /** Drops records with lsn ≤ upToLsn (covered by a snapshot). */
  trim(partition: number, upToLsn: number): Promise<void>;
  close(): Promise<void>;
}

export class LogConflictError extends Error {
  override readonly name = "LogConflictError";
  readonly code = "STORE_LOG_CONFLICT";
  /**
   * `expectedLsn`, when given, is the partition's next free lsn: the append left a gap or overlapped
   * (`lsn` is then the append's first lsn).
   */
  constructor(
    readonly partition: number,
    readonly lsn: number,
    readonly expectedLsn?: number,
  ) {
    super(
      expectedLsn === undefined || lsn < expectedLsn
        ? `log of partition ${partition} already has a record at lsn ${lsn}`
        : `append to partition ${partition} at lsn ${lsn} would leave a gap: the next lsn is ${expectedLsn}`,
    );
  }
}

/**
 * The partition's fence no longer carries this store's claim: another writer claimed the partition
 * (or it was released). Nothing of the append was written; the caller must stop leading the partition.
 */
export class LogFencedError extends Error {
  override readonly name = "LogFencedError";
  readonly code = "STORE_LOG_FENCED";
  constructor(
    readonly partition: number,
    /** The epoch this store held (0: no claim). */
    readonly heldEpoch: number,
    /** The fence as found. */
    readonly fence: LogFence,
  ) {
    super(
      `partition ${partition} is fenced: this store holds epoch ${heldEpoch}, ` +
        `the fence is at epoch ${fence.epoch} owned by ${fence.owner ?? "nobody"}`,
    );
  }
}

/** Records in one append call, in every LogStore (the processor's batches stay below it). */
export const MAX_RECORDS_PER_APPEND = 10_000;
/** The largest `limit` of one read(), in every LogStore. */
export const MAX_READ_RECORDS = 10_000;

/** Argument checks every LogStore makes the same way, before it touches its storage. */
export function checkPartition(partition: number): void {
  if (!Number.isSafeInteger(partition) || partition < 0) {
    throw new RangeError(`partition must be an integer ≥ 0, got ${partition}`);
  }
}

export function checkAppendArguments(partition: number, firstLsn: number, records: readonly unknown[]): void {
  checkPartition(partition);
  if (!Number.isSafeInteger(firstLsn) || firstLsn < 1) {
    throw new RangeError(`firstLsn must be an integer ≥ 1, got ${firstLsn}`);
  }
  if (records.length > MAX_RECORDS_PER_APPEND) {
    throw new RangeError(`${records.length} records exceed ${MAX_RECORDS_PER_APPEND} per append`);
  }
}

/**
 * A `limit` above MAX_READ_RECORDS is refused rather than clamped, so a caller that stops paging on
 * a short page (`page.length < limit`) cannot mistake a clamped page for the end of the log.
 */
export function checkReadArguments(partition: number, limit: number): void {
  checkPartition(partition);
  if (!Number.isSafeInteger(limit) || limit < 0 || limit > MAX_READ_RECORDS) {
    throw new RangeError(`limit must be an integer in [0, ${MAX_READ_RECORDS}], got ${limit}`);
  }
}
