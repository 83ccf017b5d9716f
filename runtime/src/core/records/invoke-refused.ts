import { partitionOfInvocationId } from "@capstan/sdk/protocol";
import type { ApplyContext } from "../context";
import { failureCompletion } from "../failures";
import { enqueue } from "../outbox";
import type { RecordOf } from "../records";

/**
 * `invoke-refused`: the processor could not resolve a handler's call/send (unknown service or
 * handler). No invocation is created; a caller learns it through its call entry, so it never waits
 * forever on a typo. A one-way send is dropped (the processor logs it).
 */
export function applyInvokeRefused(cx: ApplyContext, record: RecordOf<"invoke-refused">): void {
  const caller = record.request.caller;
  if (caller === undefined) return;
  enqueue(cx, partitionOfInvocationId(caller.invocationId), {
    kind: "complete-entry",
    invocationId: caller.invocationId,
    entryIndex: caller.entryIndex,
    result: failureCompletion(record.failure),
  });
}
