/**
 * Holds the due times of every partition's durable timers and appends `timer-fired` when one is due.
 * The timers themselves live in partition state (durable); this is only the wake-up schedule, rebuilt
 * from the `recover` record's effects after a restart. A timer never fires early: it fires when the
 * clock reads at least its fireAtMs, and the state machine removes it on the first `timer-fired`.
 */
import type { Clock } from "../core/clock";
import type { Timer } from "../core/state";

interface Scheduled {
  partition: number;
  timerId: string;
  fireAtMs: number;
}

/** The longest single setTimeout (Node clamps larger values to 1 ms). */
const MAX_TIMEOUT_MS = 2_147_483_647;

export class TimerService {
  private readonly byId = new Map<string, Scheduled>();
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
    this.byId.set(key(partition, timer.id), { partition, timerId: timer.id, fireAtMs: timer.fireAtMs });
    if (timer.fireAtMs < this.armedAtMs) this.arm();
  }

  cancel(partition: number, timerId: string): void {
    this.byId.delete(key(partition, timerId));
  }

  get size(): number {
    return this.byId.size;
  }

  /** The earliest due time, if any (for time-skipping). */
  nextFireAtMs(): number | undefined {
    let min: number | undefined;
    for (const s of this.byId.values()) if (min === undefined || s.fireAtMs < min) min = s.fireAtMs;
    return min;
  }

  /** Fires every timer due now. */
  fireDue(): void {
    const now = this.clock.nowMs();
    for (const [k, s] of this.byId) {
      if (s.fireAtMs <= now) {
        this.byId.delete(k);
        this.fire(s.partition, s.timerId);
      }
    }
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    if (this.handle) clearTimeout(this.handle);
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
