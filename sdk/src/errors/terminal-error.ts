const TERMINAL_ERROR = Symbol.for("capstan.TerminalError");

/** Options of a TerminalError; `code` follows HTTP status semantics. */
export interface TerminalErrorOptions {
  /** HTTP-like status; 500 when absent. */
  code?: number;
  /** Small string map recorded with the failure and returned to the caller. */
  metadata?: Record<string, string>;
  cause?: unknown;
}

/**
 * A failure that must not be retried: it becomes the invocation's result (outcome `failed`), or the
 * recorded result of a `ctx.run` step, and is rethrown at the caller's await.
 *
 * @example
 * if (!order.items.length) throw new TerminalError("empty order", { code: 400 });
 * // the runtime records the failure and does not retry; the caller gets a 400
 */
export class TerminalError extends Error {
  override readonly name: string = "TerminalError";
  readonly [TERMINAL_ERROR] = true;
  readonly code: number;
  readonly metadata: Record<string, string> | undefined;
  constructor(message: string, options: TerminalErrorOptions = {}) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.code = options.code ?? 500;
    this.metadata = options.metadata;
  }
}

/**
 * True for a TerminalError (and its subclasses CancelledError and TimeoutError), even from another copy
 * of the SDK in the same bundle.
 *
 * @example
 * try { await ctx.run("charge", charge) } catch (e) { if (isTerminalError(e)) await ctx.run("refund", refund) }
 */
export function isTerminalError(e: unknown): e is TerminalError {
  return typeof e === "object" && e !== null && (e as Record<symbol, unknown>)[TERMINAL_ERROR] === true;
}
