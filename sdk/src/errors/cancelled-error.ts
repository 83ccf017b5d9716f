import { TerminalError } from "./terminal-error";

const CANCELLED_ERROR = Symbol.for("capstan.CancelledError");

/**
 * Thrown at the await the handler was blocked on when its invocation is cancelled (code 409). Catch it
 * to compensate; further `ctx.run` steps still work, and rethrowing it fails the invocation.
 *
 * @example
 * try { await ctx.sleep({ days: 1 }) } catch (e) {
 *   if (isCancelledError(e)) await ctx.run("release", release);
 *   throw e;
 * }
 */
export class CancelledError extends TerminalError {
  override readonly name = "CancelledError";
  readonly [CANCELLED_ERROR] = true;
  constructor(message = "invocation cancelled", options: { metadata?: Record<string, string> } = {}) {
    super(message, { code: 409, ...options });
  }
}

/**
 * True for a CancelledError from any copy of the SDK.
 *
 * @example
 * catch (e) { if (isCancelledError(e)) await ctx.run("undo", undo); throw e }
 */
export function isCancelledError(e: unknown): e is CancelledError {
  return typeof e === "object" && e !== null && (e as Record<symbol, unknown>)[CANCELLED_ERROR] === true;
}
