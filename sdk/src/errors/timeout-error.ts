import { TerminalError } from "./terminal-error";

const TIMEOUT_ERROR = Symbol.for("capstan.TimeoutError");

/**
 * Raised by `promise.orTimeout(duration)` when the timer fires first (code 408). Terminal: the timed-out
 * operation keeps going on the runtime (a call is not cancelled by it).
 *
 * @example
 * const { promise } = ctx.awakeable<string>();
 * const answer = await promise.orTimeout({ hours: 1 }); // TimeoutError after one hour
 */
export class TimeoutError extends TerminalError {
  override readonly name = "TimeoutError";
  readonly [TIMEOUT_ERROR] = true;
  constructor(message = "timed out", options: { metadata?: Record<string, string> } = {}) {
    super(message, { code: 408, ...options });
  }
}

/**
 * True for a TimeoutError from any copy of the SDK.
 *
 * @example
 * catch (e) { if (isTimeoutError(e)) return "no answer in time" }
 */
export function isTimeoutError(e: unknown): e is TimeoutError {
  return typeof e === "object" && e !== null && (e as Record<symbol, unknown>)[TIMEOUT_ERROR] === true;
}
