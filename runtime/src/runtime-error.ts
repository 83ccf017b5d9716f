/**
 * A request the runtime refuses, named by a stable UPPER_SNAKE code (docs/errors.md) and free of any
 * transport: the servers map codes to HTTP statuses (server/error-status.ts), a remote partition
 * router could map them to its own wire.
 */
export class RuntimeError extends Error {
  override readonly name = "RuntimeError";
  /** When set, the caller may retry after about this long (a partition that is moving or overloaded). */
  readonly retryAfterMs: number | undefined;

  /**
   * @example
   * throw new RuntimeError("INVOCATION_NOT_FOUND", `invocation ${id} not found`); // the ingress answers 404
   */
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/** True for a RuntimeError, also one from another copy of this module (checked by name, not class). */
export function isRuntimeError(e: unknown): e is RuntimeError {
  return e instanceof Error && e.name === "RuntimeError" && typeof (e as RuntimeError).code === "string";
}
