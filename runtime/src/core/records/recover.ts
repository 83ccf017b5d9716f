import type { ApplyContext } from "../context";
import { startAttempt } from "../lifecycle";
import type { RecordOf } from "../records";

/**
 * `recover`: a processor (re)starts leading the partition. Attempts in flight before it are lost or
 * stale, so every running invocation gets a new attempt (its number fences the old one). Timers and
 * undelivered outbox messages are re-emitted so the processor rebuilds its timer wheel and redelivers.
 */
export function applyRecover(cx: ApplyContext, _record: RecordOf<"recover">): void {
  for (const inv of cx.state.runningInvocations()) startAttempt(cx, inv);
  for (const timer of cx.state.timers()) cx.effects.push({ kind: "schedule-timer", timer });
  for (const { seq, toPartition, message } of cx.state.outbox()) {
    cx.effects.push({ kind: "send", toPartition, seq, message });
  }
}
