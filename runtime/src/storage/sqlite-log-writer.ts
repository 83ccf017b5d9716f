/**
 * The log's write path, shared by both writers: one group-commit batch of appends and trims, written
 * by one `BEGIN IMMEDIATE` transaction. The inline writer runs it on the main thread's connection;
 * the writer thread (sqlite-log-writer-entry.ts) runs the very same function on its own connection.
 *
 * Each append is checked against the partition's last lsn read inside the transaction, which holds
 * SQLite's write lock: the check is against what is durably in the file, so it is the fence against a
 * second writer (another connection or process) and never trusts a cache. A conflicting append is
 * skipped alone and never poisons the others in its batch.
 */
import type Database from "better-sqlite3";
import type { Statement } from "better-sqlite3";

/**
 * One queued write, as it crosses to the writer: records already serialized on the main thread.
 * An append carries the claim its store holds (epoch 0 and no owner: none), checked against the
 * partition's fence in the same transaction.
 */
export type WriteOp =
  | {
      kind: "append";
      partition: number;
      firstLsn: number;
      rows: string[];
      epoch: number;
      owner: string | null;
    }
  | { kind: "trim"; partition: number; upToLsn: number }
  | { kind: "claim"; partition: number; owner: string; ifEpoch: number | null }
  | { kind: "release"; partition: number; epoch: number; owner: string };

/**
 * Per op, in batch order: `undefined` when done; a conflict (the partition's next lsn); a refused
 * claim or append (the fence as found); or a claim's new epoch.
 */
export type WriteOutcome =
  | { conflictNextLsn: number }
  | { fenced: { epoch: number; owner: string | null } }
  | { claimedEpoch: number }
  | undefined;

export interface LogWriteStatements {
  insert: Statement<[number, number, string]>;
  maxLsn: Statement<[number], { lsn: number | null }>;
  trimmedUpTo: Statement<[number], { up_to_lsn: number }>;
  deleteUpTo: Statement<[number, number]>;
  setTrimmed: Statement<[number, number]>;
  fence: Statement<[number], { epoch: number; owner: string | null }>;
  setFence: Statement<[number, number, string | null]>;
}

export function prepareLogWriteStatements(db: Database.Database): LogWriteStatements {
  return {
    insert: db.prepare("INSERT INTO log (partition, lsn, record) VALUES (?, ?, ?)"),
    maxLsn: db.prepare("SELECT MAX(lsn) AS lsn FROM log WHERE partition = ?"),
    trimmedUpTo: db.prepare("SELECT up_to_lsn FROM log_trim WHERE partition = ?"),
    deleteUpTo: db.prepare("DELETE FROM log WHERE partition = ? AND lsn <= ?"),
    setTrimmed: db.prepare(
      "INSERT INTO log_trim (partition, up_to_lsn) VALUES (?, ?) " +
        "ON CONFLICT (partition) DO UPDATE SET up_to_lsn = MAX(up_to_lsn, excluded.up_to_lsn)",
    ),
    fence: db.prepare("SELECT epoch, owner FROM log_fence WHERE partition = ?"),
    setFence: db.prepare(
      "INSERT INTO log_fence (partition, epoch, owner) VALUES (?, ?, ?) " +
        "ON CONFLICT (partition) DO UPDATE SET epoch = excluded.epoch, owner = excluded.owner",
    ),
  };
}

/** The highest lsn of the partition, counting trimmed records; 0 when it never had one. */
export function lastLsnOf(
  stmts: Pick<LogWriteStatements, "maxLsn" | "trimmedUpTo">,
  partition: number,
): number {
  const max = stmts.maxLsn.get(partition)?.lsn ?? null;
  if (max !== null) return max;
  return stmts.trimmedUpTo.get(partition)?.up_to_lsn ?? 0;
}

/** The partition's fence as stored; never claimed: epoch 0, no owner. */
export function fenceOf(
  stmts: Pick<LogWriteStatements, "fence">,
  partition: number,
): { epoch: number; owner: string | null } {
  return stmts.fence.get(partition) ?? { epoch: 0, owner: null };
}

/**
 * Commits `ops` in one transaction (fsync'd with `synchronous=FULL` before it returns). Throws when
 * the transaction rolled back (disk full, I/O error, SQLITE_BUSY past the timeout): then nothing of
 * the batch is durable.
 */
export function commitWriteBatch(
  db: Database.Database,
  stmts: LogWriteStatements,
  ops: readonly WriteOp[],
): WriteOutcome[] {
  const outcomes: WriteOutcome[] = [];
  db.transaction(() => {
    // The next lsn of each partition touched by this batch, so that several appends to one partition
    // in the same batch chain correctly.
    const nextLsn = new Map<number, number>();
    const next = (partition: number): number => nextLsn.get(partition) ?? lastLsnOf(stmts, partition) + 1;
    for (const op of ops) {
      switch (op.kind) {
        case "append": {
          const fence = fenceOf(stmts, op.partition);
          if (fence.epoch !== op.epoch || fence.owner !== op.owner) {
            outcomes.push({ fenced: fence });
            continue;
          }
          const expected = next(op.partition);
          if (op.firstLsn !== expected) {
            outcomes.push({ conflictNextLsn: expected });
            continue;
          }
          for (let i = 0; i < op.rows.length; i++)
            stmts.insert.run(op.partition, op.firstLsn + i, op.rows[i]!);
          nextLsn.set(op.partition, expected + op.rows.length);
          outcomes.push(undefined);
          break;
        }
        case "trim": {
          // Trimming never moves the log's end: at most up to the last lsn.
          const upTo = Math.min(op.upToLsn, next(op.partition) - 1);
          if (upTo >= 1) {
            stmts.deleteUpTo.run(op.partition, upTo);
            stmts.setTrimmed.run(op.partition, upTo);
          }
          outcomes.push(undefined);
          break;
        }
        case "claim": {
          const fence = fenceOf(stmts, op.partition);
          if (op.ifEpoch !== null && fence.epoch !== op.ifEpoch) {
            outcomes.push({ fenced: fence });
            continue;
          }
          stmts.setFence.run(op.partition, fence.epoch + 1, op.owner);
          outcomes.push({ claimedEpoch: fence.epoch + 1 });
          break;
        }
        case "release": {
          const fence = fenceOf(stmts, op.partition);
          if (fence.epoch === op.epoch && fence.owner === op.owner) {
            stmts.setFence.run(op.partition, fence.epoch, null);
          }
          outcomes.push(undefined);
          break;
        }
      }
    }
  }).immediate();
  return outcomes;
}

/** Where a batch is committed: on the main thread's connection, or by the writer thread. */
export interface LogWriter {
  /** Resolves once the batch is durable, with one outcome per op; rejects when nothing of it is. */
  commit(ops: readonly WriteOp[]): Promise<WriteOutcome[]>;
  /** Set once the writer can no longer commit anything (its thread died); appends then fail fast. */
  readonly failure: Error | undefined;
  /** Called after the last commit settled. */
  close(): Promise<void>;
}

/**
 * Commits on the caller's thread: simple, but the fsync blocks the event loop for its duration.
 * Kept for comparison (tests, benchmark) and for hosts where a thread is not wanted.
 */
export class InlineLogWriter implements LogWriter {
  readonly failure = undefined;
  private readonly stmts: LogWriteStatements;

  constructor(private readonly db: Database.Database) {
    this.stmts = prepareLogWriteStatements(db);
  }

  async commit(ops: readonly WriteOp[]): Promise<WriteOutcome[]> {
    return commitWriteBatch(this.db, this.stmts, ops);
  }

  async close(): Promise<void> {}
}

/** Messages between the store and its writer thread. */
export interface WriterData {
  file: string;
  busyTimeoutMs: number;
}
export interface CommitRequest {
  type: "commit";
  id: number;
  ops: readonly WriteOp[];
}
export interface CloseRequest {
  type: "close";
}
export type WriterRequest = CommitRequest | CloseRequest;
export type WriterReply =
  | { type: "committed"; id: number; outcomes: WriteOutcome[] }
  | { type: "failed"; id: number; error: { name: string; message: string; code?: string } };
