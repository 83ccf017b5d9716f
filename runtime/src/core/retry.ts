/**
 * Retries of failed attempts, bounded by the invocation's policy. Once exhausted the invocation is
 * paused (default: never hot-loop on Lambda's bill; an operator resumes it after a fix) or failed.
 */
import type { ApplyContext } from "./context";
import { failureCompletion } from "./failures";
import { finishInvocation } from "./lifecycle";
import type { Invocation, LastFailure, ResolvedRetryPolicy } from "./state";
import { addTimer, timerIds } from "./timers";

/**
 * Delay before retry number `failures` (1 = after the first failure): exponential, capped. A delay
 * the handler asked for (`retryAfterMs`, e.g. from a 429) wins.
 *
 * @example
 * backoffMs({ initialIntervalMs: 500, factor: 2, maxIntervalMs: 60_000, ... }, 3) // 2000
 */
export function backoffMs(policy: ResolvedRetryPolicy, failures: number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return Math.max(0, Math.round(retryAfterMs));
  const exponential = policy.initialIntervalMs * policy.factor ** Math.max(0, failures - 1);
  return Math.max(0, Math.round(Math.min(exponential, policy.maxIntervalMs)));
}

/** A copy with a fixed field order (snapshots serialize byte-identically after a restore). */
export function copyRetryPolicy(policy: ResolvedRetryPolicy): ResolvedRetryPolicy {
  return {
    initialIntervalMs: policy.initialIntervalMs,
    factor: policy.factor,
    maxIntervalMs: policy.maxIntervalMs,
    maxAttempts: policy.maxAttempts ?? undefined,
    maxDurationMs: policy.maxDurationMs ?? undefined,
    onMaxAttempts: policy.onMaxAttempts,
  };
}

/** True when no further attempt is allowed after `inv`'s latest failure. */
export function retriesExhausted(inv: Invocation, atMs: number): boolean {
  const { maxAttempts, maxDurationMs } = inv.retryPolicy;
  if (maxAttempts !== undefined && inv.attemptsSinceLastEntry >= maxAttempts) return true;
  return maxDurationMs !== undefined && atMs - (inv.firstFailureAtMs ?? atMs) >= maxDurationMs;
}

/** What the handler told about a failure besides its message (outcome `retry`). */
export type FailureDetails = Pick<LastFailure, "stack" | "entry">;

/** The current attempt failed retryably: back off with a retry timer, or give up per the policy. */
export function retryOrGiveUp(
  cx: ApplyContext,
  inv: Invocation,
  message: string,
  retryAfterMs?: number,
  details: FailureDetails = {},
): void {
  inv.attemptsSinceLastEntry += 1;
  inv.firstFailureAtMs ??= cx.atMs;
  const failure: LastFailure = { message, atMs: cx.atMs, attempt: inv.attempt };
  if (details.stack !== undefined) failure.stack = details.stack;
  if (details.entry !== undefined) failure.entry = { ...details.entry };
  inv.lastFailure = failure;
  inv.modifiedAtMs = cx.atMs;
  inv.awaiting = [];
  if (retriesExhausted(inv, cx.atMs)) {
    if (inv.retryPolicy.onMaxAttempts === "fail") {
      finishInvocation(cx, inv, failureCompletion({ code: 500, message: `retries exhausted: ${message}` }));
    } else {
      inv.status = "paused";
    }
    return;
  }
  inv.status = "backing-off";
  const fireAtMs = cx.atMs + backoffMs(inv.retryPolicy, inv.attemptsSinceLastEntry, retryAfterMs);
  failure.nextRetryAtMs = fireAtMs;
  addTimer(cx, {
    kind: "retry",
    invocationId: inv.id,
    attempt: inv.attempt,
    id: timerIds.retry(inv.id, inv.attempt),
    fireAtMs,
  });
}
