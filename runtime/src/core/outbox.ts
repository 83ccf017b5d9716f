import type { ApplyContext } from "./context";
import type { OutboxMessage } from "./state";

/**
 * Queues a message for a partition (possibly this one) in the same apply that decided to send it
 * (guarantee 2), and asks the processor to deliver it. Sequence numbers are per producer, shared by
 * all destinations: the receiver drops any seq ≤ the highest it applied from us, so the processor must
 * deliver each destination's messages in seq order. Kept until `outbox-delivered` confirms.
 */
export function enqueue(cx: ApplyContext, toPartition: number, message: OutboxMessage): void {
  const seq = cx.state.takeOutboxSeq();
  cx.state.putOutbox({ seq, toPartition, message });
  cx.effects.push({ kind: "send", toPartition, seq, message });
}
