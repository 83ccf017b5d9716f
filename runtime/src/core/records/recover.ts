import type { ApplyContext } from "../context";
import { startAttempt } from "../lifecycle";
import type { RecordOf } from "../records";

/**
 * `recover`: a processor (re)starts leading the partition. Attempts in flight before it are lost or
 * stale, so every running invocation gets a new attempt (its number fences the old one). The timer
 * service is told to page its schedule from the state again (never every timer in one effect: there
 * may be hundreds of thousands), and undelivered outbox messages are re-emitted for redelivery.
 */
export function applyRecover(cx: ApplyContext, _record: RecordOf<"recover">): void {
  for (const inv of cx.state.runningInvocations()) startAttempt(cx, inv);
  cx.effects.push({ kind: "reload-timers" });
  for (const { seq, toPartition, message } of cx.state.outbox()) {
    cx.effects.push({ kind: "send", toPartition, seq, message });
  }
}
