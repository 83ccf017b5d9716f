/**
 * Turns a handler's discovered options into the settings stamped on a new invocation. Defaults follow
 * Restate: retries start at 500 ms, double, cap at 60 s; attempts are bounded, then the invocation is
 * paused (never a hot loop on Lambda's bill) until an operator resumes it.
 */
import type { ResolvedRetryPolicy, NewInvocation } from "../core/state";
import type { ResolvedHandler } from "../registry/deployment-registry";

export const DEFAULT_RETRY_POLICY: ResolvedRetryPolicy = {
  initialIntervalMs: 500,
  factor: 2,
  maxIntervalMs: 60_000,
  maxAttempts: 50,
  maxDurationMs: undefined,
  onMaxAttempts: "pause",
};
/** Below Lambda's 15-minute maximum, so the runtime gives up before Lambda does. */
export const DEFAULT_ABORT_TIMEOUT_MS = 14 * 60_000;
export const MAX_ABORT_TIMEOUT_MS = 15 * 60_000;
/** Results of invocations with an idempotency key, and workflows, are kept this long by default. */
export const DEFAULT_IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60_000;

export function resolveInvocationSettings(
  resolved: ResolvedHandler,
  inv: Pick<NewInvocation, "idempotencyKey">,
  completedRetentionMs: number,
): Pick<
  NewInvocation,
  "retryPolicy" | "abortTimeoutMs" | "retentionMs" | "serviceKind" | "handlerKind" | "deploymentId"
> {
  const o = resolved.options;
  const p = o.retryPolicy ?? {};
  const keepsResult = inv.idempotencyKey !== undefined || resolved.handler.kind === "workflow";
  return {
    serviceKind: resolved.service.kind,
    handlerKind: resolved.handler.kind,
    deploymentId: resolved.deployment.id,
    retryPolicy: {
      initialIntervalMs: p.initialIntervalMs ?? DEFAULT_RETRY_POLICY.initialIntervalMs,
      factor: p.factor ?? DEFAULT_RETRY_POLICY.factor,
      maxIntervalMs: p.maxIntervalMs ?? DEFAULT_RETRY_POLICY.maxIntervalMs,
      maxAttempts: p.maxAttempts ?? DEFAULT_RETRY_POLICY.maxAttempts,
      maxDurationMs: p.maxDurationMs ?? DEFAULT_RETRY_POLICY.maxDurationMs,
      onMaxAttempts: p.onMaxAttempts ?? DEFAULT_RETRY_POLICY.onMaxAttempts,
    },
    abortTimeoutMs: Math.min(o.abortTimeoutMs ?? DEFAULT_ABORT_TIMEOUT_MS, MAX_ABORT_TIMEOUT_MS),
    retentionMs: keepsResult
      ? (o.idempotencyRetentionMs ?? DEFAULT_IDEMPOTENCY_RETENTION_MS)
      : (o.journalRetentionMs ?? completedRetentionMs),
  };
}
