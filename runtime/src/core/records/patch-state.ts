import type { Payload } from "@capstan/sdk/protocol";
import type { ApplyContext } from "../context";
import type { RecordOf } from "../records";
import { objectKey } from "../state";

/**
 * `patch-state` (admin): edits one key's K/V state, applied in the order clearAll, clear, set — so a
 * patch can replace the whole state in one record. It does not wait for the key's lock: like
 * Restate's admin state edit, it is an operator's override.
 */
export function applyPatchState(cx: ApplyContext, record: RecordOf<"patch-state">): void {
  const key = objectKey(record.service, record.key);
  const state = new Map<string, Payload>(record.clearAll ? [] : cx.state.objectState(key));
  for (const name of record.clear) state.delete(name);
  for (const [name, value] of Object.entries(record.set)) state.set(name, value);
  cx.state.setObjectState(key, state);
}
