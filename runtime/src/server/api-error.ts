/** A refused request: HTTP status plus a stable UPPER_SNAKE code (listed in docs/errors.md). */
export class ApiError extends Error {
  override readonly name = "ApiError";
  /** Response headers the refusal needs (e.g. `WWW-Authenticate` on a 401). */
  readonly headers: Record<string, string> | undefined;
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options?: { cause?: unknown; headers?: Record<string, string> },
  ) {
    super(message, options);
    this.headers = options?.headers;
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof Error && e.name === "ApiError" && typeof (e as ApiError).status === "number";
}
