import { completeEntry } from "../completion";
import type { ApplyContext } from "../context";
import { removeInvocation, startAttempt, startOrEnqueue } from "../lifecycle";
import type { RecordOf } from "../records";

/**
 * `timer-fired`: applied once — the timer is deleted, so a second record for it (the processor's wheel
 * fired twice, or a replay after a crash) is a no-op (guarantee 5). Timers are never early: the
 * processor appends this record only once `fireAtMs` has passed.
 */
export function applyTimerFired(cx: ApplyContext, record: RecordOf<"timer-fired">): void {
  const timer = cx.state.timer(record.timerId);
  if (timer === undefined) return;
  cx.state.deleteTimer(timer.id);
  const inv = cx.state.invocation(timer.invocationId);
  if (inv === undefined) return;
  switch (timer.kind) {
    case "sleep":
      return completeEntry(cx, inv, timer.entryIndex, { kind: "empty" });
    case "retry":
      if (inv.status === "backing-off" && inv.attempt === timer.attempt) startAttempt(cx, inv);
      return;
    case "delayed-invoke":
      if (inv.status === "scheduled") startOrEnqueue(cx, inv);
      return;
    case "expire":
      if (inv.status === "completed") removeInvocation(cx, inv);
      return;
  }
}
