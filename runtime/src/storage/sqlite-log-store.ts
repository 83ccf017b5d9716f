/**
 * The embedded LogStore: every partition's log in the `log` table of capstan.db.
 *
 * Group commit: appends requested during one event-loop turn (any partitions) are queued and written
 * by ONE transaction, so one fsync acknowledges them all. The flush runs on setImmediate, after the
 * turn's I/O callbacks and microtasks have queued their appends. Each append is checked against the
 * partition's next lsn inside the transaction (which holds SQLite's write lock), so a conflicting
 * append is rejected alone and never poisons the others in its batch.
 *
 * Trade-off: better-sqlite3 is synchronous, so the commit's fsync blocks the event loop for its
 * duration (~1 ms on an SSD). Batching keeps that to once per turn rather than once per append.
 */
import type { Statement } from "better-sqlite3";
import { LogConflictError } from "./log-store";
import type { LogStore, StoredRecord } from "./log-store";
import { SqliteDatabase, StoreClosedError } from "./sqlite-database";

/** Appends written by one transaction; a longer queue is flushed in several consecutive commits. */
export const MAX_APPENDS_PER_COMMIT = 1_024;
/** Appends waiting for a commit; beyond it append() rejects with StoreOverloadedError (backpressure). */
export const MAX_PENDING_APPENDS = 65_536;
/** Records in one append call. */
export const MAX_RECORDS_PER_APPEND = 10_000;
/** One serialized record (a journal of a few MB fits). */
export const MAX_RECORD_BYTES = 8 * 1024 * 1024;
/** The largest `limit` of one read(). */
export const MAX_READ_RECORDS = 10_000;

export interface SqliteLogStoreOptions {
  /** Close the database when the store closes (the store opened it). */
  ownsDatabase?: boolean;
  maxAppendsPerCommit?: number;
  maxPendingAppends?: number;
}

export interface LogStoreStats {
  /** append() calls accepted into the queue. */
  appends: number;
  /** Transactions committed by the group commit. */
  commits: number;
  /** Records made durable. */
  records: number;
  /** Appends rejected by a conflict. */
  conflicts: number;
}

/** Too many appends wait for a commit: the caller should slow down and retry. */
export class StoreOverloadedError extends Error {
  override readonly name = "StoreOverloadedError";
  readonly code = "STORE_OVERLOADED";
  constructor(readonly pending: number) {
    super(`${pending} appends already wait for a commit`);
  }
}

interface PendingAppend {
  partition: number;
  firstLsn: number;
  rows: string[];
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface Statements {
  insert: Statement<[number, number, string]>;
  maxLsn: Statement<[number], { lsn: number | null }>;
  trimmedUpTo: Statement<[number], { up_to_lsn: number }>;
  read: Statement<[number, number, number], { lsn: number; record: string }>;
  deleteUpTo: Statement<[number, number]>;
  setTrimmed: Statement<[number, number]>;
}

/**
 * @example
 * const log = SqliteLogStore.open("/var/lib/capstan");
 * await log.append(3, (await log.lastLsn(3)) + 1, [record]); // resolves once fsync'd
 * for (const { lsn, record } of await log.read(3, 0, 100)) apply(record);
 */
export class SqliteLogStore implements LogStore {
  private readonly stmts: Statements;
  private readonly maxAppendsPerCommit: number;
  private readonly maxPendingAppends: number;
  private readonly ownsDatabase: boolean;
  private queue: PendingAppend[] = [];
  private flushScheduled = false;
  private closed = false;
  private readonly counters: LogStoreStats = { appends: 0, commits: 0, records: 0, conflicts: 0 };

  constructor(
    private readonly database: SqliteDatabase,
    options: SqliteLogStoreOptions = {},
  ) {
    this.ownsDatabase = options.ownsDatabase ?? false;
    this.maxAppendsPerCommit = options.maxAppendsPerCommit ?? MAX_APPENDS_PER_COMMIT;
    this.maxPendingAppends = options.maxPendingAppends ?? MAX_PENDING_APPENDS;
    const db = database.db;
    this.stmts = {
      insert: db.prepare("INSERT INTO log (partition, lsn, record) VALUES (?, ?, ?)"),
      maxLsn: db.prepare("SELECT MAX(lsn) AS lsn FROM log WHERE partition = ?"),
      trimmedUpTo: db.prepare("SELECT up_to_lsn FROM log_trim WHERE partition = ?"),
      read: db.prepare("SELECT lsn, record FROM log WHERE partition = ? AND lsn > ? ORDER BY lsn LIMIT ?"),
      deleteUpTo: db.prepare("DELETE FROM log WHERE partition = ? AND lsn <= ?"),
      setTrimmed: db.prepare(
        "INSERT INTO log_trim (partition, up_to_lsn) VALUES (?, ?) " +
          "ON CONFLICT (partition) DO UPDATE SET up_to_lsn = MAX(up_to_lsn, excluded.up_to_lsn)",
      ),
    };
  }

  /** Opens `<dataDir>/capstan.db` for this store alone; close() closes the file. */
  static open(dataDir: string, options: Omit<SqliteLogStoreOptions, "ownsDatabase"> = {}): SqliteLogStore {
    return new SqliteLogStore(SqliteDatabase.open(dataDir), { ...options, ownsDatabase: true });
  }

  /** Validation failures reject; the append is queued synchronously, so call order is commit order. */
  async append(partition: number, firstLsn: number, records: readonly unknown[]): Promise<void> {
    this.checkOpen();
    checkPartition(partition);
    if (!Number.isSafeInteger(firstLsn) || firstLsn < 1) {
      throw new RangeError(`firstLsn must be an integer ≥ 1, got ${firstLsn}`);
    }
    if (records.length > MAX_RECORDS_PER_APPEND) {
      throw new RangeError(`${records.length} records exceed ${MAX_RECORDS_PER_APPEND} per append`);
    }
    if (this.queue.length >= this.maxPendingAppends) throw new StoreOverloadedError(this.queue.length);
    const rows = records.map(serialize);
    if (rows.length === 0) return;
    this.counters.appends++;
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ partition, firstLsn, rows, resolve, reject });
      this.scheduleFlush();
    });
  }

  /**
   * Rejects a `limit` above MAX_READ_RECORDS rather than clamping it, so a caller that stops paging
   * on a short page (`page.length < limit`) cannot mistake a clamped page for the end of the log.
   */
  async read(partition: number, afterLsn: number, limit: number): Promise<StoredRecord[]> {
    this.checkOpen();
    checkPartition(partition);
    if (!Number.isSafeInteger(limit) || limit < 0 || limit > MAX_READ_RECORDS) {
      throw new RangeError(`limit must be an integer in [0, ${MAX_READ_RECORDS}], got ${limit}`);
    }
    if (limit === 0) return [];
    return this.stmts.read.all(partition, afterLsn, limit).map((row) => ({
      lsn: row.lsn,
      record: JSON.parse(row.record),
    }));
  }

  async lastLsn(partition: number): Promise<number> {
    this.checkOpen();
    checkPartition(partition);
    return this.currentLastLsn(partition);
  }

  /** Trims at most up to the last lsn: trimming never moves the log's end. */
  async trim(partition: number, upToLsn: number): Promise<void> {
    this.checkOpen();
    checkPartition(partition);
    this.database.db
      .transaction(() => {
        const upTo = Math.min(upToLsn, this.currentLastLsn(partition));
        if (upTo < 1) return;
        this.stmts.deleteUpTo.run(partition, upTo);
        this.stmts.setTrimmed.run(partition, upTo);
      })
      .immediate();
  }

  /** Commits every pending append, then closes (the database too when this store opened it). */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.queue.length > 0) this.flush();
    this.closed = true;
    if (this.ownsDatabase) this.database.close();
  }

  stats(): LogStoreStats {
    return { ...this.counters };
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
      if (this.queue.length > 0) this.scheduleFlush();
    });
  }

  /** Writes one batch in one transaction; settles every promise of the batch after the commit. */
  private flush(): void {
    const batch = this.queue.splice(0, this.maxAppendsPerCommit);
    if (batch.length === 0) return;
    const conflicts = new Map<PendingAppend, LogConflictError>();
    try {
      this.database.db
        .transaction(() => {
          // The next lsn of each partition touched by this batch, so that several appends to one
          // partition in the same batch chain correctly.
          const nextLsn = new Map<number, number>();
          for (const a of batch) {
            const next = nextLsn.get(a.partition) ?? this.currentLastLsn(a.partition) + 1;
            if (a.firstLsn !== next) {
              conflicts.set(a, new LogConflictError(a.partition, a.firstLsn, next));
              continue;
            }
            for (let i = 0; i < a.rows.length; i++)
              this.stmts.insert.run(a.partition, a.firstLsn + i, a.rows[i]!);
            nextLsn.set(a.partition, next + a.rows.length);
          }
        })
        .immediate();
    } catch (e) {
      // The transaction rolled back (disk full, I/O error, closed file): nothing of the batch is durable.
      for (const a of batch) a.reject(e);
      return;
    }
    this.counters.commits++;
    for (const a of batch) {
      const conflict = conflicts.get(a);
      if (conflict !== undefined) {
        this.counters.conflicts++;
        a.reject(conflict);
      } else {
        this.counters.records += a.rows.length;
        a.resolve();
      }
    }
  }

  private currentLastLsn(partition: number): number {
    const max = this.stmts.maxLsn.get(partition)?.lsn ?? null;
    if (max !== null) return max;
    return this.stmts.trimmedUpTo.get(partition)?.up_to_lsn ?? 0;
  }

  private checkOpen(): void {
    if (this.closed) throw new StoreClosedError("SqliteLogStore");
  }
}

function checkPartition(partition: number): void {
  if (!Number.isSafeInteger(partition) || partition < 0) {
    throw new RangeError(`partition must be an integer ≥ 0, got ${partition}`);
  }
}

function serialize(record: unknown, i: number): string {
  const text = JSON.stringify(record) as string | undefined;
  if (text === undefined) throw new TypeError(`record ${i} is not JSON-serializable`);
  // Cheap bound first: a UTF-16 unit is at most three UTF-8 bytes.
  if (text.length * 3 > MAX_RECORD_BYTES && Buffer.byteLength(text, "utf8") > MAX_RECORD_BYTES) {
    throw new RangeError(`record ${i} is larger than ${MAX_RECORD_BYTES} bytes`);
  }
  return text;
}
