const RETRYABLE_ERROR = Symbol.for("capstan.RetryableError");

/**
 * A transient failure with a hint of when to retry. Any non-terminal error is retried; this one lets
 * the code choose the delay (e.g. from a `Retry-After` header).
 *
 * @example
 * if (res.status === 429) throw new RetryableError("rate limited", { retryAfterMs: 5_000 });
 * // the attempt ends with outcome `retry`; the runtime re-invokes the handler after about 5 s
 */
export class RetryableError extends Error {
  override readonly name = "RetryableError";
  readonly [RETRYABLE_ERROR] = true;
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options: { retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * True for a RetryableError from any copy of the SDK.
 *
 * @example
 * if (isRetryableError(e)) console.log(`retry in ${e.retryAfterMs} ms`);
 */
export function isRetryableError(e: unknown): e is RetryableError {
  return typeof e === "object" && e !== null && (e as Record<symbol, unknown>)[RETRYABLE_ERROR] === true;
}
