/** Read models of an invocation for the admin API, CLI and SQL views. */
import type { Invocation } from "../core/state";
import type { InvocationSummary } from "../server/runtime-api";

export function summarize(inv: Invocation): InvocationSummary {
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
    modifiedAtMs: inv.modifiedAtMs,
    ...(inv.completedAtMs !== undefined && { completedAtMs: inv.completedAtMs }),
    ...(inv.lastFailure !== undefined && { lastFailure: inv.lastFailure }),
  };
}
