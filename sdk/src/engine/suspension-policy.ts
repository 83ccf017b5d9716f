import type { EntryKind } from "../protocol";
import { MAX_CHECKPOINT_WAIT_MS } from "../protocol";

/**
 * When to wait inline on the checkpoint long-poll instead of suspending. Waiting costs Lambda time;
 * suspending costs one more invocation (and a replay) when the result arrives.
 */
export interface InlineWaitPolicy {
  /** Expected wait of entries whose wait is unknown (calls, awakeables, promises, attach, lazy state). */
  defaultInlineWaitMs: number;
  /** Never wait inline longer than this, even when Lambda time remains. */
  maxInlineWaitMs: number;
  /** Kept free before the Lambda deadline to send the final response. */
  safetyMarginMs: number;
  /** Tolerated lateness of a timer after its wake-up time before giving up on it inline. */
  sleepGraceMs: number;
}

export const DEFAULT_INLINE_WAIT_POLICY: InlineWaitPolicy = {
  defaultInlineWaitMs: 1_000,
  maxInlineWaitMs: 10_000,
  safetyMarginMs: 2_000,
  sleepGraceMs: 1_000,
};

/** An entry the handler is blocked on, as the policy sees it. */
export interface AwaitedEntry {
  kind: EntryKind;
  /** Local-clock estimate of a sleep's wake-up time. */
  dueAtMs?: number;
  /** When the handler first blocked on this entry (local clock). */
  firstAwaitedAtMs: number;
}

export type WaitDecision = { kind: "wait"; waitMs: number } | { kind: "suspend" };

/**
 * Waits inline for the soonest expected completion when it fits the budget: the remaining Lambda time
 * minus the safety margin, capped by maxInlineWaitMs. An entry whose expected wait is used up (a call
 * still not back after defaultInlineWaitMs) no longer counts; when none counts, suspend.
 */
export function decideWait(
  awaited: readonly AwaitedEntry[],
  nowMs: number,
  remainingTimeMs: number | undefined,
  policy: InlineWaitPolicy,
): WaitDecision {
  const expected = awaited
    .map((e) =>
      e.kind === "sleep" && e.dueAtMs !== undefined
        ? e.dueAtMs + policy.sleepGraceMs - nowMs
        : e.firstAwaitedAtMs + policy.defaultInlineWaitMs - nowMs,
    )
    .filter((ms) => ms > 0);
  if (expected.length === 0) return { kind: "suspend" };
  const soonestMs = Math.min(...expected);
  const budgetMs = Math.min(
    policy.maxInlineWaitMs,
    remainingTimeMs === undefined ? Infinity : remainingTimeMs - policy.safetyMarginMs,
  );
  if (soonestMs > budgetMs) return { kind: "suspend" };
  return { kind: "wait", waitMs: Math.ceil(Math.min(soonestMs, MAX_CHECKPOINT_WAIT_MS)) };
}
