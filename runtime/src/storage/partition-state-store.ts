/**
 * Port: where each partition's materialized state lives between batches. `apply` sees it only as a
 * PartitionStateStore (core/state-reader.ts); the processor also makes it durable (so the log below
 * can be trimmed) and the admin API reads it through PartitionStateViews. Implementations:
 * SqliteStateStores (one SQLite file per partition, the default), ShippedSqliteStateStores (the same
 * files, shipped to S3 as snapshots: DynamoDB mode) and JsonSnapshotStateStores (state in memory,
 * snapshotted whole as JSON into the PartitionStore; for tests and the simulation).
 */
import type { InvocationId, Payload } from "@capstan/sdk/protocol";
import type { PartitionStateStore } from "../core/state-reader";
import type { Invocation, InvocationStatus, Timer } from "../core/state";
import type { TimerKey } from "../core/timers";

/** A place in the newest-first order of invocations (createdAtMs, then id, both descending). */
export interface InvocationListPosition {
  createdAtMs: number;
  id: string;
}

/** What the admin API filters invocation lists by. */
export interface InvocationListFilter {
  service?: string;
  status?: InvocationStatus;
  key?: string;
  /** Completed ones with this outcome (the result's kind), filtered by the store: no scan bound. */
  outcome?: "succeeded" | "failed";
  /** Created at or after this. */
  createdFromMs?: number;
  /** Created before this. */
  createdToMs?: number;
  /** Only invocations after this position in the order (the next page of a paged list). */
  after?: InvocationListPosition;
}

/** Reads for the admin API and the SQL views: bounded pages, never the whole state at once. */
export interface PartitionStateViews {
  /** Newest first (createdAtMs, then id), at most `limit`. */
  listInvocations(filter: InvocationListFilter, limit: number): Invocation[];
  /** Kept up to date by each commit: never a scan over the invocations. */
  countInvocationsByStatus(): Map<InvocationStatus, number>;
  /**
   * Timers in due order (fire time, then id) strictly after `after`, at most `limit`: the timer
   * service pages the schedule from here instead of holding every timer in memory.
   */
  timersPage(after: TimerKey | undefined, limit: number): Timer[];
  /** How many timers the partition holds, kept up to date by each commit. */
  timerCount(): number;
  /** Invocations in id order after `afterId`, at most `limit` (a full walk pages through them). */
  invocationsPage(afterId: InvocationId | undefined, limit: number): Invocation[];
  /** Object states (`service/key` → values) in key order after `afterKey`, at most `limit` objects. */
  objectStatesPage(afterKey: string | undefined, limit: number): Array<[string, Map<string, Payload>]>;
}

/** One partition's open state. */
export interface PartitionStateHandle extends PartitionStateStore, PartitionStateViews {
  /** The SQLite state file (storage/sqlite-state-schema.ts) holding the state, when there is one. */
  readonly file?: string;
  /**
   * Makes every committed batch durable and resolves with the applied LSN that now survives a crash
   * of the machine: the log at and below it is never needed again and may be trimmed.
   */
  persist(): Promise<number>;
  /**
   * Writes commits the store kept back in memory (GroupCommitStateStore) to `file`, so that readers
   * of the file in place see every committed batch. Nothing is fsync'd; a store that writes each
   * commit at once does nothing.
   */
  flush(): void;
  close(): void;
}

export interface PartitionStateStores {
  /** Opens (creating if needed) partition `partition`'s state as of its last committed batch. */
  open(partition: number, partitions: number): Promise<PartitionStateHandle>;
}
