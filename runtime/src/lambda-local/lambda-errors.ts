/**
 * The two ways Lambda's Invoke reports failure, kept apart because the caller decides differently:
 *
 * - An API error (`LambdaApiError`): the request never ran the function. Non-2xx status, the error type in
 *   the `x-amzn-ErrorType` header and a `{"Type","message"}` body — the shape `@aws-sdk/client-lambda`
 *   turns into named exceptions (`ResourceNotFoundException`, `TooManyRequestsException`, ...).
 * - A function error (`FunctionErrorPayload`): the function ran and failed. Status 200 with
 *   `X-Amz-Function-Error: Unhandled` and the error as the payload.
 */

/** API error types this endpoint answers with; each maps to one HTTP status. */
export type LambdaApiErrorType =
  | "ResourceNotFoundException"
  | "InvalidRequestContentException"
  | "InvalidParameterValueException"
  | "RequestEntityTooLargeException"
  | "TooManyRequestsException"
  | "UnknownOperationException"
  | "ServiceException";

const STATUS_BY_TYPE: Record<LambdaApiErrorType, number> = {
  ResourceNotFoundException: 404,
  InvalidRequestContentException: 400,
  InvalidParameterValueException: 400,
  // Real Lambda answers an oversized Invoke body with this (unmodelled) type, not the modelled
  // RequestTooLargeException; see github.com/aws/aws-sdk/issues/45. The SDK surfaces it by name.
  RequestEntityTooLargeException: 413,
  TooManyRequestsException: 429,
  UnknownOperationException: 404,
  ServiceException: 500,
};

/** A refused Lambda API request. `fields` are extra body members (e.g. `Reason` for throttling). */
export class LambdaApiError extends Error {
  override readonly name = "LambdaApiError";
  readonly status: number;
  constructor(
    readonly errorType: LambdaApiErrorType,
    message: string,
    readonly fields: Readonly<Record<string, string>> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.status = STATUS_BY_TYPE[errorType];
  }

  /** `Type` is "User" for caller mistakes and "Service" for our faults, as Lambda labels them. */
  toBody(): Record<string, string> {
    return { ...this.fields, Type: this.status >= 500 ? "Service" : "User", message: this.message };
  }
}

export function isLambdaApiError(e: unknown): e is LambdaApiError {
  return (
    e instanceof Error && e.name === "LambdaApiError" && typeof (e as LambdaApiError).status === "number"
  );
}

/**
 * A function error as the Node.js Lambda runtime reports it (`trace`), plus `stackTrace`, the name other
 * runtimes and some tools read.
 */
export interface FunctionErrorPayload {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace: readonly string[];
  readonly stackTrace: readonly string[];
}

/** Builds the payload for a runtime-level failure such as a timeout or a crashed environment. */
export function runtimeFunctionError(
  errorType: string,
  requestId: string,
  detail: string,
): FunctionErrorPayload {
  return { errorType, errorMessage: `RequestId: ${requestId} Error: ${detail}`, trace: [], stackTrace: [] };
}

/**
 * Normalises whatever a handler threw (Errors, strings, objects) into a function error payload.
 * Errors are recognised by shape, not `instanceof`: one that crossed from a worker thread (or another
 * vm realm) is not an instance of this realm's Error.
 */
export function errorToFunctionError(error: unknown): FunctionErrorPayload {
  if (isErrorLike(error)) {
    const trace = (error.stack ?? `${error.name}: ${error.message}`).split("\n");
    return { errorType: error.name || "Error", errorMessage: error.message, trace, stackTrace: trace };
  }
  if (typeof error === "string")
    return { errorType: "string", errorMessage: error, trace: [], stackTrace: [] };
  let message: string;
  try {
    message = JSON.stringify(error) ?? String(error);
  } catch {
    message = String(error);
  }
  return { errorType: typeof error, errorMessage: message, trace: [], stackTrace: [] };
}

function isErrorLike(value: unknown): value is Error {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Error).message === "string" &&
    typeof (value as Error).name === "string" &&
    (value instanceof Error || typeof (value as Error).stack === "string")
  );
}
