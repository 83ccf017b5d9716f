/** A refused request: HTTP status plus a stable UPPER_SNAKE code (listed in docs/errors.md). */
export class ApiError extends Error {
  override readonly name = "ApiError";
  /** Response headers the refusal needs (e.g. `WWW-Authenticate` on a 401). */
  readonly headers: Record<string, string> | undefined;
  /** Sent as `retry-after`: the request may succeed if retried after this long. */
  readonly retryAfterSeconds: number | undefined;
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options?: { cause?: unknown; headers?: Record<string, string>; retryAfterSeconds?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.headers = options?.headers;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof Error && e.name === "ApiError" && typeof (e as ApiError).status === "number";
}
