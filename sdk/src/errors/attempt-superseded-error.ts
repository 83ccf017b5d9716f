import { withCode } from "./sdk-error-codes";

const ATTEMPT_SUPERSEDED = Symbol.for("capstan.AttemptSupersededError");

/**
 * The runtime answered a checkpoint with 409 INVOKE_STALE_ATTEMPT: a newer attempt owns the invocation.
 * The SDK stops this attempt at once: every further `ctx` call throws this, and `endpoint.handle`
 * rejects with it (the Lambda adapter lets it fail the function; the HTTP adapter answers 409).
 *
 * @example
 * try { await endpoint.handle(msg) } catch (e) { if (isAttemptSupersededError(e)) return; throw e }
 */
export class AttemptSupersededError extends Error {
  override readonly name = "AttemptSupersededError";
  readonly [ATTEMPT_SUPERSEDED] = true;
  readonly code = "SDK_ATTEMPT_SUPERSEDED";
  constructor(message: string, options?: { cause?: unknown }) {
    super(withCode("SDK_ATTEMPT_SUPERSEDED", message), options);
  }
}

/**
 * True for an AttemptSupersededError from any copy of the SDK.
 *
 * @example
 * if (isAttemptSupersededError(e)) return; // a newer attempt is running; nothing to report
 */
export function isAttemptSupersededError(e: unknown): e is AttemptSupersededError {
  return typeof e === "object" && e !== null && (e as Record<symbol, unknown>)[ATTEMPT_SUPERSEDED] === true;
}
