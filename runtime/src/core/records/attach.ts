import { partitionOfInvocationId } from "@capstan/sdk/protocol";
import type { ApplyContext } from "../context";
import { notFoundCompletion } from "../failures";
import { enqueue } from "../outbox";
import type { RecordOf } from "../records";

/** `attach`: another invocation's `ctx.attach(id)` waits for our result (now, or when we finish). */
export function applyAttach(cx: ApplyContext, record: RecordOf<"attach">): void {
  const { waiter } = record;
  const inv = cx.state.invocation(record.invocationId);
  const answer =
    inv === undefined ? notFoundCompletion() : inv.status === "completed" ? inv.result : undefined;
  if (answer !== undefined) {
    enqueue(cx, partitionOfInvocationId(waiter.invocationId), {
      kind: "complete-entry",
      invocationId: waiter.invocationId,
      entryIndex: waiter.entryIndex,
      result: answer,
    });
    return;
  }
  if (inv === undefined) return;
  const known = inv.attachedBy.some(
    (w) => w.invocationId === waiter.invocationId && w.entryIndex === waiter.entryIndex,
  );
  if (!known) inv.attachedBy.push(waiter);
}
