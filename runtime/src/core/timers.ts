/**
 * Timers: deterministic ids (derived from what they are for), so an invocation's timers can be found
 * without scanning the whole table, and re-creating one is idempotent.
 */
import type { InvocationId } from "@capstan/sdk/protocol";
import type { ApplyContext } from "./context";
import type { Invocation, Timer } from "./state";

export const timerIds = {
  sleep: (id: InvocationId, entryIndex: number): string => `sleep:${id}:${entryIndex}`,
  retry: (id: InvocationId, attempt: number): string => `retry:${id}:${attempt}`,
  delayedInvoke: (id: InvocationId): string => `delayed-invoke:${id}`,
  expire: (id: InvocationId): string => `expire:${id}`,
};

/**
 * A timer's place in due order: by fire time, then id (ties broken the same way in memory and in a
 * store's `(fire_at_ms, id)` index; ids are ASCII, so JS and SQLite order them alike).
 */
export interface TimerKey {
  fireAtMs: number;
  id: string;
}

/** Negative when `a` is due before `b`, 0 for the same key. */
export function compareTimerKeys(a: TimerKey, b: TimerKey): number {
  return a.fireAtMs - b.fireAtMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export function addTimer(cx: ApplyContext, timer: Timer): void {
  cx.state.putTimer(timer);
  cx.effects.push({ kind: "schedule-timer", timer });
}

/** Removes the timer if it exists and tells the processor to forget it. */
export function deleteTimer(cx: ApplyContext, timerId: string): void {
  if (cx.state.deleteTimer(timerId)) cx.effects.push({ kind: "cancel-timer", timerId });
}

/** Cancels what would advance a not-yet-finished invocation: pending sleeps, its retry and delayed start. */
export function cancelInvocationTimers(cx: ApplyContext, inv: Invocation): void {
  deleteTimer(cx, timerIds.delayedInvoke(inv.id));
  deleteTimer(cx, timerIds.retry(inv.id, inv.attempt));
  for (const entry of inv.journal) {
    if (entry.kind === "sleep" && entry.result === undefined)
      deleteTimer(cx, timerIds.sleep(inv.id, entry.index));
  }
}
