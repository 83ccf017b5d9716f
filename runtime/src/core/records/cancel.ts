/**
 * `cancel` (admin API and CLI, or `ctx.cancel` of another invocation): the handler sees CancelledError at
 * its pending awaits — or at its next one — and may still run compensation before it finishes. Calls
 * are cancelled down the call tree; the parent's call entry then completes with the child's
 * (cancelled) result, like Restate.
 */
import { markCompleted } from "../completion";
import { assertNever, isInvocationId, partitionOfInvocationId } from "@capstan/sdk/protocol";
import type { ApplyContext } from "../context";
import { liveInvocation } from "../control";
import { cancelledCompletion } from "../failures";
import { resultOf } from "../journal-entries";
import { promiseKey } from "../keys";
import { finishInvocation, startAttempt } from "../lifecycle";
import { enqueue } from "../outbox";
import type { RecordOf } from "../records";
import type { Invocation } from "../state";
import { deleteTimer, timerIds } from "../timers";

export function applyCancel(cx: ApplyContext, record: RecordOf<"cancel">): void {
  const inv = liveInvocation(cx, record.invocationId);
  if (inv === undefined) return;
  if (inv.status === "scheduled" || inv.status === "inboxed") {
    finishInvocation(cx, inv, cancelledCompletion());
    return;
  }

  let completed = false;
  let propagated = false;
  for (const entry of inv.journal) {
    switch (entry.kind) {
      case "call":
        if (
          entry.result === undefined &&
          entry.invocationId !== undefined &&
          isInvocationId(entry.invocationId)
        ) {
          enqueue(cx, partitionOfInvocationId(entry.invocationId), {
            kind: "cancel",
            invocationId: entry.invocationId,
          });
          propagated = true;
        }
        break;
      case "sleep":
      case "awakeable":
      case "promiseGet":
      case "attach":
      case "getState":
      case "getStateKeys":
      case "promisePeek":
      case "promiseComplete":
        if (entry.result === undefined) {
          if (entry.kind === "sleep") deleteTimer(cx, timerIds.sleep(inv.id, entry.index));
          if (entry.kind === "promiseGet") leaveWaiters(cx, inv, promiseKey(inv.target, entry.name));
          entry.result = cancelledCompletion();
          markCompleted(inv, entry.index, cx.atMs);
          completed = true;
        }
        break;
      case "input":
      case "output":
      case "run":
      case "send":
      case "setState":
      case "clearState":
      case "clearAllState":
      case "completeAwakeable":
      case "cancelInvocation":
        // Nothing the runtime completes: `run` is the SDK's, the rest await nothing.
        break;
      default:
        assertNever(entry);
    }
  }
  if (!completed && !propagated) inv.cancelPending = true;
  inv.modifiedAtMs = cx.atMs;

  switch (inv.status) {
    case "suspended":
      if (inv.awaiting.some((index) => resultOf(inv.journal[index]) !== undefined)) startAttempt(cx, inv);
      return;
    case "running":
      if (completed) cx.effects.push({ kind: "completion-available", invocationId: inv.id });
      return;
    case "backing-off":
    case "paused":
      // Nothing would run the handler otherwise: a new attempt lets it observe the cancellation.
      startAttempt(cx, inv);
      return;
    case "completed":
      return; // liveInvocation refused it
  }
}

function leaveWaiters(cx: ApplyContext, inv: Invocation, key: string): void {
  const waiters = cx.state.promiseWaiters(key)?.filter((w) => w.invocationId !== inv.id);
  cx.state.setPromiseWaiters(key, waiters);
}
