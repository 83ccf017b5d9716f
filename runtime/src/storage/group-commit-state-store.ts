/**
 * Commits a partition's state to its store every few batches instead of after every batch: the
 * batches in between are kept as one write set, which every read goes through, and written to the
 * store in one transaction (ADR 0013, "State commits grouped").
 *
 * Why it is safe: the log is the source of truth and is fsync'd before anything is acknowledged; the
 * state file only saves replaying it. A state commit already lags the log (it comes after the append
 * and is not fsync'd); grouping makes the lag a few batches longer. Recovery replays the log after the
 * file's applied LSN, as after any crash between a log append and its state commit. The log is only
 * trimmed below what `persist()` made durable, and `persist()` writes the kept batches first.
 *
 * Why it pays: a small batch's commit costs more than its records' writes (the transaction, the
 * partition's meta row, the index pages, the WAL frames); in a few consecutive batches the same rows
 * are written again (an invocation created, run and completed), and now they are written once.
 *
 * Objects handed out by reads (invocations) are the kept batches' own, as with the store's caches: a
 * batch whose `apply` throws may have changed them, so its processor must `close()` the store at once
 * (the kept batches are dropped, never written) and stop; a restart replays them from the log.
 */
import type { Completion, InvocationId, Payload } from "@capstan/sdk/protocol";
import type { EntryRef, Invocation, InvocationStatus, OutboxEntry, Timer } from "../core/state";
import type { TimerKey } from "../core/timers";
import { emptyWriteSet, mergeWriteSets, type WriteSet, writeSetSize } from "../core/write-set";
import {
  outboxThrough,
  promiseKeysThrough,
  readThrough,
  runningThrough,
  timersThrough,
} from "../core/write-set-reads";
import type {
  InvocationListFilter,
  PartitionStateHandle,
  PartitionStateStores,
} from "./partition-state-store";

/**
 * Batches kept before they are written to the store together. Each is a turn's worth of one
 * partition's records. The file trails the log by at most this many batches less one (a crash
 * replays them; under load a fraction of a second of records), and by none once a view is read,
 * `/query` reads the file or a persist comes. 8 took `noop` with state files from 74% to ~90% of its
 * throughput with state in memory; 32 cut the runtime's extra CPU per request further; 128 lets a
 * key written by several requests (a counter) be written once (ADR 0013, "State commits grouped").
 */
export const STATE_COMMIT_MAX_BATCHES = 128;
/**
 * Keys written (over all tables) one partition keeps before they are written to the store: bounds
 * the length of one commit (a few milliseconds at this size). A larger single batch is written at once.
 */
export const STATE_COMMIT_MAX_WRITES = 1_024;
/**
 * Keys kept by all the partitions of a node together: the partition whose commit reaches it writes
 * its own. Most are small: a lock, a counter's value, a deleted invocation's id.
 */
export const STATE_COMMIT_MAX_NODE_WRITES = 4_096;
/**
 * Invocations (written, not deleted) kept by all the partitions of a node together, the large kept
 * values (~3 KB each with their journals): bounds what kept batches hold however many partitions a
 * node leads (under a MB). A request that retains its invocation keeps it with a few small keys (its
 * key's state and lock, the timer that expires it): 256 is about the 1,024 keys kept before, and the
 * scale scenario peaked at 245.2 MB of its 250 MB target; with 1,024, at 249.1 MB (bench/README.md,
 * Scale).
 */
export const STATE_COMMIT_MAX_NODE_INVOCATIONS = 256;

export interface GroupCommitLimits {
  maxBatches: number;
  maxWrites: number;
  maxNodeWrites: number;
  maxNodeInvocations: number;
}

/** What every store of one GroupCommitStateStores keeps. */
interface KeptTotal {
  /** Keys, over all tables. */
  writes: number;
  /** Invocations written (a deletion is not counted). */
  invocations: number;
}

/** Read through when nothing is kept (never written to). */
const NOTHING_KEPT: WriteSet = emptyWriteSet(0, 0);

const DEFAULT_LIMITS: GroupCommitLimits = {
  maxBatches: STATE_COMMIT_MAX_BATCHES,
  maxWrites: STATE_COMMIT_MAX_WRITES,
  maxNodeWrites: STATE_COMMIT_MAX_NODE_WRITES,
  maxNodeInvocations: STATE_COMMIT_MAX_NODE_INVOCATIONS,
};

/**
 * @example
 * const stores = new GroupCommitStateStores(new SqliteStateStores(dataDir));
 * const state = await stores.open(3, 16); // commits reach p3.db every 128 batches (or 1,024 keys)
 */
export class GroupCommitStateStores implements PartitionStateStores {
  constructor(
    private readonly inner: PartitionStateStores,
    /** The STATE_COMMIT_* constants unless given (tests use smaller ones). */
    limits: Partial<GroupCommitLimits> = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  private readonly limits: GroupCommitLimits;

  private readonly total: KeptTotal = { writes: 0, invocations: 0 };

  async open(partition: number, partitions: number): Promise<GroupCommitStateStore> {
    return new GroupCommitStateStore(await this.inner.open(partition, partitions), this.limits, this.total);
  }
}

export class GroupCommitStateStore implements PartitionStateHandle {
  /** The batches committed here but not yet in the store, as one write set. */
  private kept: WriteSet | undefined;
  private keptBatches = 0;
  /** Keys in `kept` (counted in `total` too). */
  private keptWrites = 0;
  /** Invocations written in `kept`, not deleted (counted in `total` too). */
  private keptInvocations = 0;
  /** A write to the store failed: what it held is lost here, so nothing may be committed after it. */
  private failed: Error | undefined;

  constructor(
    private readonly inner: PartitionStateHandle,
    private readonly limits: GroupCommitLimits = DEFAULT_LIMITS,
    private readonly total: KeptTotal = { writes: 0, invocations: 0 },
  ) {}

  get partition(): number {
    return this.inner.partition;
  }

  get partitions(): number {
    return this.inner.partitions;
  }

  get file(): string | undefined {
    return this.inner.file;
  }

  /** Batches committed here and not yet written to the store, for tests. */
  get keptBatchCount(): number {
    return this.keptBatches;
  }

  appliedLsn(): number {
    return this.kept?.appliedLsn ?? this.inner.appliedLsn();
  }

  nextOutboxSeq(): number {
    return this.kept?.nextOutboxSeq ?? this.inner.nextOutboxSeq();
  }

  inboundSeq(partition: number): number {
    return this.kept?.inboundSeq.get(partition) ?? this.inner.inboundSeq(partition);
  }

  invocation(id: InvocationId): Invocation | undefined {
    return readThrough(this.writes.invocations, id, (k) => this.inner.invocation(k));
  }

  idempotency(key: string): InvocationId | undefined {
    return readThrough(this.writes.idempotency, key, (k) => this.inner.idempotency(k));
  }

  workflow(key: string): InvocationId | undefined {
    return readThrough(this.writes.workflows, key, (k) => this.inner.workflow(k));
  }

  objectState(key: string): ReadonlyMap<string, Payload> | undefined {
    return readThrough(this.writes.objectState, key, (k) => this.inner.objectState(k));
  }

  lock(key: string): InvocationId | undefined {
    return readThrough(this.writes.locks, key, (k) => this.inner.lock(k));
  }

  inbox(key: string): readonly InvocationId[] | undefined {
    return readThrough(this.writes.inboxes, key, (k) => this.inner.inbox(k));
  }

  timer(id: string): Timer | undefined {
    return readThrough(this.writes.timers, id, (k) => this.inner.timer(k));
  }

  promise(key: string): Completion | undefined {
    return readThrough(this.writes.promises, key, (k) => this.inner.promise(k));
  }

  promiseKeysWithPrefix(prefix: string): string[] {
    const base = this.inner.promiseKeysWithPrefix(prefix);
    return this.kept === undefined ? base : promiseKeysThrough(base, this.kept.promises, prefix);
  }

  promiseWaiters(key: string): readonly EntryRef[] | undefined {
    return readThrough(this.writes.promiseWaiters, key, (k) => this.inner.promiseWaiters(k));
  }

  outbox(): OutboxEntry[] {
    const base = this.inner.outbox();
    return this.kept === undefined ? base : outboxThrough(base, this.kept.outbox, () => true);
  }

  outboxUpTo(toPartition: number, upToSeq: number): OutboxEntry[] {
    const base = this.inner.outboxUpTo(toPartition, upToSeq);
    return this.kept === undefined
      ? base
      : outboxThrough(
          base,
          this.kept.outbox,
          (entry) => entry.toPartition === toPartition && entry.seq <= upToSeq,
        );
  }

  runningInvocations(): Invocation[] {
    const base = this.inner.runningInvocations();
    return this.kept === undefined ? base : runningThrough(base, this.kept.invocations);
  }

  timers(): Timer[] {
    const base = this.inner.timers();
    return this.kept === undefined ? base : timersThrough(base, this.kept.timers);
  }

  /**
   * Keeps the batch; writes what is kept to the store once it holds STATE_COMMIT_MAX_BATCHES
   * batches or STATE_COMMIT_MAX_WRITES keys, or the node's stores keep STATE_COMMIT_MAX_NODE_WRITES
   * keys or STATE_COMMIT_MAX_NODE_INVOCATIONS invocations. Throws, for good, once a write to the
   * store failed.
   */
  commit(writes: WriteSet): void {
    if (this.failed !== undefined) throw this.failed;
    let invocations = this.keptInvocations;
    for (const [id, inv] of writes.invocations) {
      const before = this.kept?.invocations.get(id);
      invocations += (inv === null ? 0 : 1) - (before === undefined || before === null ? 0 : 1);
    }
    if (this.kept === undefined) this.kept = writes;
    else mergeWriteSets(this.kept, writes);
    this.keptBatches++;
    const size = writeSetSize(this.kept);
    this.total.writes += size - this.keptWrites;
    this.keptWrites = size;
    this.total.invocations += invocations - this.keptInvocations;
    this.keptInvocations = invocations;
    if (
      this.keptBatches >= this.limits.maxBatches ||
      size >= this.limits.maxWrites ||
      this.total.writes >= this.limits.maxNodeWrites ||
      this.total.invocations >= this.limits.maxNodeInvocations
    ) {
      this.flush();
    }
  }

  /** Writes the kept batches to the store (one commit, not fsync'd): its file then has them all. */
  flush(): void {
    if (this.failed !== undefined) throw this.failed;
    const kept = this.kept;
    if (kept === undefined) return;
    try {
      this.inner.commit(kept);
    } catch (e) {
      // The store rolled back; a later batch written over it would miss these writes.
      this.failed = new Error(`a state commit of partition ${this.partition} failed: ${String(e)}`);
      throw e;
    }
    this.forget();
  }

  async persist(): Promise<number> {
    this.flush();
    return this.inner.persist();
  }

  /** Drops the kept batches (the log has them); a store closed after a failed `apply` must not write. */
  close(): void {
    this.forget();
    this.inner.close();
  }

  private forget(): void {
    this.total.writes -= this.keptWrites;
    this.total.invocations -= this.keptInvocations;
    this.kept = undefined;
    this.keptBatches = 0;
    this.keptWrites = 0;
    this.keptInvocations = 0;
  }

  // The admin views page the store in its own order: they read it after writing what is kept
  // (between batches, so what is kept is whole batches).

  listInvocations(filter: InvocationListFilter, limit: number): Invocation[] {
    this.flush();
    return this.inner.listInvocations(filter, limit);
  }

  countInvocationsByStatus(): Map<InvocationStatus, number> {
    this.flush();
    return this.inner.countInvocationsByStatus();
  }

  timersPage(after: TimerKey | undefined, limit: number): Timer[] {
    this.flush();
    return this.inner.timersPage(after, limit);
  }

  timerCount(): number {
    this.flush();
    return this.inner.timerCount();
  }

  invocationsPage(afterId: InvocationId | undefined, limit: number): Invocation[] {
    this.flush();
    return this.inner.invocationsPage(afterId, limit);
  }

  objectStatesPage(afterKey: string | undefined, limit: number): Array<[string, Map<string, Payload>]> {
    this.flush();
    return this.inner.objectStatesPage(afterKey, limit);
  }

  /** The kept writes, or none. */
  private get writes(): WriteSet {
    return this.kept ?? NOTHING_KEPT;
  }
}
