import type { FailedEntryRef, Outcome } from "../protocol";
import { MAX_FAILURE_MESSAGE_LENGTH } from "../protocol";
import { errorToFailure, messageOf } from "../errors/failure";
import { isRetryableError } from "../errors/retryable-error";
import type { TerminalError } from "../errors/terminal-error";

/**
 * Outcome `retry` for any non-terminal error; RetryableError carries its own delay. `entry` names the
 * step that threw, shown to operators (describe, logs).
 */
export function retryOutcome(e: unknown, retryAfterMs?: number, entry?: FailedEntryRef): Outcome {
  const error: { message: string; name?: string; stack?: string } = {
    message: messageOf(e).slice(0, MAX_FAILURE_MESSAGE_LENGTH),
  };
  if (e instanceof Error) {
    error.name = e.name;
    if (e.stack !== undefined) error.stack = e.stack.slice(0, MAX_FAILURE_MESSAGE_LENGTH);
  }
  const after = isRetryableError(e) && e.retryAfterMs !== undefined ? e.retryAfterMs : retryAfterMs;
  return {
    kind: "retry",
    error,
    ...(after !== undefined && { retryAfterMs: Math.max(0, Math.round(after)) }),
    ...(entry !== undefined && { entry }),
  };
}

/** Outcome `failed` for a TerminalError. */
export function failedOutcome(e: TerminalError): Outcome {
  return { kind: "failed", failure: errorToFailure(e) };
}
