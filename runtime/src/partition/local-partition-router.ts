/**
 * The partition router of this node: one PartitionProcessor per partition it leads, over the node's
 * stores. A single node leads every partition (`start`); a node of a cluster leads the partitions its
 * leases give it (`acquire` at the lease's epoch, `release` to hand one over, `drop` once fenced) and
 * refuses the others with PartitionUnavailableError. Besides the port it offers what only the owner of
 * the processors does: recovery, shutdown, and the commit statistics for metrics.
 */
import type { Clock } from "../core/clock";
import type { Effect } from "../core/effects";
import type { LogStore } from "../storage/log-store";
import type { PartitionStateStores } from "../storage/partition-state-store";
import { LocalPartitionView } from "./local-partition-view";
import { PartitionUnavailableError } from "./partition-errors";
import {
  PartitionProcessor,
  type AppendSource,
  type EffectSink,
  type RecordInput,
} from "./partition-processor";
import {
  NOT_LED_HERE,
  type PartitionHealth,
  type PartitionRouter,
  type PartitionView,
} from "./partition-router";

export interface CommitStats {
  batches: number;
  records: number;
  totalCommitMs: number;
}

/** Which partitions a router leads: all of them (one node), or those acquired (a cluster). */
export type LeadershipMode = "all" | "acquired";

export class LocalPartitionRouter implements PartitionRouter {
  private readonly processors: PartitionProcessor[];
  private readonly views: LocalPartitionView[];
  /** Whether this node leads each partition: appends and reads are served only then. */
  private readonly here: boolean[];
  /** Partitions being acquired or released: one move at a time per partition. */
  private readonly moving = new Set<number>();
  private stopped = false;

  constructor(
    readonly partitions: number,
    private readonly logStore: LogStore,
    private readonly stateStores: PartitionStateStores,
    private readonly clock: Clock,
    private readonly sink: EffectSink,
    readonly mode: LeadershipMode = "all",
  ) {
    this.processors = Array.from({ length: partitions }, (_, p) => this.newProcessor(p));
    this.views = this.processors.map((_, p) => new LocalPartitionView(() => this.processors[p]!.state));
    this.here = Array.from({ length: partitions }, () => mode === "all");
  }

  private newProcessor(partition: number): PartitionProcessor {
    return new PartitionProcessor(
      partition,
      this.partitions,
      this.logStore,
      this.stateStores,
      this.clock,
      this.sink,
    );
  }

  append(partition: number, record: RecordInput, source: AppendSource): Promise<Effect[]> {
    const processor = this.processors[partition];
    if (processor === undefined)
      return Promise.reject(
        new PartitionUnavailableError(partition, `there are ${this.partitions} partitions`),
      );
    if (!this.here[partition]) return Promise.reject(new PartitionUnavailableError(partition, NOT_LED_HERE));
    return processor.append(record, source).catch((e: unknown) => {
      // The store refused the batch and that stopped the partition (another writer, a failed
      // writer): callers see the partition's refusal, the store's error is its cause.
      if (!processor.stopped || e instanceof PartitionUnavailableError) throw e;
      throw new PartitionUnavailableError(partition, `stopped: ${processor.fencedReason ?? String(e)}`, {
        cause: e,
      });
    });
  }

  view(partition: number): PartitionView {
    const view = this.views[partition];
    if (view === undefined)
      throw new PartitionUnavailableError(partition, `there are ${this.partitions} partitions`);
    return view;
  }

  health(partition: number): PartitionHealth {
    const processor = this.processors[partition];
    if (processor === undefined) return { state: "stopped", reason: "no such partition" };
    if (!this.here[partition]) return { state: "elsewhere" };
    if (processor.fencedReason !== undefined) return { state: "stopped", reason: processor.fencedReason };
    return { state: "leading", epoch: processor.epoch, pendingRecords: processor.pendingRecords };
  }

  /** The partitions this node leads now (acquired and not fenced). */
  leading(): number[] {
    const out: number[] = [];
    for (let p = 0; p < this.partitions; p++) if (this.health(p).state === "leading") out.push(p);
    return out;
  }

  /**
   * Recovers every partition (snapshot + log replay), then starts leading them. Every partition is
   * loaded before any leads: a `recover` record's effects (re-sent outbox messages) append to other
   * partitions, which must not be replaying their log meanwhile. `epochs`: of each partition's
   * leadership (the log's claim), or one for all. One node only (mode "all").
   */
  async start(epochs: number | readonly number[]): Promise<void> {
    if (this.mode !== "all") throw new Error("start() leads every partition: use acquire() in a cluster");
    const epochOf = (p: number): number => (typeof epochs === "number" ? epochs : epochs[p]!);
    await Promise.all(this.processors.map((p) => p.load()));
    await Promise.all(this.processors.map((p) => p.lead(epochOf(p.partition))));
  }

  /**
   * Starts leading `partition` at `epoch` (the lease's claim): loads its state (snapshot + log
   * replay) with appends still refused, then appends `recover`, whose effects restart its in-flight
   * attempts (fencing the previous leader's), re-arm its timers and re-send its outbox. Records
   * other partitions' recoveries send it meanwhile are refused and retried by their senders.
   */
  async acquire(partition: number, epoch: number): Promise<void> {
    this.checkPartition(partition);
    if (this.stopped) throw new PartitionUnavailableError(partition, "the router is stopped");
    if (this.here[partition] || this.moving.has(partition))
      throw new Error(`partition ${partition} is already led or moving here`);
    this.moving.add(partition);
    try {
      const processor = this.newProcessor(partition);
      this.processors[partition] = processor;
      await processor.load();
      this.here[partition] = true;
      await processor.lead(epoch);
    } catch (e) {
      this.here[partition] = false;
      await this.processors[partition]!.stop();
      throw e;
    } finally {
      this.moving.delete(partition);
    }
  }

  /**
   * Hands `partition` over: refuses new records, finishes the batch in flight, persists its state
   * (the successor loads it rather than replaying the log) and closes it. Its timers, attempts and
   * outbox deliveries are the caller's to drop: the successor's `recover` re-creates them.
   */
  async release(partition: number): Promise<void> {
    await this.leave(partition, true);
  }

  /** Stops leading `partition` after it was fenced (another node leads it now): nothing is persisted. */
  async drop(partition: number): Promise<void> {
    await this.leave(partition, false);
  }

  private async leave(partition: number, persist: boolean): Promise<void> {
    this.checkPartition(partition);
    if (!this.here[partition]) return;
    this.here[partition] = false;
    this.moving.add(partition);
    try {
      await this.processors[partition]!.stop({ persist });
    } finally {
      this.moving.delete(partition);
    }
  }

  private checkPartition(partition: number): void {
    if (!Number.isInteger(partition) || partition < 0 || partition >= this.partitions)
      throw new RangeError(`partition ${partition} is not one of 0…${this.partitions - 1}`);
  }

  /** Stops accepting records and waits for the batches in flight (no hand-over: see `release`). */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.processors.map((p) => p.stop()));
  }

  /** Nothing queued and no batch in flight in any partition. */
  get idle(): boolean {
    return this.processors.every((p) => p.idle);
  }

  /** Records waiting per partition. */
  queueDepths(): number[] {
    return this.processors.map((p) => p.pendingRecords);
  }

  /** Log commits of all partitions since start (a partition's count restarts when it is acquired). */
  commitStats(): CommitStats {
    const total: CommitStats = { batches: 0, records: 0, totalCommitMs: 0 };
    for (const { commitStats } of this.processors) {
      total.batches += commitStats.batches;
      total.records += commitStats.records;
      total.totalCommitMs += commitStats.totalCommitMs;
    }
    return total;
  }
}
