import type { ApplyContext } from "../context";
import { rejectRequest } from "../control";
import { removeInvocation } from "../lifecycle";
import type { RecordOf } from "../records";

/** `purge` (admin): removes a completed invocation before its retention ends. */
export function applyPurge(cx: ApplyContext, record: RecordOf<"purge">): void {
  const inv = cx.state.invocation(record.invocationId);
  if (inv === undefined) {
    rejectRequest(
      cx,
      record.invocationId,
      "INVOCATION_NOT_FOUND",
      `invocation ${record.invocationId} not found`,
    );
  } else if (inv.status !== "completed") {
    rejectRequest(
      cx,
      inv.id,
      "INVOCATION_NOT_COMPLETED",
      `invocation ${inv.id} is ${inv.status}: only completed invocations can be purged`,
    );
  } else {
    removeInvocation(cx, inv);
  }
}
