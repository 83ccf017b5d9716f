/** A refused request: HTTP status plus a stable UPPER_SNAKE code (listed in docs/errors.md). */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof Error && e.name === "ApiError" && typeof (e as ApiError).status === "number";
}
