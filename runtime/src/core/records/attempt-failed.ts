import type { ApplyContext } from "../context";
import type { RecordOf } from "../records";
import { retryOrGiveUp } from "../retry";

/**
 * `attempt-failed`: the invoker could not complete the current attempt. Retryable failures back off;
 * a terminal invoker error (function not found, access denied, ...) pauses the invocation: it must
 * neither hot-loop nor fail silently, and an operator can resume it once the deployment is fixed.
 * A failure of any other attempt than the running one is stale and ignored.
 */
export function applyAttemptFailed(cx: ApplyContext, record: RecordOf<"attempt-failed">): void {
  const inv = cx.state.invocation(record.invocationId);
  if (inv === undefined || inv.status !== "running" || inv.attempt !== record.attempt) return;
  if (record.retryable) {
    retryOrGiveUp(cx, inv, record.message);
    return;
  }
  inv.status = "paused";
  inv.awaiting = [];
  inv.lastFailure = { message: record.message, atMs: cx.atMs, attempt: inv.attempt };
  inv.modifiedAtMs = cx.atMs;
}
