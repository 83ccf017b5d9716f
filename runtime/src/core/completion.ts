import type { Completion } from "@capstan/sdk/protocol";
import type { ApplyContext } from "./context";
import { isCompletableEntry } from "./journal-entries";
import { startAttempt } from "./lifecycle";
import type { Invocation } from "./state";

/**
 * Gives a journal entry its result (call result, fired sleep, awakeable, promise, attach, cancel).
 * Idempotent: an entry that already has a result keeps it, and a finished invocation's journal is
 * never changed. A suspended invocation waiting on the entry gets a new attempt; a running one is
 * told through `completion-available` (its checkpoint long-poll answers with the result). In any other
 * status the result simply waits in the journal for the next attempt.
 */
export function completeEntry(
  cx: ApplyContext,
  inv: Invocation,
  entryIndex: number,
  result: Completion,
): void {
  if (inv.status === "completed") return;
  const entry = inv.journal[entryIndex];
  if (entry === undefined || !isCompletableEntry(entry) || entry.result !== undefined) return;
  entry.result = result;
  markCompleted(inv, entryIndex, cx.atMs);
  inv.modifiedAtMs = cx.atMs;
  if (inv.status === "suspended" && inv.awaiting.includes(entryIndex)) startAttempt(cx, inv);
  else if (inv.status === "running") cx.effects.push({ kind: "completion-available", invocationId: inv.id });
}

/**
 * Records when an entry got its result (first time only), for the journal timeline, and stamps its
 * `completionOrder` (docs/protocol.md, Determinism): the n-th result recorded in this invocation gets n.
 */
export function markCompleted(inv: Invocation, entryIndex: number, atMs: number): void {
  const times = inv.entryTimes[entryIndex];
  if (times !== undefined && times[1] === null) times[1] = atMs;
  const entry = inv.journal[entryIndex];
  if (
    entry !== undefined &&
    isCompletableEntry(entry) &&
    entry.result !== undefined &&
    entry.completionOrder === undefined
  ) {
    entry.completionOrder = ++inv.completionCount;
  }
}
