/**
 * `pause` / `resume` (admin). Only an invocation that is consuming or about to consume handler time
 * can be paused: running (the attempt is aborted) or backing-off (the retry timer is dropped). A
 * suspended invocation costs nothing and is refused; so are scheduled and inboxed ones.
 * `resume` starts a fresh attempt with a fresh retry budget.
 */
import type { ApplyContext } from "../context";
import { liveInvocation, rejectRequest } from "../control";
import { startAttempt } from "../lifecycle";
import type { RecordOf } from "../records";
import { deleteTimer, timerIds } from "../timers";

export function applyPause(cx: ApplyContext, record: RecordOf<"pause">): void {
  const inv = liveInvocation(cx, record.invocationId);
  if (inv === undefined) return;
  switch (inv.status) {
    case "running":
      cx.effects.push({ kind: "abort-attempt", invocationId: inv.id, attempt: inv.attempt });
      break;
    case "backing-off":
      deleteTimer(cx, timerIds.retry(inv.id, inv.attempt));
      break;
    case "suspended":
    case "scheduled":
    case "inboxed":
    case "paused":
    case "completed":
      rejectRequest(
        cx,
        inv.id,
        "INVOCATION_NOT_PAUSABLE",
        `invocation ${inv.id} is ${inv.status}: only running or backing-off invocations can be paused`,
      );
      return;
  }
  inv.status = "paused";
  inv.awaiting = [];
  inv.modifiedAtMs = cx.atMs;
}

export function applyResume(cx: ApplyContext, record: RecordOf<"resume">): void {
  const inv = liveInvocation(cx, record.invocationId);
  if (inv === undefined) return;
  if (inv.status !== "paused") {
    rejectRequest(cx, inv.id, "INVOCATION_NOT_PAUSED", `invocation ${inv.id} is ${inv.status}, not paused`);
    return;
  }
  inv.attemptsSinceLastEntry = 0;
  inv.firstFailureAtMs = undefined;
  startAttempt(cx, inv);
}
