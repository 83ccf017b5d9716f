/** Read models of an invocation for the admin API, CLI and SQL views. */
import type { Invocation } from "../core/state";
import type { InvocationSummary } from "../server/runtime-api";

/** `scheduledAtMs`: when a scheduled (delayed) invocation starts, as its partition's timer says. */
export function summarize(inv: Invocation, scheduledAtMs: number | undefined): InvocationSummary {
  return {
    id: inv.id,
    target: inv.target,
    status: inv.status,
    ...(inv.status === "completed" && { outcome: inv.result?.kind === "failure" ? "failed" : "succeeded" }),
    attempt: inv.attempt,
    handlerInvocations: inv.handlerInvocations,
    deploymentId: inv.deploymentId,
    ...(inv.idempotencyKey !== undefined && { idempotencyKey: inv.idempotencyKey }),
    createdAtMs: inv.createdAtMs,
    ...(scheduledAtMs !== undefined && { scheduledAtMs }),
    ...(inv.cancelPending && inv.status !== "completed" && { cancelRequested: true }),
    modifiedAtMs: inv.modifiedAtMs,
    ...(inv.completedAtMs !== undefined && { completedAtMs: inv.completedAtMs }),
    ...(inv.lastFailure !== undefined && { lastFailure: failureSummary(inv) }),
  };
}

/** The last failure without its stack (lists stay small); the retry time only while backing off. */
function failureSummary(inv: Invocation): NonNullable<InvocationSummary["lastFailure"]> {
  const { stack: _stack, nextRetryAtMs, ...rest } = inv.lastFailure!;
  return { ...rest, ...(inv.status === "backing-off" && nextRetryAtMs !== undefined && { nextRetryAtMs }) };
}
