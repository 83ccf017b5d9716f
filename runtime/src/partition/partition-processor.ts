/**
 * Leads one partition: stamps records with time, appends them to the log (durable before anything
 * happens), applies them to the partition's state store with the pure state machine (one commit per
 * batch, after the log append; the store may write several batches' commits to its file at once:
 * storage/group-commit-state-store.ts), and hands the effects on.
 *
 * Records submitted during one event-loop turn form one batch; batches of all partitions issued in the
 * same turn share one store commit (the store's group commit): their flushes run in one callback
 * (turn-scheduler.ts). Batches of one partition are strictly sequential, so LSNs are dense and state
 * is applied in log order.
 */
import { apply, applyBatch } from "../core/apply";
import type { Clock } from "../core/clock";
import type { Effect } from "../core/effects";
import type { LogRecord } from "../core/records";
import { emptyPartitionState } from "../core/state";
import { StateTx } from "../core/state-tx";
import { JsonSnapshotStateStore } from "../storage/json-snapshot-state-stores";
import type { LogStore } from "../storage/log-store";
import type { PartitionStateHandle, PartitionStateStores } from "../storage/partition-state-store";
import { StateBehindLogError } from "../storage/store-errors";
import { PartitionOverloadedError, PartitionUnavailableError } from "./partition-errors";
import { type TurnScheduler, partitionTurns } from "./turn-scheduler";

/** A record as submitted; the processor stamps `atMs`. */
export type RecordInput = LogRecord extends infer R ? (R extends LogRecord ? Omit<R, "atMs"> : never) : never;

/**
 * Who submits a record: "external" (a request from outside: ingress, checkpoint, admin) is subject to
 * backpressure; "internal" (the runtime's own: timer firings, attempt outcomes, deliveries) is not.
 */
export type AppendSource = "external" | "internal";

/** Bound on records waiting for their batch: beyond it, submitters get backpressure errors. */
export const MAX_PENDING_RECORDS = 50_000;
/** Records in one batch (one log append); the SQLite log takes up to 10,000 per append. */
export const MAX_BATCH_RECORDS = 5_000;
/** Records per partition between persists of its state (the log below a persisted LSN is trimmed). */
export const SNAPSHOT_EVERY_RECORDS = 20_000;
/**
 * Records deleted by one trim commit. The log's writer commits one batch at a time, so one big delete
 * (20k rows ≈ 45 ms here) would hold every partition's appends; chunks keep each stall to a few ms.
 */
export const TRIM_CHUNK_RECORDS = 2_000;
/**
 * Append failures after which this processor must stop leading: another writer claimed the partition
 * or appended at its LSN, nothing more can be made durable, or whether the append landed is unknown.
 */
const STOPPING_CODES: ReadonlySet<string> = new Set([
  "STORE_LOG_CONFLICT",
  "STORE_LOG_FENCED",
  "STORE_LOG_UNAVAILABLE",
  "STORE_WRITER_FAILED",
  "STORE_CLOSED",
]);
/** Records read per page during recovery. */
const RECOVERY_PAGE = 5_000;

export interface EffectSink {
  onEffects(partition: number, effects: Effect[]): void;
  /** The processor stopped leading the partition (another writer, a failed store, a bug in apply). */
  onFenced(partition: number, reason: string): void;
  /** A failure the processor survives (e.g. a snapshot that could not be written). */
  onWarning(partition: number, message: string): void;
  /** A batch became durable after `ms` (the commit latency metric). */
  onCommit?(ms: number): void;
}

interface Pending {
  input: RecordInput;
  resolve: (effects: Effect[]) => void;
  reject: (e: unknown) => void;
}

export class PartitionProcessor {
  private stateStore: PartitionStateHandle;
  private nextLsn = 1;
  private queue: Pending[] = [];
  private flushing = false;
  private scheduled = false;
  private sinceSnapshot: number;
  /** The trim in progress after a snapshot, if any; trims run one at a time, behind appends. */
  private trimming: Promise<void> | undefined;
  /** The log is trimmed up to here (or will be, once `trimming` ends). */
  private trimmedUpTo = 0;
  private stoppedFlag = false;
  /** Commit latency of the last batches, for metrics. */
  readonly commitStats = { batches: 0, records: 0, totalCommitMs: 0 };

  constructor(
    readonly partition: number,
    private readonly partitions: number,
    private readonly log: LogStore,
    private readonly states: PartitionStateStores,
    private readonly clock: Clock,
    private readonly sink: EffectSink,
    private readonly turns: TurnScheduler = partitionTurns,
  ) {
    // Replaced by load(); until then an empty state that cannot be persisted.
    this.stateStore = new JsonSnapshotStateStore(emptyPartitionState(partition, partitions), undefined);
    // Staggered: under even load, partitions would otherwise all snapshot (and trim) at once.
    this.sinceSnapshot = Math.floor((partition * SNAPSHOT_EVERY_RECORDS) / Math.max(1, partitions));
  }

  /** The partition's state as of the last applied batch (read it, never change it). */
  get state(): PartitionStateHandle {
    return this.stateStore;
  }

  /**
   * Opens the state, replays the log after its applied LSN (effects discarded: the `recover` record
   * appended next re-derives every pending timer, outbox message and attempt), then appends `recover`.
   */
  async recover(epoch: number): Promise<void> {
    await this.load();
    await this.lead(epoch);
  }

  /**
   * Opens the state and replays the log after its applied LSN; appends nothing. A state commit lost
   * in a crash (after its log append) is redone here from the log.
   */
  async load(): Promise<void> {
    this.stateStore = await this.states.open(this.partition, this.partitions);
    let after = this.stateStore.appliedLsn();
    // Where the log starts: trims continue from there (one cut short by a crash included).
    const [first] = await this.log.read(this.partition, 0, 1);
    this.trimmedUpTo = first === undefined ? after : first.lsn - 1;
    for (;;) {
      const page = await this.log.read(this.partition, after, RECOVERY_PAGE);
      if (page.length > 0 && page[0]!.lsn !== after + 1) {
        // Trimming stops at a persisted LSN, so this means the state file was lost or replaced by
        // an older copy: replaying from here would silently drop state.
        throw new StateBehindLogError(this.partition, after, page[0]!.lsn);
      }
      const tx = new StateTx(this.stateStore);
      try {
        for (const { lsn, record } of page) {
          apply(tx, lsn, record as LogRecord);
          after = lsn;
        }
        this.stateStore.commit(tx.writeSet());
      } catch (e) {
        this.closeState(); // the page may have changed objects the store shares: never write them
        throw e;
      }
      if (page.length < RECOVERY_PAGE) break;
    }
    this.nextLsn = Math.max(after, await this.log.lastLsn(this.partition)) + 1;
  }

  /**
   * Starts leading: appends `recover`, whose effects restart in-flight attempts, re-arm timers and
   * re-send the outbox. Call it only once every partition is loaded: those effects reach the others.
   */
  async lead(epoch: number): Promise<void> {
    // Set before the append: the `recover` record's effects start attempts, whose credentials carry it.
    this.epoch = epoch;
    await this.append({ kind: "recover", epoch }, "internal");
  }

  /**
   * The leadership epoch this processor leads under (its `recover` record's): attempt credentials
   * carry it, so those issued under an earlier leadership are refused. 0 until `lead`.
   */
  epoch = 0;

  /** Why the processor stopped leading, if it did on its own. */
  fencedReason: string | undefined;

  private fence(reason: string): void {
    if (this.fencedReason !== undefined) return;
    this.fencedReason = reason;
    this.stoppedFlag = true;
    const pending = this.queue;
    this.queue = [];
    for (const p of pending) p.reject(new PartitionUnavailableError(this.partition, `stopped: ${reason}`));
    this.sink.onFenced(this.partition, reason);
  }

  /** Stopped leading the partition: appends are refused. */
  get stopped(): boolean {
    return this.stoppedFlag;
  }

  get pendingRecords(): number {
    return this.queue.length;
  }

  /** Nothing queued and no batch in flight. */
  get idle(): boolean {
    return this.queue.length === 0 && !this.flushing && !this.scheduled;
  }

  /**
   * Resolves with the record's effects once it is durable and applied. `MAX_PENDING_RECORDS` pushes back
   * on requests from outside only; the runtime's own records (timer firings, attempt outcomes,
   * deliveries) are bounded by what is in flight and must never be dropped by a burst of requests.
   */
  append(input: RecordInput, source: AppendSource = "external"): Promise<Effect[]> {
    if (this.stoppedFlag)
      return Promise.reject(
        new PartitionUnavailableError(this.partition, this.fencedReason ?? "its processor is stopping"),
      );
    if (source === "external" && this.queue.length >= MAX_PENDING_RECORDS) {
      return Promise.reject(
        new PartitionOverloadedError(`partition ${this.partition} has too many pending records`),
      );
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.schedule();
    });
  }

  /**
   * Stops accepting records, waits for the batch in flight and closes the partition's state. With
   * `persist` (a hand-over to another node) the state is made durable first, so the successor loads
   * it instead of replaying the log since the last snapshot; a processor that was fenced never
   * persists (its leadership is gone).
   */
  async stop(options: { persist?: boolean } = {}): Promise<void> {
    this.stoppedFlag = true;
    while (this.flushing || this.queue.length > 0) {
      await new Promise((r) => setImmediate(r));
    }
    await this.trimming; // ends after its current chunk
    if (options.persist === true && this.fencedReason === undefined && this.epoch > 0) {
      try {
        await this.stateStore.persist();
      } catch (e) {
        // The log still has everything: the successor replays more of it.
        this.sink.onWarning(this.partition, `snapshot at hand-over failed: ${String(e)}`);
      }
    }
    this.closeState();
  }

  /**
   * Closes the state (batches a store kept in memory are dropped: the log has them). What still
   * reads the partition afterwards (an attempt ending as it is aborted) finds it empty, as a
   * partition this node no longer leads, rather than a closed file.
   */
  private closeState(): void {
    this.stateStore.close();
    this.stateStore = new JsonSnapshotStateStore(
      emptyPartitionState(this.partition, this.partitions),
      undefined,
    );
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    this.turns.schedule(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.flushing || this.queue.length === 0) return;
    this.flushing = true;
    // Bounded: a burst queued behind a slow commit goes out as several batches, each within what one
    // log append takes (a larger one would be refused whole, failing every record in it).
    const batch = this.queue.splice(0, MAX_BATCH_RECORDS);
    const atMs = this.clock.nowMs();
    const records = batch.map((p) => ({ ...p.input, atMs }));
    const firstLsn = this.nextLsn;
    const started = performance.now();
    try {
      await this.log.append(this.partition, firstLsn, records);
    } catch (e) {
      // Nothing of the batch took effect; its submitters see the error. A conflict means another
      // leader appended here, a failed writer that nothing more can be made durable: either way this
      // processor must stop leading the partition.
      for (const p of batch) p.reject(e);
      this.flushing = false;
      const code = (e as { code?: string }).code;
      if (code !== undefined && STOPPING_CODES.has(code)) {
        this.fence(`${code}: ${(e as Error).message}`);
        return;
      }
      this.schedule();
      return;
    }
    this.commitStats.batches += 1;
    this.commitStats.records += records.length;
    const commitMs = performance.now() - started;
    this.commitStats.totalCommitMs += commitMs;
    this.sink.onCommit?.(commitMs);
    this.nextLsn = firstLsn + records.length;
    const all: Effect[] = [];
    try {
      applyBatch(this.stateStore, firstLsn, records).forEach((effects, i) => {
        batch[i]!.resolve(effects);
        for (const e of effects) all.push(e);
      });
    } catch (e) {
      // The records are durable but the batch was not committed, and the store may share objects with
      // the failed batch: close it at once (so they are never written) and stop; a restart replays them.
      for (const p of batch) p.reject(e);
      this.closeState();
      this.flushing = false;
      this.fence(`apply failed: ${String(e)}`);
      return;
    }
    this.sinceSnapshot += records.length;
    this.flushing = false;
    if (all.length > 0) this.sink.onEffects(this.partition, all);
    if (this.sinceSnapshot >= SNAPSHOT_EVERY_RECORDS) {
      try {
        await this.snapshot();
      } catch (e) {
        // The log still has everything; the next snapshot tries again.
        this.sink.onWarning(this.partition, `snapshot failed: ${String(e)}`);
      }
    }
    this.schedule();
  }

  /**
   * Makes the state durable at the current LSN, then trims the log below it in the background, in
   * chunks of TRIM_CHUNK_RECORDS: the partition keeps appending meanwhile, and a trim that fails is
   * retried after the next persist (records below a persisted LSN are never read again).
   */
  async snapshot(): Promise<void> {
    this.sinceSnapshot = 0;
    const lsn = await this.stateStore.persist();
    if (this.trimming !== undefined) return; // the next snapshot trims further
    this.trimming = this.trimTo(lsn)
      .catch((e: unknown) => this.sink.onWarning(this.partition, `log trim failed: ${String(e)}`))
      .finally(() => (this.trimming = undefined));
  }

  private async trimTo(lsn: number): Promise<void> {
    for (let upTo = this.trimmedUpTo; upTo < lsn && !this.stoppedFlag;) {
      upTo = Math.min(lsn, upTo + TRIM_CHUNK_RECORDS);
      await this.log.trim(this.partition, upTo);
      this.trimmedUpTo = upTo;
      // Each chunk waits for the next turn, where the partitions' flushes go first: chained on the
      // commit's reply alone, the chunks would hold every append until the whole trim is done.
      await new Promise((resolve) => this.turns.schedule(() => resolve(undefined)));
    }
  }
}
