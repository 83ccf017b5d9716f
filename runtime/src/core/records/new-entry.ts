/**
 * What the runtime does when an entry is appended: state writes, stamping (a sleep's wake-up time, a
 * call's invocation id), timers and outgoing messages — all in the same apply as the entry itself
 * (guarantee 2) — and immediate results for what the partition can answer (state reads, promises).
 */
import type { Completion, InvocationId, JournalEntry, Payload } from "@capstan/sdk/protocol";
import {
  assertNever,
  isInvocationId,
  parseAwakeableId,
  partitionOfInvocationId,
} from "@capstan/sdk/protocol";
import { completeEntry } from "../completion";
import type { ApplyContext } from "../context";
import { cancelledCompletion, notFoundCompletion } from "../failures";
import type { CompletableEntry } from "../journal-entries";
import { isCompletableEntry } from "../journal-entries";
import { promiseKey } from "../keys";
import { childTrace } from "../trace-ids";
import { enqueue } from "../outbox";
import { childInvocationId } from "../partitioning";
import type { Invocation } from "../state";
import { objectKey } from "../state";
import { addTimer, timerIds } from "../timers";

/** Kinds a pending cancellation fails as soon as the handler appends one (they would otherwise wait). */
const CANCELLED_ON_APPEND: ReadonlySet<JournalEntry["kind"]> = new Set([
  "sleep",
  "call",
  "awakeable",
  "promiseGet",
  "attach",
]);

function empty(): Completion {
  return { kind: "empty" };
}

export function applyNewEntry(cx: ApplyContext, inv: Invocation, entry: JournalEntry): void {
  if (inv.cancelPending && CANCELLED_ON_APPEND.has(entry.kind) && isCompletableEntry(entry)) {
    if (entry.result === undefined) {
      entry.result = cancelledCompletion();
      inv.cancelPending = false;
      return;
    }
  }
  switch (entry.kind) {
    case "input":
    case "output":
    case "run":
    case "awakeable":
      // input/output are refused by planEntries; run is completed by the SDK; an awakeable waits for
      // a complete-entry addressed by its id.
      return;
    case "sleep":
      entry.wakeUpAtMs = cx.atMs + entry.durationMs;
      if (entry.result !== undefined) return;
      addTimer(cx, {
        kind: "sleep",
        invocationId: inv.id,
        entryIndex: entry.index,
        id: timerIds.sleep(inv.id, entry.index),
        fireAtMs: entry.wakeUpAtMs,
      });
      return;
    case "call":
    case "send": {
      const id = childInvocationId(
        inv.id,
        entry.index,
        entry.target,
        entry.idempotencyKey,
        cx.state.partitions,
      );
      entry.invocationId = id;
      const delayMs = entry.kind === "send" ? (entry.delayMs ?? 0) : 0;
      enqueue(cx, partitionOfInvocationId(id), {
        kind: "invoke-request",
        request: {
          id,
          target: entry.target,
          input: entry.parameter,
          headers: entry.headers ?? {},
          ...(entry.idempotencyKey !== undefined ? { idempotencyKey: entry.idempotencyKey } : {}),
          ...(delayMs > 0 ? { notBeforeMs: cx.atMs + delayMs } : {}),
          ...(entry.kind === "call" ? { caller: { invocationId: inv.id, entryIndex: entry.index } } : {}),
          trace: childTrace(inv, id, entry.kind === "send"),
        },
      });
      return;
    }
    case "getState":
      if (entry.result === undefined) {
        const value = objectStateOf(cx, inv)?.get(entry.key);
        entry.result = value === undefined ? empty() : { kind: "value", value };
      }
      return;
    case "getStateKeys":
      if (entry.result === undefined) {
        const keys = [...(objectStateOf(cx, inv)?.keys() ?? [])].sort();
        entry.result = { kind: "value", value: JSON.stringify(keys) };
      }
      return;
    case "setState":
      return writeState(cx, inv, (state) => state.set(entry.key, entry.value));
    case "clearState":
      return writeState(cx, inv, (state) => state.delete(entry.key));
    case "clearAllState":
      return writeState(cx, inv, (state) => state.clear());
    case "completeAwakeable":
      return completeAwakeable(cx, entry.awakeableId, entry.completion);
    case "promiseGet":
      return promiseGet(cx, inv, entry);
    case "promisePeek":
      if (entry.result === undefined)
        entry.result = cx.state.promise(promiseKey(inv.target, entry.name)) ?? empty();
      return;
    case "promiseComplete":
      return promiseComplete(cx, inv, entry.name, entry.completion, entry);
    case "attach":
      if (!isInvocationId(entry.invocationId) || !inCluster(cx, entry.invocationId)) {
        entry.result ??= notFoundCompletion();
        return;
      }
      enqueue(cx, partitionOfInvocationId(entry.invocationId), {
        kind: "attach",
        invocationId: entry.invocationId,
        waiter: { invocationId: inv.id, entryIndex: entry.index },
      });
      return;
    case "cancelInvocation":
      // An id that cannot exist names no invocation: nothing to cancel.
      if (isInvocationId(entry.invocationId) && inCluster(cx, entry.invocationId)) {
        enqueue(cx, partitionOfInvocationId(entry.invocationId), {
          kind: "cancel",
          invocationId: entry.invocationId,
        });
      }
      return;
    default:
      return assertNever(entry);
  }
}

/** K/V state exists for keyed targets only (objects, workflows); a service's state entries are no-ops. */
function objectStateOf(cx: ApplyContext, inv: Invocation): ReadonlyMap<string, Payload> | undefined {
  if (inv.target.key === undefined) return undefined;
  return cx.state.objectState(objectKey(inv.target.service, inv.target.key));
}

function writeState(cx: ApplyContext, inv: Invocation, write: (state: Map<string, Payload>) => void): void {
  if (inv.target.key === undefined) return;
  const key = objectKey(inv.target.service, inv.target.key);
  const state = new Map<string, Payload>(cx.state.objectState(key));
  write(state);
  cx.state.setObjectState(key, state);
}

/** A malformed awakeable id resolves nothing (the SDK validates ids; `apply` must never throw on input). */
function completeAwakeable(cx: ApplyContext, awakeableId: string, result: Completion): void {
  let target: ReturnType<typeof parseAwakeableId>;
  try {
    target = parseAwakeableId(awakeableId);
  } catch {
    return;
  }
  if (!inCluster(cx, target.invocationId)) return;
  enqueue(cx, partitionOfInvocationId(target.invocationId), {
    kind: "complete-entry",
    invocationId: target.invocationId,
    entryIndex: target.entryIndex,
    result,
    awakeableOnly: true,
  });
}

function promiseGet(
  cx: ApplyContext,
  inv: Invocation,
  entry: Extract<CompletableEntry, { kind: "promiseGet" }>,
): void {
  if (entry.result !== undefined) return;
  const key = promiseKey(inv.target, entry.name);
  const value = cx.state.promise(key);
  if (value !== undefined) {
    entry.result = value;
    return;
  }
  const waiter = { invocationId: inv.id, entryIndex: entry.index };
  cx.state.setPromiseWaiters(key, [...(cx.state.promiseWaiters(key) ?? []), waiter]);
}

/**
 * Durable promises complete once; the first completion wins and later ones get 409. Waiters live in
 * this partition (same workflow id), so they are completed right here, waking suspended ones.
 */
function promiseComplete(
  cx: ApplyContext,
  inv: Invocation,
  name: string,
  completion: Completion,
  entry: Extract<CompletableEntry, { kind: "promiseComplete" }>,
): void {
  const key = promiseKey(inv.target, name);
  if (cx.state.promise(key) !== undefined) {
    entry.result ??= { kind: "failure", failure: { code: 409, message: "promise already completed" } };
    return;
  }
  cx.state.setPromise(key, completion);
  entry.result ??= empty();
  const waiters = cx.state.promiseWaiters(key) ?? [];
  cx.state.setPromiseWaiters(key, undefined);
  for (const waiter of waiters) {
    const waiting = cx.state.invocation(waiter.invocationId);
    if (waiting !== undefined) completeEntry(cx, waiting, waiter.entryIndex, completion);
  }
}

/** An id whose partition does not exist in this cluster names no invocation. */
function inCluster(cx: ApplyContext, invocationId: InvocationId): boolean {
  return partitionOfInvocationId(invocationId) < cx.state.partitions;
}
