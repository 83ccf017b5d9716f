/**
 * The partition state machine: one function from (state, record) to effects, with no I/O, no clock
 * and no randomness — time is `record.atMs`, ids are derived from the log. The live processor and
 * recovery (replaying the log after the store's applied LSN) run exactly this code, so they cannot
 * disagree.
 *
 * `apply` reads the state through a StateTx (point lookups by key) and leaves its writes there; the
 * processor commits a batch's write set in one step with its applied LSN (`applyBatch`). If `apply`
 * throws (an invariant was violated) the batch must not be committed and the processor must stop: a
 * store may share objects with the batch (memory-state-store.ts), so only a restart from what was
 * committed is safe.
 */
import { assertNever } from "@capstan/sdk/protocol";
import type { ApplyContext } from "./context";
import type { Effect } from "./effects";
import { invariant } from "./invariant";
import type { LogRecord, Origin } from "./records";
import { applyAttach } from "./records/attach";
import { applyAttemptFailed } from "./records/attempt-failed";
import { applyCancel } from "./records/cancel";
import { applyCompleteEntry } from "./records/complete-entry";
import { applyEntries } from "./records/entries";
import { applyInvoke } from "./records/invoke";
import { applyInvokeRefused } from "./records/invoke-refused";
import { applyKill } from "./records/kill";
import { applyOutboxDelivered } from "./records/outbox-delivered";
import { applyPatchState } from "./records/patch-state";
import { applyPause, applyResume } from "./records/pause-resume";
import { applyPurge } from "./records/purge";
import { applyRecover } from "./records/recover";
import { applyTimerFired } from "./records/timer-fired";
import type { PartitionStateStore } from "./state-reader";
import { StateTx } from "./state-tx";

/**
 * Applies the record at `lsn` to the batch's state and returns what the processor must do next.
 * A record delivered from another partition's outbox (`origin`) that was already applied is ignored.
 *
 * @example
 * const effects = apply(tx, 42, { kind: "timer-fired", timerId: "sleep:inv_3_…:2", atMs: now });
 * // → [{ kind: "invoke", invocationId, attempt: 2 }] when the sleeper was suspended on that entry
 */
export function apply(state: StateTx, lsn: number, record: LogRecord): Effect[] {
  const appliedLsn = state.appliedLsn();
  invariant(lsn > appliedLsn, `record lsn ${lsn} is not after the applied lsn ${appliedLsn}`);
  const cx: ApplyContext = { state, atMs: record.atMs, effects: [] };
  if (record.origin === undefined || acceptOrigin(state, record.origin)) dispatch(cx, record);
  state.setAppliedLsn(lsn);
  return cx.effects;
}

/**
 * Applies consecutive records (the first at `firstLsn`) in one StateTx and commits its write set to
 * `store` once, with the last record's LSN: a batch's state change is atomic. Returns each record's
 * effects, in order.
 *
 * @example
 * const effects = applyBatch(store, 101, records); // effects[i] belongs to records[i] (lsn 101 + i)
 */
export function applyBatch(
  store: PartitionStateStore,
  firstLsn: number,
  records: readonly LogRecord[],
): Effect[][] {
  const tx = new StateTx(store);
  const effects = records.map((record, i) => apply(tx, firstLsn + i, record));
  store.commit(tx.writeSet());
  return effects;
}

/** Exactly-once delivery: each producer's seqs are applied in increasing order, duplicates dropped. */
function acceptOrigin(state: StateTx, origin: Origin): boolean {
  if (origin.seq <= state.inboundSeq(origin.partition)) return false;
  state.setInboundSeq(origin.partition, origin.seq);
  return true;
}

function dispatch(cx: ApplyContext, record: LogRecord): void {
  switch (record.kind) {
    case "invoke":
      return applyInvoke(cx, record);
    case "invoke-refused":
      return applyInvokeRefused(cx, record);
    case "entries":
      return applyEntries(cx, record);
    case "attempt-failed":
      return applyAttemptFailed(cx, record);
    case "timer-fired":
      return applyTimerFired(cx, record);
    case "complete-entry":
      return applyCompleteEntry(cx, record);
    case "attach":
      return applyAttach(cx, record);
    case "cancel":
      return applyCancel(cx, record);
    case "kill":
      return applyKill(cx, record);
    case "pause":
      return applyPause(cx, record);
    case "resume":
      return applyResume(cx, record);
    case "purge":
      return applyPurge(cx, record);
    case "patch-state":
      return applyPatchState(cx, record);
    case "outbox-delivered":
      return applyOutboxDelivered(cx, record);
    case "recover":
      return applyRecover(cx, record);
    default:
      return assertNever(record);
  }
}
