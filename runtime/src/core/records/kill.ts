import { isInvocationId, partitionOfInvocationId } from "@capstan/sdk/protocol";
import type { ApplyContext } from "../context";
import { liveInvocation } from "../control";
import { killedCompletion } from "../failures";
import { finishInvocation } from "../lifecycle";
import { enqueue } from "../outbox";
import type { RecordOf } from "../records";

/**
 * `kill`: ends the invocation now with KilledError, without running any more handler code: the
 * attempt in flight is aborted (its later entries are stale) and pending calls are killed too.
 */
export function applyKill(cx: ApplyContext, record: RecordOf<"kill">): void {
  const inv = liveInvocation(cx, record.invocationId);
  if (inv === undefined) return;
  if (inv.status === "running")
    cx.effects.push({ kind: "abort-attempt", invocationId: inv.id, attempt: inv.attempt });
  for (const entry of inv.journal) {
    if (entry.kind === "call" && entry.result === undefined && entry.invocationId !== undefined) {
      if (isInvocationId(entry.invocationId)) {
        enqueue(cx, partitionOfInvocationId(entry.invocationId), {
          kind: "kill",
          invocationId: entry.invocationId,
        });
      }
    }
  }
  finishInvocation(cx, inv, killedCompletion());
}
