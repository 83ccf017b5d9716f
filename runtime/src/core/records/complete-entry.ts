import { completeEntry } from "../completion";
import type { ApplyContext } from "../context";
import type { RecordOf } from "../records";

/**
 * `complete-entry`: a call's result, an awakeable's resolution or an attach result from another
 * partition. An unknown invocation is ignored: it may have been killed and purged meanwhile.
 */
export function applyCompleteEntry(cx: ApplyContext, record: RecordOf<"complete-entry">): void {
  const inv = cx.state.invocation(record.invocationId);
  if (inv === undefined) return;
  // A forged awakeable id must not complete a sleep early, forge a call result or answer a promise.
  if (record.awakeableOnly === true && inv.journal[record.entryIndex]?.kind !== "awakeable") return;
  completeEntry(cx, inv, record.entryIndex, record.result);
}
