import type { Clock } from "../core/clock";

/** A clock that moves only when told to: the test kit's time-skipping clock. */
export class ManualClock implements Clock {
  constructor(private current: number = Date.now()) {}

  nowMs(): number {
    return this.current;
  }

  /** Moves time forward (never backwards: timers must never fire early). */
  advanceTo(ms: number): void {
    if (ms > this.current) this.current = ms;
  }

  advanceBy(ms: number): void {
    this.current += Math.max(0, ms);
  }
}
