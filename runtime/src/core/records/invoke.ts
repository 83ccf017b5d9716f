/**
 * `invoke`: a new invocation from the ingress, a call or a send. Idempotency keys and workflow ids map
 * a repeated request to the invocation it first created (guarantee 4; a workflow's `run` executes
 * exactly once per id within retention).
 */
import { partitionOfInvocationId } from "@capstan/sdk/protocol";
import type { ApplyContext } from "../context";
import { idempotencyTableKey, workflowKey } from "../keys";
import { startOrEnqueue } from "../lifecycle";
import { enqueue } from "../outbox";
import type { RecordOf } from "../records";
import { copyRetryPolicy } from "../retry";
import type { Invocation, NewInvocation } from "../state";
import { addTimer, timerIds } from "../timers";
import { ownTrace } from "../trace-ids";

export function applyInvoke(cx: ApplyContext, record: RecordOf<"invoke">): void {
  const request = record.invocation;
  const existing = findExisting(cx, request);
  if (existing !== undefined) {
    joinExisting(cx, existing, request);
    return;
  }
  const inv = createInvocation(request, cx.atMs);
  cx.state.putInvocation(inv);
  if (request.idempotencyKey !== undefined) {
    cx.state.setIdempotency(idempotencyTableKey(request.target, request.idempotencyKey), inv.id);
  }
  if (request.handlerKind === "workflow") cx.state.setWorkflow(workflowKey(request.target), inv.id);
  cx.effects.push({
    kind: "invocation-accepted",
    invocationId: inv.id,
    requestedId: request.id,
    existing: false,
  });
  if (request.notBeforeMs !== undefined && request.notBeforeMs > cx.atMs) {
    inv.status = "scheduled";
    addTimer(cx, {
      kind: "delayed-invoke",
      invocationId: inv.id,
      id: timerIds.delayedInvoke(inv.id),
      fireAtMs: request.notBeforeMs,
    });
    return;
  }
  startOrEnqueue(cx, inv);
}

/** The invocation this request resolves to: same idempotency key, same workflow id, or same id (a resend). */
function findExisting(cx: ApplyContext, request: NewInvocation): Invocation | undefined {
  const { state } = cx;
  const candidates = [
    request.idempotencyKey === undefined
      ? undefined
      : state.idempotency(idempotencyTableKey(request.target, request.idempotencyKey)),
    request.handlerKind === "workflow" ? state.workflow(workflowKey(request.target)) : undefined,
    request.id,
  ];
  for (const id of candidates) {
    const inv = id === undefined ? undefined : state.invocation(id);
    if (inv !== undefined) return inv;
  }
  return undefined;
}

/** A repeated request gets the first invocation's result, now or when it finishes. */
function joinExisting(cx: ApplyContext, existing: Invocation, request: NewInvocation): void {
  cx.effects.push({
    kind: "invocation-accepted",
    invocationId: existing.id,
    requestedId: request.id,
    existing: true,
  });
  const caller = request.caller;
  if (caller === undefined) return;
  if (existing.status === "completed" && existing.result !== undefined) {
    enqueue(cx, partitionOfInvocationId(caller.invocationId), {
      kind: "complete-entry",
      invocationId: caller.invocationId,
      entryIndex: caller.entryIndex,
      result: existing.result,
    });
  } else if (
    !existing.attachedBy.some(
      (w) => w.invocationId === caller.invocationId && w.entryIndex === caller.entryIndex,
    )
  ) {
    existing.attachedBy.push(caller);
  }
}

function createInvocation(request: NewInvocation, atMs: number): Invocation {
  return {
    id: request.id,
    target: request.target,
    serviceKind: request.serviceKind,
    handlerKind: request.handlerKind,
    deploymentId: request.deploymentId,
    headers: request.headers,
    idempotencyKey: request.idempotencyKey,
    journal: [{ index: 0, kind: "input", value: request.input }],
    entryTimes: [[atMs, atMs]],
    completionCount: 0,
    status: "running",
    attempt: 0,
    attemptsSinceLastEntry: 0,
    firstFailureAtMs: undefined,
    awaiting: [],
    retryPolicy: copyRetryPolicy(request.retryPolicy),
    abortTimeoutMs: request.abortTimeoutMs,
    retentionMs: request.retentionMs,
    lastFailure: undefined,
    caller: request.caller,
    attachedBy: [],
    cancelPending: false,
    result: undefined,
    createdAtMs: atMs,
    modifiedAtMs: atMs,
    completedAtMs: undefined,
    handlerInvocations: 0,
    trace: request.trace ?? ownTrace(request.id),
  };
}
