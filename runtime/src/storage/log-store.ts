/**
 * Port: a partition's durable, ordered log. Implementations: SqliteLogStore (embedded) and, later,
 * DynamoDbLogStore. Records are opaque JSON values to the store.
 */
export interface StoredRecord {
  lsn: number;
  record: unknown;
}

export interface LogStore {
  /**
   * Appends `records` at LSNs `firstLsn, firstLsn+1, ...`. Resolves only once durable (fsync'd).
   * Rejects with LogConflictError if any of those LSNs already exists (another writer got there first):
   * that is the fence against two leaders appending to one partition.
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
