/**
 * The wake-up schedule of every partition's durable timers: appends `timer-fired` when one is due.
 * The timers themselves live in partition state, indexed by due time (`timers_by_due` in a state
 * file); this service holds only a bounded **window** of each partition's earliest timers and pages
 * the next ones from the partition (`TimerSource`, the router's view) when the window runs empty, so
 * memory does not grow with the timers (500,000 retained invocations are 500,000 `expire` timers).
 *
 * Invariant, "never lost": every timer in a partition's state is in its window, or after the window's
 * horizon (the due-order key of the last timer the window covers) and so read by a later page. A
 * schedule inside the horizon joins the window; one after it is left to the store (the effect comes
 * after the commit, so the store has it); when the window grows past MAX_WINDOW_TIMERS its latest
 * timers are dropped and the horizon moves back to the last one kept. While a page is being read,
 * the schedules and cancels seen meanwhile are replayed over it, so a timer committed during the read
 * is never missed. "Never early": a timer fires only once the clock reads at least its fireAtMs, and
 * the state machine removes it on the first `timer-fired` (a duplicate firing is a no-op).
 */
import type { Clock } from "../core/clock";
import type { Timer } from "../core/state";
import { compareTimerKeys, type TimerKey } from "../core/timers";
import { MinHeap } from "./min-heap";

/** Timers read from a partition per page. */
export const TIMER_PAGE_SIZE = 512;
/** A window above this many timers is trimmed back to its earliest TIMER_PAGE_SIZE. */
export const MAX_WINDOW_TIMERS = 2 * TIMER_PAGE_SIZE;
/** Wait before reading a page again after a failed read (a stopped partition, a closed store). */
export const TIMER_PAGE_RETRY_MS = 1_000;
/** Stale heap entries tolerated before a rebuild. */
const HEAP_SLACK = 1_024;
/** The longest single setTimeout (Node clamps larger values to 1 ms). */
const MAX_TIMEOUT_MS = 2_147_483_647;
/** The horizon of a window that has read nothing yet: before every timer. */
const START: TimerKey = { fireAtMs: Number.NEGATIVE_INFINITY, id: "" };

/** Reads a partition's timers in due order strictly after `after` (undefined: from the first). */
export type TimerSource = (partition: number, after: TimerKey | undefined, limit: number) => Promise<Timer[]>;

export interface TimerServiceOptions {
  /** Where windows page from; without one every scheduled timer stays in memory (unit tests). */
  source?: TimerSource;
  /** Default TIMER_PAGE_SIZE. */
  pageSize?: number;
  /** Default 2 × pageSize. */
  maxWindowTimers?: number;
}

type PendingOp = { schedule: Timer } | { cancel: string };

/** One partition's timers in memory. */
interface Window {
  /** timerId → due time; the heap may hold stale entries, skipped when popped. */
  readonly dueAt: Map<string, number>;
  /** Last key the window covers; undefined: every timer of the partition is in the window. */
  horizon: TimerKey | undefined;
  /** While a page is being read: what was scheduled and cancelled meanwhile, in order. */
  pending: PendingOp[] | undefined;
  /** A failed read waits to be retried. */
  retry: NodeJS.Timeout | undefined;
  failed: boolean;
}

export class TimerService {
  private readonly windows = new Map<number, Window>();
  private heap = new MinHeap<{ partition: number; timerId: string }>();
  private live = 0;
  private readsInFlight = 0;
  private handle: NodeJS.Timeout | undefined;
  private armedAtMs = Number.POSITIVE_INFINITY;
  private stopped = false;
  private readonly source: TimerSource | undefined;
  private readonly pageSize: number;
  private readonly maxWindowTimers: number;

  constructor(
    private readonly clock: Clock,
    private readonly fire: (partition: number, timerId: string) => void,
    /** False for a manual clock: the owner calls `fireDue()` after moving time. */
    private readonly useRealTimeouts = true,
    options: TimerServiceOptions = {},
  ) {
    this.source = options.source;
    this.pageSize = options.pageSize ?? TIMER_PAGE_SIZE;
    this.maxWindowTimers = options.maxWindowTimers ?? 2 * this.pageSize;
    if (!(this.pageSize >= 1 && this.maxWindowTimers >= this.pageSize)) {
      throw new RangeError(`timer window: pageSize ${this.pageSize}, max ${this.maxWindowTimers}`);
    }
  }

  schedule(partition: number, timer: Timer): void {
    const w = this.window(partition);
    w.pending?.push({ schedule: timer });
    this.place(partition, w, timer);
    this.trimIfFull(w);
  }

  cancel(partition: number, timerId: string): void {
    const w = this.window(partition);
    w.pending?.push({ cancel: timerId });
    this.remove(w, timerId);
    this.afterRemoval(partition, w);
  }

  /**
   * Forgets the partition's window and pages it again from the partition's state (its `recover`
   * record asks for this: the state is the whole truth after a restart or a change of leader).
   */
  reload(partition: number): void {
    const old = this.windows.get(partition);
    if (old !== undefined) {
      this.live -= old.dueAt.size;
      if (old.retry) clearTimeout(old.retry);
    }
    const w = newWindow(this.source === undefined ? undefined : START);
    this.windows.set(partition, w);
    this.readPage(partition, w);
  }

  /**
   * Forgets every timer of `partition` (it moved to another node, whose `recover` pages them again).
   * Their heap entries turn stale and are skipped like cancelled ones; a page being read is dropped.
   */
  dropPartition(partition: number): void {
    const w = this.windows.get(partition);
    if (w === undefined) return;
    this.live -= w.dueAt.size;
    if (w.retry) clearTimeout(w.retry);
    this.windows.delete(partition);
    if (this.heap.size > 2 * this.live + HEAP_SLACK) this.rebuildHeap();
  }

  /** Timers held in memory (every partition's window). */
  get size(): number {
    return this.live;
  }

  /** No page is being read: nextFireAtMs() is the earliest timer of every partition. */
  get idle(): boolean {
    return this.readsInFlight === 0;
  }

  /** The earliest due time, if any (for time-skipping; wait for `idle` first). */
  nextFireAtMs(): number | undefined {
    this.dropStale();
    return this.heap.peek()?.key;
  }

  /** Fires every timer due now. */
  fireDue(): void {
    const now = this.clock.nowMs();
    const emptied = new Set<number>();
    for (;;) {
      this.dropStale();
      const top = this.heap.peek();
      if (!top || top.key > now) break;
      this.heap.pop();
      const { partition, timerId } = top.value;
      this.remove(this.windows.get(partition)!, timerId);
      emptied.add(partition);
      this.fire(partition, timerId);
    }
    for (const [partition, w] of this.windows) {
      if (emptied.has(partition) || w.failed) this.afterRemoval(partition, w);
    }
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    if (this.handle) clearTimeout(this.handle);
    for (const w of this.windows.values()) if (w.retry) clearTimeout(w.retry);
  }

  /** Entries of the wake-up heap (live and stale), for tests and metrics. */
  get heapSize(): number {
    return this.heap.size;
  }

  private window(partition: number): Window {
    let w = this.windows.get(partition);
    if (w === undefined) this.windows.set(partition, (w = newWindow(undefined)));
    return w;
  }

  /** Puts the timer in the window when the horizon covers it; else leaves it to the store. */
  private place(partition: number, w: Window, timer: Timer): void {
    if (w.horizon !== undefined && compareTimerKeys(timer, w.horizon) > 0) {
      this.remove(w, timer.id); // rescheduled past the horizon: the store has its new time
      return;
    }
    const before = w.dueAt.get(timer.id);
    if (before === timer.fireAtMs) return;
    if (before === undefined) this.live++;
    w.dueAt.set(timer.id, timer.fireAtMs);
    this.heap.push(timer.fireAtMs, { partition, timerId: timer.id });
    if (timer.fireAtMs < this.armedAtMs) this.arm();
  }

  private remove(w: Window, timerId: string): void {
    if (w.dueAt.delete(timerId)) this.live--;
  }

  /** An emptied window reads its next page; stale heap entries are dropped before they pile up. */
  private afterRemoval(partition: number, w: Window): void {
    if (this.heap.size > 2 * this.live + HEAP_SLACK) this.rebuildHeap();
    if (w.dueAt.size === 0 && w.horizon !== undefined) this.readPage(partition, w);
  }

  /** Keeps the earliest pageSize timers of a window grown past its bound; the rest stay in the store. */
  private trimIfFull(w: Window): void {
    if (this.source === undefined || w.pending !== undefined || w.dueAt.size <= this.maxWindowTimers) return;
    const keys = [...w.dueAt].map(([id, fireAtMs]) => ({ id, fireAtMs })).sort(compareTimerKeys);
    for (const { id } of keys.slice(this.pageSize)) this.remove(w, id);
    w.horizon = keys[this.pageSize - 1];
    if (this.heap.size > 2 * this.live + HEAP_SLACK) this.rebuildHeap();
  }

  private readPage(partition: number, w: Window): void {
    if (this.source === undefined || this.stopped || w.pending !== undefined || w.horizon === undefined)
      return;
    if (w.retry) clearTimeout(w.retry);
    w.retry = undefined;
    w.failed = false;
    w.pending = [];
    this.readsInFlight++;
    const after = w.horizon === START ? undefined : w.horizon;
    this.source(partition, after, this.pageSize).then(
      (page) => {
        this.readsInFlight--;
        if (this.windows.get(partition) !== w || this.stopped) return; // reloaded or stopped meanwhile
        const ops = w.pending ?? [];
        w.pending = undefined;
        w.horizon = page.length < this.pageSize ? undefined : page[page.length - 1];
        for (const timer of page) this.place(partition, w, timer);
        for (const op of ops) {
          if ("schedule" in op) this.place(partition, w, op.schedule);
          else this.remove(w, op.cancel);
        }
        this.trimIfFull(w);
        this.afterRemoval(partition, w); // a page of timers all cancelled meanwhile: read on
        this.arm();
      },
      () => {
        this.readsInFlight--;
        if (this.windows.get(partition) !== w || this.stopped) return;
        // Schedules seen meanwhile inside the old horizon are in the window; those after it are in
        // the store, which the retry reads.
        w.pending = undefined;
        w.failed = true;
        if (this.useRealTimeouts) {
          w.retry = setTimeout(() => this.readPage(partition, w), TIMER_PAGE_RETRY_MS);
          w.retry.unref?.();
        }
      },
    );
  }

  private rebuildHeap(): void {
    this.heap = new MinHeap();
    for (const [partition, w] of this.windows) {
      for (const [timerId, at] of w.dueAt) this.heap.push(at, { partition, timerId });
    }
  }

  /** Pops heap entries whose timer was cancelled, rescheduled, fired or dropped from its window. */
  private dropStale(): void {
    for (let top = this.heap.peek(); top; top = this.heap.peek()) {
      if (this.windows.get(top.value.partition)?.dueAt.get(top.value.timerId) === top.key) return;
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

function newWindow(horizon: TimerKey | undefined): Window {
  return { dueAt: new Map(), horizon, pending: undefined, retry: undefined, failed: false };
}
