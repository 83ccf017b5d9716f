/**
 * One incarnation of the runtime in the simulation: a real Runtime over in-memory stores whose durable
 * part (the disks) outlives it, on the simulation's manual clock. `crash()` is a process death: the
 * stores lose what they had not committed and refuse everything after, so nothing this incarnation
 * still does can reach the disks; the next incarnation recovers from what they kept.
 */
import type { Invoker } from "../../../runtime/src/invoker/invoker";
import { Runtime } from "../../../runtime/src/runtime";
import { InMemoryLogStore, type MemoryLogDisk } from "../../../runtime/src/storage/in-memory-log-store";
import {
  InMemoryPartitionStore,
  type MemoryPartitionDisk,
} from "../../../runtime/src/storage/in-memory-partition-store";
import type { ManualClock } from "../../../runtime/src/testing/manual-clock";

/**
 * Timers per page of the timer service's window: tiny, so a run pages timers from the state all the
 * time (windows trimmed, emptied and re-read while timers are scheduled, cancelled and fired).
 */
const SIM_TIMER_PAGE_SIZE = 2;

export interface SimulatedDisks {
  log: MemoryLogDisk;
  partition: MemoryPartitionDisk;
}

export interface NodeSettings {
  partitions: number;
  clock: ManualClock;
  invoker: Invoker;
  completedRetentionMs: number;
}

export class SimulatedNode {
  readonly runtime: Runtime;
  /** Names this incarnation in checkpoint URLs (the oracle's exclusive-handler check keys on it). */
  readonly baseUrl: string;
  /** Resolves once recovery is done; rejects if the node crashed first. */
  readonly started: Promise<void>;
  private readonly logStore: InMemoryLogStore;
  private readonly partitionStore: InMemoryPartitionStore;
  private crashedFlag = false;
  private readonly onCrash: Array<() => void> = [];

  constructor(
    readonly incarnation: number,
    disks: SimulatedDisks,
    settings: NodeSettings,
  ) {
    this.baseUrl = `http://incarnation-${incarnation}.sim`;
    this.logStore = new InMemoryLogStore(disks.log);
    this.partitionStore = new InMemoryPartitionStore(disks.partition);
    this.runtime = new Runtime({
      partitions: settings.partitions,
      logStore: this.logStore,
      partitionStore: this.partitionStore,
      invoker: settings.invoker,
      clock: settings.clock,
      checkpointBaseUrl: this.baseUrl,
      realTimers: false,
      timerPageSize: SIM_TIMER_PAGE_SIZE,
      completedRetentionMs: settings.completedRetentionMs,
    });
    this.started = this.runtime.start();
    this.started.catch(() => undefined); // a crash during startup is part of the schedule
  }

  get crashed(): boolean {
    return this.crashedFlag;
  }

  /** Calls `f` when the node crashes (at once if it has). */
  whenCrashed(f: () => void): void {
    if (this.crashedFlag) f();
    else this.onCrash.push(f);
  }

  crash(): void {
    if (this.crashedFlag) return;
    this.crashedFlag = true;
    this.logStore.crash();
    this.partitionStore.crash();
    for (const f of this.onCrash.splice(0)) f();
    // Only releases the dead incarnation's own timers and queues: its stores refuse every write.
    void this.runtime.stop().catch(() => undefined);
  }

  /** No record pending, no batch in flight, no attempt running, no page of timers being read. */
  get quiet(): boolean {
    return this.runtime.router.idle && this.runtime.driver.inFlightCount === 0 && this.runtime.timers.idle;
  }
}
