/**
 * `entries`: a checkpoint (no outcome) or the final response of the current attempt. The batch must
 * continue the journal exactly; a refused batch changes nothing (except a journal over its limit,
 * which fails the invocation: retrying would hit the same limit).
 */
import type { Completion, JournalEntry, Outcome } from "@capstan/sdk/protocol";
import { MAX_JOURNAL_ENTRIES, entryLabel } from "@capstan/sdk/protocol";
import { markCompleted } from "../completion";
import type { ApplyContext } from "../context";
import { failureCompletion } from "../failures";
import { isCompletableEntry, resultOf } from "../journal-entries";
import { finishInvocation, startAttempt } from "../lifecycle";
import type { RecordOf } from "../records";
import { retryOrGiveUp } from "../retry";
import type { Invocation } from "../state";
import { applyNewEntry } from "./new-entry";

type RejectCode = "INVOKE_JOURNAL_MISMATCH" | "INVOKE_JOURNAL_TOO_LONG";

interface Plan {
  /** Copies of the entries to append, in order (state never shares objects with the record). */
  appended: JournalEntry[];
  /** Results of resent `run`/`getState` entries recorded earlier without one. */
  lateResults: Array<{ index: number; result: Completion }>;
}

export function applyEntries(cx: ApplyContext, record: RecordOf<"entries">): void {
  const inv = cx.state.invocation(record.invocationId);
  const reject = (code: RejectCode | "INVOKE_NOT_FOUND" | "INVOKE_STALE_ATTEMPT", message: string): void => {
    cx.effects.push({
      kind: "entries-rejected",
      invocationId: record.invocationId,
      attempt: record.attempt,
      code,
      message,
    });
  };
  if (inv === undefined) return reject("INVOKE_NOT_FOUND", `invocation ${record.invocationId} not found`);
  if (inv.status !== "running" || inv.attempt !== record.attempt) {
    return reject(
      "INVOKE_STALE_ATTEMPT",
      `attempt ${record.attempt} is not the running attempt (status ${inv.status}, attempt ${inv.attempt})`,
    );
  }
  const plan = planEntries(inv, record.entries, record.outcome);
  if ("code" in plan) {
    reject(plan.code, plan.message);
    if (plan.code === "INVOKE_JOURNAL_TOO_LONG")
      failTooLong(cx, inv, record.outcome === undefined, plan.message);
    return;
  }

  for (const { index, result } of plan.lateResults) {
    const entry = inv.journal[index];
    if (entry !== undefined && isCompletableEntry(entry)) {
      entry.result = result;
      markCompleted(inv, index, cx.atMs);
    }
  }
  for (const entry of plan.appended) {
    inv.journal.push(entry);
    inv.entryTimes.push([cx.atMs, null]);
    applyNewEntry(cx, inv, entry);
    if (!isCompletableEntry(entry) || entry.result !== undefined) markCompleted(inv, entry.index, cx.atMs);
  }
  if (plan.appended.length > 0 || plan.lateResults.length > 0) {
    inv.attemptsSinceLastEntry = 0;
    inv.firstFailureAtMs = undefined;
  }
  inv.modifiedAtMs = cx.atMs;

  if (record.outcome === undefined) {
    cx.effects.push({
      kind: "entries-accepted",
      invocationId: inv.id,
      attempt: inv.attempt,
      journalLength: inv.journal.length,
    });
    return;
  }
  applyOutcome(cx, inv, record.outcome);
}

function applyOutcome(cx: ApplyContext, inv: Invocation, outcome: Outcome): void {
  switch (outcome.kind) {
    case "completed":
      return finishWithOutput(cx, inv, { kind: "value", value: outcome.value });
    case "failed":
      return finishWithOutput(cx, inv, failureCompletion(outcome.failure));
    case "retry":
      return retryOrGiveUp(cx, inv, outcome.error.message, outcome.retryAfterMs, {
        ...(outcome.error.stack !== undefined && { stack: outcome.error.stack }),
        ...(outcome.entry !== undefined && { entry: outcome.entry }),
      });
    case "suspended":
      // A completion may have landed between the SDK's decision to suspend and this record.
      if (outcome.awaiting.some((index) => resultOf(inv.journal[index]) !== undefined)) {
        startAttempt(cx, inv);
      } else {
        inv.status = "suspended";
        inv.awaiting = [...outcome.awaiting];
      }
      return;
  }
}

function finishWithOutput(cx: ApplyContext, inv: Invocation, result: Completion): void {
  inv.journal.push({ index: inv.journal.length, kind: "output", result });
  inv.entryTimes.push([cx.atMs, cx.atMs]);
  finishInvocation(cx, inv, result);
}

/**
 * A journal over MAX_JOURNAL_ENTRIES is a terminal error (every retry would replay into the same
 * limit). The runtime's output entry is not counted, so a handler may use the full limit.
 */
function failTooLong(cx: ApplyContext, inv: Invocation, attemptInFlight: boolean, message: string): void {
  if (attemptInFlight) cx.effects.push({ kind: "abort-attempt", invocationId: inv.id, attempt: inv.attempt });
  finishInvocation(
    cx,
    inv,
    failureCompletion({ code: 500, message, metadata: { code: "INVOKE_JOURNAL_TOO_LONG" } }),
  );
}

/**
 * Checks the whole batch before anything changes. An entry below the journal's length is a resend
 * (after a lost acknowledgement) and must match the recorded one by kind and label; an entry at the
 * length is appended; anything else is a gap. `input`/`output` are the runtime's own entries.
 */
function planEntries(
  inv: Invocation,
  entries: readonly JournalEntry[],
  outcome: Outcome | undefined,
): Plan | { code: RejectCode; message: string } {
  const recordedLength = inv.journal.length;
  const appended: JournalEntry[] = [];
  const lateResults: Plan["lateResults"] = [];
  const entryAt = (index: number): JournalEntry | undefined =>
    index < recordedLength ? inv.journal[index] : appended[index - recordedLength];
  const mismatch = (message: string): { code: RejectCode; message: string } => ({
    code: "INVOKE_JOURNAL_MISMATCH",
    message,
  });

  for (const entry of entries) {
    const length = recordedLength + appended.length;
    if (!Number.isInteger(entry.index) || entry.index < 0 || entry.index > length) {
      return mismatch(`entry index ${entry.index} does not continue the journal of length ${length}`);
    }
    if (entry.index === length) {
      if (entry.kind === "input" || entry.kind === "output") {
        return mismatch(`entry ${entry.index}: "${entry.kind}" entries are written by the runtime only`);
      }
      appended.push(withoutCompletionOrder(entry));
      continue;
    }
    const recorded = entryAt(entry.index)!;
    if (recorded.kind !== entry.kind || entryLabel(recorded) !== entryLabel(entry)) {
      return mismatch(
        `entry ${entry.index}: recorded ${recorded.kind} "${entryLabel(recorded)}", got ${entry.kind} "${entryLabel(entry)}"`,
      );
    }
    const resent = resultOf(entry);
    const alreadyPlanned = lateResults.some((late) => late.index === entry.index);
    if (
      (entry.kind === "run" || entry.kind === "getState") &&
      resent !== undefined &&
      resultOf(recorded) === undefined &&
      !alreadyPlanned
    ) {
      if (entry.index < recordedLength) lateResults.push({ index: entry.index, result: resent });
      else (recorded as typeof entry).result = resent;
    }
  }

  const length = recordedLength + appended.length;
  if (length > MAX_JOURNAL_ENTRIES) {
    return {
      code: "INVOKE_JOURNAL_TOO_LONG",
      message: `journal of ${length} entries exceeds the limit of ${MAX_JOURNAL_ENTRIES} (MAX_JOURNAL_ENTRIES)`,
    };
  }
  if (outcome?.kind === "suspended") {
    if (outcome.awaiting.length === 0) return mismatch("suspended without awaiting any entry");
    for (const index of outcome.awaiting) {
      const awaited = entryAt(index);
      if (awaited === undefined || !isCompletableEntry(awaited)) {
        return mismatch(`suspended awaiting entry ${index}, which is not a completable entry of the journal`);
      }
    }
  }
  return { appended, lateResults };
}

/** A copy of an entry the SDK sent, without `completionOrder`: only the runtime stamps it (markCompleted). */
function withoutCompletionOrder(entry: JournalEntry): JournalEntry {
  const copy = { ...entry };
  if ("completionOrder" in copy) delete copy.completionOrder;
  return copy;
}
