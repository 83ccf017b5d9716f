/**
 * The embedded LogStore: every partition's log in the `log` table of capstan.db.
 *
 * Group commit: appends (and trims) are queued and written by ONE transaction, so one fsync
 * acknowledges them all. At most one commit is in flight, which keeps the lsn checks simple (the
 * writer sees each batch after the previous one is durable). An idle store sends its queue on a
 * microtask, once the code that queued an append returns: partition processors issue a turn's
 * appends from one callback (partition/turn-scheduler.ts), so they all go in one commit, in that turn.
 *
 * Writers (`writer` option):
 * - "thread" (default): a worker thread with its own connection commits the batches (see
 *   sqlite-log-writer-entry.ts), so the fsync no longer blocks the event loop: the runtime keeps
 *   parsing requests, applying records and queueing appends while the disk syncs. Pipelined: when a
 *   commit returns, everything queued during it is sent at once, before the returned batch's callers
 *   run, so their work overlaps the next fsync. Records are serialized to JSON here, on the main
 *   thread (validation and size limits stay synchronous), and cross to the thread as strings.
 * - "inline": the main thread's connection commits; the fsync blocks the event loop for its duration.
 *
 * Either way, each append is checked inside the transaction against the partition's last lsn as it
 * is in the file (see sqlite-log-writer.ts), so a conflicting append is rejected alone. Reads stay on
 * the main thread's connection: in WAL mode they see every committed batch without blocking the writer.
 */
import type { Statement } from "better-sqlite3";
import {
  LogConflictError,
  LogFencedError,
  checkAppendArguments,
  checkPartition,
  checkReadArguments,
} from "./log-store";
// The limits every LogStore shares, re-exported where callers of this store have found them.
export { MAX_READ_RECORDS, MAX_RECORDS_PER_APPEND } from "./log-store";
import type { LogFence, LogStore, StoredRecord } from "./log-store";
import { SqliteDatabase, StoreClosedError } from "./sqlite-database";
import { InlineLogWriter, fenceOf, lastLsnOf } from "./sqlite-log-writer";
import type { LogWriter, WriteOp, WriteOutcome } from "./sqlite-log-writer";
import { ThreadLogWriter } from "./sqlite-log-writer-thread";

/** Appends written by one transaction; a longer queue is flushed in several consecutive commits. */
export const MAX_APPENDS_PER_COMMIT = 1_024;
/** Appends waiting for a commit; beyond it append() rejects with StoreOverloadedError (backpressure). */
export const MAX_PENDING_APPENDS = 65_536;
/** One serialized record (a journal of a few MB fits). */
export const MAX_RECORD_BYTES = 8 * 1024 * 1024;

export interface SqliteLogStoreOptions {
  /** Close the database when the store closes (the store opened it). */
  ownsDatabase?: boolean;
  /** Who commits: a worker thread (default) or the main thread. See the file comment. */
  writer?: "thread" | "inline";
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

interface PendingWrite {
  op: WriteOp;
  resolve: (outcome: WriteOutcome) => void;
  reject: (e: unknown) => void;
}

interface Statements {
  maxLsn: Statement<[number], { lsn: number | null }>;
  trimmedUpTo: Statement<[number], { up_to_lsn: number }>;
  read: Statement<[number, number, number], { lsn: number; record: string }>;
  fence: Statement<[number], { epoch: number; owner: string | null }>;
}

/**
 * @example
 * const log = SqliteLogStore.open("/var/lib/capstan"); // commits on a writer thread
 * await log.append(3, (await log.lastLsn(3)) + 1, [record]); // resolves once fsync'd
 * for (const { lsn, record } of await log.read(3, 0, 100)) apply(record);
 */
export class SqliteLogStore implements LogStore {
  private readonly stmts: Statements;
  private readonly writer: LogWriter;
  private readonly maxAppendsPerCommit: number;
  private readonly maxPendingAppends: number;
  private readonly ownsDatabase: boolean;
  private queue: PendingWrite[] = [];
  private flushScheduled = false;
  /** The commit in flight, if any: there is never more than one. */
  private committing: Promise<void> | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;
  /** Whether the next batch is sent as soon as the previous commit returns (writer thread). */
  private readonly pipelined: boolean;
  private readonly counters: LogStoreStats = { appends: 0, commits: 0, records: 0, conflicts: 0 };
  /** The claims this store holds, by partition. */
  private readonly claims = new Map<number, { epoch: number; owner: string }>();

  constructor(
    private readonly database: SqliteDatabase,
    options: SqliteLogStoreOptions = {},
  ) {
    this.ownsDatabase = options.ownsDatabase ?? false;
    this.maxAppendsPerCommit = options.maxAppendsPerCommit ?? MAX_APPENDS_PER_COMMIT;
    this.maxPendingAppends = options.maxPendingAppends ?? MAX_PENDING_APPENDS;
    const db = database.db;
    this.stmts = {
      maxLsn: db.prepare("SELECT MAX(lsn) AS lsn FROM log WHERE partition = ?"),
      trimmedUpTo: db.prepare("SELECT up_to_lsn FROM log_trim WHERE partition = ?"),
      read: db.prepare("SELECT lsn, record FROM log WHERE partition = ? AND lsn > ? ORDER BY lsn LIMIT ?"),
      fence: db.prepare("SELECT epoch, owner FROM log_fence WHERE partition = ?"),
    };
    if ((options.writer ?? "thread") === "thread") {
      this.writer = new ThreadLogWriter(database.file);
      this.pipelined = true;
    } else {
      this.writer = new InlineLogWriter(db);
      this.pipelined = false;
    }
  }

  /** Opens `<dataDir>/capstan.db` for this store alone; close() closes the file. */
  static open(dataDir: string, options: Omit<SqliteLogStoreOptions, "ownsDatabase"> = {}): SqliteLogStore {
    const database = SqliteDatabase.open(dataDir);
    try {
      return new SqliteLogStore(database, { ...options, ownsDatabase: true });
    } catch (e) {
      database.close();
      throw e;
    }
  }

  /**
   * Validation failures reject; the append is queued synchronously, so call order is commit order.
   * Rejects at once with STORE_WRITER_FAILED once the writer thread has died.
   */
  async append(partition: number, firstLsn: number, records: readonly unknown[]): Promise<void> {
    this.checkWritable();
    checkAppendArguments(partition, firstLsn, records);
    if (this.queue.length >= this.maxPendingAppends) throw new StoreOverloadedError(this.queue.length);
    const rows = records.map(serialize);
    if (rows.length === 0) return;
    this.counters.appends++;
    const claim = this.claims.get(partition);
    await this.enqueue({
      kind: "append",
      partition,
      firstLsn,
      rows,
      epoch: claim?.epoch ?? 0,
      owner: claim?.owner ?? null,
    });
  }

  /** Goes through the writer, so the new epoch is ordered against appends like any write. */
  async claim(partition: number, owner: string, options: { ifEpoch?: number } = {}): Promise<number> {
    this.checkWritable();
    checkPartition(partition);
    const outcome = await this.enqueue({ kind: "claim", partition, owner, ifEpoch: options.ifEpoch ?? null });
    if (outcome === undefined || !("claimedEpoch" in outcome)) {
      const fence =
        outcome !== undefined && "fenced" in outcome ? outcome.fenced : { epoch: -1, owner: null };
      throw new LogFencedError(partition, this.claims.get(partition)?.epoch ?? 0, {
        epoch: fence.epoch,
        owner: fence.owner ?? undefined,
      });
    }
    this.claims.set(partition, { epoch: outcome.claimedEpoch, owner });
    return outcome.claimedEpoch;
  }

  async release(partition: number): Promise<void> {
    this.checkWritable();
    checkPartition(partition);
    const claim = this.claims.get(partition);
    if (claim === undefined) return;
    this.claims.delete(partition);
    await this.enqueue({ kind: "release", partition, ...claim });
  }

  async fence(partition: number): Promise<LogFence> {
    this.checkOpen();
    checkPartition(partition);
    const fence = fenceOf(this.stmts, partition);
    return { epoch: fence.epoch, owner: fence.owner ?? undefined };
  }

  async read(partition: number, afterLsn: number, limit: number): Promise<StoredRecord[]> {
    this.checkOpen();
    checkReadArguments(partition, limit);
    if (limit === 0) return [];
    return this.stmts.read.all(partition, afterLsn, limit).map((row) => ({
      lsn: row.lsn,
      record: JSON.parse(row.record),
    }));
  }

  async lastLsn(partition: number): Promise<number> {
    this.checkOpen();
    checkPartition(partition);
    return lastLsnOf(this.stmts, partition);
  }

  /**
   * Trims at most up to the last lsn: trimming never moves the log's end. Goes through the writer
   * like an append (ordered after the appends queued before it), so the main thread never competes
   * with the writer thread for SQLite's write lock. Not subject to backpressure: trims are rare (one
   * per snapshot) and refusing one would only keep the log longer.
   */
  async trim(partition: number, upToLsn: number): Promise<void> {
    this.checkWritable();
    checkPartition(partition);
    await this.enqueue({ kind: "trim", partition, upToLsn });
  }

  /** Commits every pending append, then closes (the database too when this store opened it). */
  async close(): Promise<void> {
    this.closed = true;
    this.closing ??= this.drainAndClose();
    return this.closing;
  }

  stats(): LogStoreStats {
    return { ...this.counters };
  }

  private enqueue(op: WriteOp): Promise<WriteOutcome> {
    return new Promise<WriteOutcome>((resolve, reject) => {
      this.queue.push({ op, resolve, reject });
      this.scheduleFlush();
    });
  }

  private async drainAndClose(): Promise<void> {
    try {
      while (this.committing !== undefined || this.queue.length > 0) {
        if (this.committing === undefined) this.flush();
        await this.committing;
      }
      await this.writer.close();
    } finally {
      if (this.ownsDatabase) this.database.close();
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.committing !== undefined) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      if (this.committing === undefined) this.flush();
    });
  }

  /** Starts the commit of the next batch, if anything is queued. */
  private flush(): void {
    const batch = this.queue.splice(0, this.maxAppendsPerCommit);
    this.committing = batch.length === 0 ? undefined : this.commit(batch);
  }

  /** Writes one batch in one transaction; settles every promise of the batch after the commit. */
  private async commit(batch: PendingWrite[]): Promise<void> {
    let outcomes: WriteOutcome[] | undefined;
    let failure: unknown;
    try {
      outcomes = await this.writer.commit(batch.map((w) => w.op));
    } catch (e) {
      // The transaction rolled back (disk full, I/O error, closed file, dead writer thread): nothing
      // of the batch is durable.
      failure = e;
    }
    // Pipelining (writer thread): what queued during this commit goes to the disk before this
    // batch's callers run, so their work overlaps the next fsync. Inline, that commit would block
    // right now; it waits for the next turn instead, gathering the callers' next appends too.
    if (this.pipelined) this.flush();
    else this.committing = undefined;
    if (outcomes === undefined) {
      for (const w of batch) w.reject(failure);
    } else {
      this.counters.commits++;
      batch.forEach((w, i) => this.settle(w, outcomes[i]));
    }
    if (this.committing === undefined && this.queue.length > 0 && this.closing === undefined) {
      this.scheduleFlush();
    }
  }

  private settle(w: PendingWrite, outcome: WriteOutcome): void {
    if (outcome !== undefined && w.op.kind === "append") {
      this.counters.conflicts++;
      if ("fenced" in outcome) {
        const { epoch, owner } = outcome.fenced;
        w.reject(new LogFencedError(w.op.partition, w.op.epoch, { epoch, owner: owner ?? undefined }));
      } else if ("conflictNextLsn" in outcome) {
        w.reject(new LogConflictError(w.op.partition, w.op.firstLsn, outcome.conflictNextLsn));
      }
      return;
    }
    if (w.op.kind === "append") this.counters.records += w.op.rows.length;
    w.resolve(outcome);
  }

  private checkOpen(): void {
    if (this.closed) throw new StoreClosedError("SqliteLogStore");
  }

  private checkWritable(): void {
    this.checkOpen();
    const failure = this.writer.failure;
    if (failure !== undefined) throw failure;
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
