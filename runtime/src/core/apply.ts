/**
 * The partition state machine: one function from (state, record) to effects, with no I/O, no clock
 * and no randomness — time is `record.atMs`, ids are derived from the log. The live processor and
 * recovery (replaying the log after a snapshot) run exactly this code, so they cannot disagree.
 *
 * `state` is mutated in place rather than copied: the processor owns the only reference, applies
 * thousands of records per second, and snapshots with `serializeState` (which copies). If `apply`
 * throws (an invariant was violated) the in-memory state is undefined: the processor must stop and
 * recover from its last snapshot.
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
import type { PartitionState } from "./state";

/**
 * Applies the record at `lsn` to `state` (in place) and returns what the processor must do next.
 * A record delivered from another partition's outbox (`origin`) that was already applied is ignored.
 *
 * @example
 * const effects = apply(state, 42, { kind: "timer-fired", timerId: "sleep:inv_3_…:2", atMs: now });
 * // → [{ kind: "invoke", invocationId, attempt: 2 }] when the sleeper was suspended on that entry
 */
export function apply(state: PartitionState, lsn: number, record: LogRecord): Effect[] {
  invariant(lsn > state.appliedLsn, `record lsn ${lsn} is not after the applied lsn ${state.appliedLsn}`);
  const cx: ApplyContext = { state, atMs: record.atMs, effects: [] };
  if (record.origin === undefined || acceptOrigin(state, record.origin)) dispatch(cx, record);
  state.appliedLsn = lsn;
  return cx.effects;
}

/** Exactly-once delivery: each producer's seqs are applied in increasing order, duplicates dropped. */
function acceptOrigin(state: PartitionState, origin: Origin): boolean {
  if (origin.seq <= (state.inboundSeq.get(origin.partition) ?? 0)) return false;
  state.inboundSeq.set(origin.partition, origin.seq);
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
