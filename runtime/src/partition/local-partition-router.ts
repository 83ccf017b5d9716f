/**
 * The partition router of a node that leads every partition itself: one PartitionProcessor per
 * partition over the node's stores. Besides the port it offers what only the owner of the processors
 * does: recovery, shutdown, and the commit statistics for metrics.
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
import type { PartitionHealth, PartitionRouter, PartitionView } from "./partition-router";

export interface CommitStats {
  batches: number;
  records: number;
  totalCommitMs: number;
}

export class LocalPartitionRouter implements PartitionRouter {
  private readonly processors: PartitionProcessor[];
  private readonly views: LocalPartitionView[];

  constructor(
    readonly partitions: number,
    logStore: LogStore,
    stateStores: PartitionStateStores,
    clock: Clock,
    sink: EffectSink,
  ) {
    this.processors = Array.from(
      { length: partitions },
      (_, p) => new PartitionProcessor(p, partitions, logStore, stateStores, clock, sink),
    );
    this.views = this.processors.map((processor) => new LocalPartitionView(() => processor.state));
  }

  append(partition: number, record: RecordInput, source: AppendSource): Promise<Effect[]> {
    const processor = this.processors[partition];
    if (processor === undefined)
      return Promise.reject(
        new PartitionUnavailableError(partition, `there are ${this.partitions} partitions`),
      );
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
    if (processor.fencedReason !== undefined) return { state: "stopped", reason: processor.fencedReason };
    return { state: "leading", epoch: processor.epoch, pendingRecords: processor.pendingRecords };
  }

  /**
   * Recovers every partition (snapshot + log replay), then starts leading them. Every partition is
   * loaded before any leads: a `recover` record's effects (re-sent outbox messages) append to other
   * partitions, which must not be replaying their log meanwhile. `epochs`: of each partition's
   * leadership (the log's claim), or one for all.
   */
  async start(epochs: number | readonly number[]): Promise<void> {
    const epochOf = (p: number): number => (typeof epochs === "number" ? epochs : epochs[p]!);
    await Promise.all(this.processors.map((p) => p.load()));
    await Promise.all(this.processors.map((p) => p.lead(epochOf(p.partition))));
  }

  /** Stops accepting records and waits for the batches in flight. */
  async stop(): Promise<void> {
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

  /** Log commits of all partitions since start. */
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
