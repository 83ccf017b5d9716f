/**
 * `pause` / `resume` (admin). Only an invocation that is consuming or about to consume handler time
 * can be paused: running (the attempt is aborted) or backing-off (the retry timer is dropped). A
 * suspended invocation costs nothing and is refused; so are scheduled and inboxed ones.
 * `resume` starts a fresh attempt of a paused or backing-off invocation (the retry timer is dropped)
 * with a fresh retry budget, on another deployment when the record names one: the way to move an
 * invocation stuck on a bug onto the fixed code. Its journal replays there, so a fix that changes
 * the recorded steps fails with NonDeterminismError as any divergence does.
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
  if (inv.status !== "paused" && inv.status !== "backing-off") {
    rejectRequest(
      cx,
      inv.id,
      "INVOCATION_NOT_PAUSED",
      `invocation ${inv.id} is ${inv.status}: only paused or backing-off invocations can be resumed`,
    );
    return;
  }
  if (record.deploymentId !== undefined) inv.deploymentId = record.deploymentId;
  inv.attemptsSinceLastEntry = 0;
  inv.firstFailureAtMs = undefined;
  startAttempt(cx, inv);
}
