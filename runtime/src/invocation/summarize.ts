/** Read models of an invocation for the admin API, CLI and SQL views. */
import type { Invocation, PartitionState } from "../core/state";
import { timerIds } from "../core/timers";
import type { InvocationSummary } from "../server/runtime-api";

/** `state` is the partition's that holds `inv` (for the start time of a scheduled invocation). */
export function summarize(inv: Invocation, state: PartitionState): InvocationSummary {
  const scheduledAtMs =
    inv.status === "scheduled" ? state.timers.get(timerIds.delayedInvoke(inv.id))?.fireAtMs : undefined;
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
    ...(inv.lastFailure !== undefined && { lastFailure: inv.lastFailure }),
  };
}
