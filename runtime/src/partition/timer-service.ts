/**
 * Holds the due times of every partition's durable timers and appends `timer-fired` when one is due.
 * The timers themselves live in partition state (durable); this is only the wake-up schedule, rebuilt
 * from the `recover` record's effects after a restart. A timer never fires early: it fires when the
 * clock reads at least its fireAtMs, and the state machine removes it on the first `timer-fired`.
 */
import type { Clock } from "../core/clock";
import type { Timer } from "../core/state";
import { MinHeap } from "./min-heap";

/** Stale heap entries tolerated before a rebuild. */
const HEAP_SLACK = 1_024;
/** The longest single setTimeout (Node clamps larger values to 1 ms). */
const MAX_TIMEOUT_MS = 2_147_483_647;

export class TimerService {
  /** `partition:timerId` → due time; the heap may hold stale entries, skipped when popped. */
  private readonly dueAt = new Map<string, number>();
  private heap = new MinHeap<{ partition: number; timerId: string }>();
  private handle: NodeJS.Timeout | undefined;
  private armedAtMs = Number.POSITIVE_INFINITY;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly fire: (partition: number, timerId: string) => void,
    /** False for a manual clock: the owner calls `fireDue()` after moving time. */
    private readonly useRealTimeouts = true,
  ) {}

  schedule(partition: number, timer: Timer): void {
    const k = key(partition, timer.id);
    if (this.dueAt.get(k) === timer.fireAtMs) return;
    this.dueAt.set(k, timer.fireAtMs);
    this.heap.push(timer.fireAtMs, { partition, timerId: timer.id });
    if (timer.fireAtMs < this.armedAtMs) this.arm();
  }

  cancel(partition: number, timerId: string): void {
    this.dueAt.delete(key(partition, timerId));
    // Cancelled timers leave entries in the heap until they reach its top; rebuild before they pile up.
    if (this.heap.size > 2 * this.dueAt.size + HEAP_SLACK) this.rebuildHeap();
  }

  /**
   * Forgets every timer of `partition` (it moved to another node, whose `recover` re-arms them).
   * Their heap entries turn stale and are skipped like cancelled ones.
   */
  dropPartition(partition: number): void {
    const prefix = `${partition}:`;
    for (const k of [...this.dueAt.keys()]) if (k.startsWith(prefix)) this.dueAt.delete(k);
    if (this.heap.size > 2 * this.dueAt.size + HEAP_SLACK) this.rebuildHeap();
  }

  get size(): number {
    return this.dueAt.size;
  }

  /** The earliest due time, if any (for time-skipping). */
  nextFireAtMs(): number | undefined {
    this.dropStale();
    return this.heap.peek()?.key;
  }

  /** Fires every timer due now. */
  fireDue(): void {
    const now = this.clock.nowMs();
    for (;;) {
      this.dropStale();
      const top = this.heap.peek();
      if (!top || top.key > now) break;
      this.heap.pop();
      this.dueAt.delete(key(top.value.partition, top.value.timerId));
      this.fire(top.value.partition, top.value.timerId);
    }
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    if (this.handle) clearTimeout(this.handle);
  }

  private rebuildHeap(): void {
    this.heap = new MinHeap();
    for (const [k, at] of this.dueAt) {
      const i = k.indexOf(":");
      this.heap.push(at, { partition: Number(k.slice(0, i)), timerId: k.slice(i + 1) });
    }
  }

  /** Entries of the wake-up heap (live and stale), for tests and metrics. */
  get heapSize(): number {
    return this.heap.size;
  }

  /** Pops heap entries whose timer was cancelled or rescheduled. */
  private dropStale(): void {
    for (let top = this.heap.peek(); top; top = this.heap.peek()) {
      if (this.dueAt.get(key(top.value.partition, top.value.timerId)) === top.key) return;
      this.heap.pop();
    }
  }

  private arm(): void {
    if (!this.useRealTimeouts || this.stopped) return;
    if (this.handle) clearTimeout(this.handle);
    this.handle = undefined;
    const next = this.nextFireAtMs();
    this.armedAtMs = next ?? Number.POSITIVE_INFINITY;
    if (next === undefined) return;
    const delay = Math.min(Math.max(0, next - this.clock.nowMs()), MAX_TIMEOUT_MS);
    // +1: setTimeout may fire a hair early relative to Date.now(); fireDue re-arms if nothing is due.
    this.handle = setTimeout(() => this.fireDue(), delay + 1);
    this.handle.unref?.();
  }
}

function key(partition: number, timerId: string): string {
  return `${partition}:${timerId}`;
}
