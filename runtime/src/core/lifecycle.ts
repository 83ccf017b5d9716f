/**
 * The lifecycle of an invocation: start (respecting the per-key lock), attempts, finish, removal.
 * Status transitions happen only here and in retry.ts, so the lock invariant (guarantee 3: one
 * exclusive handler per object key) has a single home.
 */
import type { Completion } from "@capstan/sdk/protocol";
import { partitionOfInvocationId } from "@capstan/sdk/protocol";
import type { ApplyContext } from "./context";
import { idempotencyTableKey, promiseKey, promiseKeyPrefix, workflowKey } from "./keys";
import { enqueue } from "./outbox";
import type { Invocation } from "./state";
import { objectKey } from "./state";
import { addTimer, cancelInvocationTimers, deleteTimer, timerIds } from "./timers";

/** Exclusive object handlers and a workflow's `run` hold their key's lock from start to completion. */
export function lockKeyOf(inv: Pick<Invocation, "handlerKind" | "target">): string | undefined {
  if (inv.target.key === undefined) return undefined;
  if (inv.handlerKind !== "exclusive" && inv.handlerKind !== "workflow") return undefined;
  return objectKey(inv.target.service, inv.target.key);
}

/** Starts the next attempt: the processor builds the request from the state after this apply. */
export function startAttempt(cx: ApplyContext, inv: Invocation): void {
  deleteTimer(cx, timerIds.retry(inv.id, inv.attempt));
  inv.attempt += 1;
  inv.status = "running";
  inv.awaiting = [];
  inv.handlerInvocations += 1;
  inv.modifiedAtMs = cx.atMs;
  cx.effects.push({ kind: "invoke", invocationId: inv.id, attempt: inv.attempt });
}

/** First start of a new or scheduled invocation: takes the key's lock, or queues in the key's inbox. */
export function startOrEnqueue(cx: ApplyContext, inv: Invocation): void {
  const lockKey = lockKeyOf(inv);
  if (lockKey !== undefined) {
    const holder = cx.state.lock(lockKey);
    if (holder !== undefined && holder !== inv.id) {
      inv.status = "inboxed";
      inv.modifiedAtMs = cx.atMs;
      cx.state.setInbox(lockKey, [...(cx.state.inbox(lockKey) ?? []), inv.id]);
      return;
    }
    cx.state.setLock(lockKey, inv.id);
  }
  startAttempt(cx, inv);
}

/** Gives up the key's lock (if held) and hands it to the oldest inboxed invocation of that key. */
export function releaseLock(cx: ApplyContext, inv: Invocation): void {
  const lockKey = lockKeyOf(inv);
  if (lockKey === undefined || cx.state.lock(lockKey) !== inv.id) return;
  cx.state.setLock(lockKey, undefined);
  const inbox = cx.state.inbox(lockKey);
  if (inbox === undefined) return;
  let taken = 0;
  while (taken < inbox.length) {
    const next = cx.state.invocation(inbox[taken++]!);
    if (next !== undefined && next.status === "inboxed") {
      cx.state.setLock(lockKey, next.id);
      startAttempt(cx, next);
      break;
    }
  }
  cx.state.setInbox(lockKey, inbox.slice(taken));
}

function leaveInbox(cx: ApplyContext, inv: Invocation): void {
  const lockKey = lockKeyOf(inv);
  if (lockKey === undefined) return;
  const inbox = cx.state.inbox(lockKey);
  if (inbox === undefined) return;
  cx.state.setInbox(
    lockKey,
    inbox.filter((id) => id !== inv.id),
  );
}

/** Forgets the invocation's pending `promiseGet` entries, so a later promise completion skips them. */
function leavePromiseWaiters(cx: ApplyContext, inv: Invocation): void {
  for (const entry of inv.journal) {
    if (entry.kind !== "promiseGet" || entry.result !== undefined) continue;
    const key = promiseKey(inv.target, entry.name);
    const waiters = cx.state.promiseWaiters(key)?.filter((w) => w.invocationId !== inv.id);
    cx.state.setPromiseWaiters(key, waiters);
  }
}

/**
 * Terminal transition, whatever the cause (output, failure, exhausted retries, cancel, kill): answers
 * the ingress, the caller and every attached invocation, frees the lock for the next in the inbox and
 * starts the retention clock. With `retentionMs` 0 the invocation is removed at once (its idempotency
 * key and workflow id are then free for a new run).
 */
export function finishInvocation(cx: ApplyContext, inv: Invocation, result: Completion): void {
  if (inv.status === "inboxed") leaveInbox(cx, inv);
  cancelInvocationTimers(cx, inv);
  leavePromiseWaiters(cx, inv);
  inv.status = "completed";
  inv.result = result;
  inv.completedAtMs = cx.atMs;
  inv.modifiedAtMs = cx.atMs;
  inv.awaiting = [];
  inv.cancelPending = false;
  cx.effects.push({ kind: "invocation-finished", invocationId: inv.id, result });
  const waiters = inv.caller === undefined ? inv.attachedBy : [inv.caller, ...inv.attachedBy];
  for (const waiter of waiters) {
    enqueue(cx, partitionOfInvocationId(waiter.invocationId), {
      kind: "complete-entry",
      invocationId: waiter.invocationId,
      entryIndex: waiter.entryIndex,
      result,
    });
  }
  inv.attachedBy = [];
  releaseLock(cx, inv);
  if (inv.retentionMs > 0) {
    addTimer(cx, {
      kind: "expire",
      invocationId: inv.id,
      id: timerIds.expire(inv.id),
      fireAtMs: cx.atMs + inv.retentionMs,
    });
  } else {
    removeInvocation(cx, inv);
  }
}

/**
 * Drops a completed invocation with its idempotency and workflow entries. Removing a workflow's `run`
 * also clears the workflow's K/V state and durable promises (as Restate does when a workflow's
 * retention ends), so the workflow id can run afresh.
 */
export function removeInvocation(cx: ApplyContext, inv: Invocation): void {
  const { state } = cx;
  state.deleteInvocation(inv.id);
  deleteTimer(cx, timerIds.expire(inv.id));
  if (inv.idempotencyKey !== undefined) {
    const key = idempotencyTableKey(inv.target, inv.idempotencyKey);
    if (state.idempotency(key) === inv.id) state.setIdempotency(key, undefined);
  }
  if (inv.handlerKind === "workflow") {
    const key = workflowKey(inv.target);
    if (state.workflow(key) === inv.id) {
      state.setWorkflow(key, undefined);
      state.setObjectState(key, undefined);
      for (const promise of state.promiseKeysWithPrefix(promiseKeyPrefix(inv.target))) {
        state.setPromise(promise, undefined);
      }
    }
  }
  cx.effects.push({ kind: "invocation-removed", invocationId: inv.id });
}
