/**
 * The one place that decides whether a failed attempt is retried (with backoff) or terminal (the
 * runtime pauses the invocation until an operator resumes it). Adapters only describe what happened.
 */
import { assertNever } from "@capstan/sdk/protocol";
import { InvokeError } from "./invoker";

/** Messages quoted from a failure (response bodies, function errors) are cut to this length. */
export const MAX_FAILURE_DETAIL_LENGTH = 1_024;

/** What went wrong with one attempt, as observed by an adapter. */
export type InvokeFailure =
  /** The deployment answered with a non-2xx HTTP status (HttpInvoker). */
  | { kind: "http-status"; status: number; body?: string }
  /** The AWS API refused the call: `name` is the SDK's exception name (Lambda's x-amzn-ErrorType). */
  | { kind: "aws-error"; name: string; status?: number; message?: string }
  /** Lambda ran the function and it failed (`X-Amz-Function-Error`: Unhandled / Handled). */
  | { kind: "function-error"; functionError: string; errorType?: string; message?: string }
  /** No answer: connection refused/reset, DNS, TLS, socket closed. */
  | { kind: "network"; error: unknown }
  /** The attempt's signal fired (abort timeout, runtime shutdown, attempt superseded). */
  | { kind: "aborted"; reason?: unknown }
  /** Too many attempts already wait for an invoke slot on this node. */
  | { kind: "overloaded"; waiting: number }
  /** The request would exceed the payload limit; it was not sent. */
  | { kind: "request-too-large"; sizeBytes: number; limitBytes: number }
  /** The answer does not decode as the protocol (a ProtocolError, or a body over the size bound). */
  | { kind: "bad-response"; error: unknown };

const THROTTLING = new Set([
  "TooManyRequestsException",
  "ThrottlingException",
  "Throttling",
  "ThrottledException",
  "RequestLimitExceeded",
  "EC2ThrottledException",
]);

/** Lambda-side trouble that clears up by itself: retry. */
const TRANSIENT = new Set([
  "ServiceException",
  "ServiceUnavailableException",
  "InternalFailure",
  "EC2UnexpectedException",
  "ENILimitReachedException",
  "SubnetIPAddressLimitReachedException",
  "ResourceNotReadyException",
  "ResourceConflictException",
  "EFSIOException",
  "EFSMountConnectivityException",
  "EFSMountTimeoutException",
  "SnapStartTimeoutException",
  "SnapStartNotReadyException",
  "RecursiveInvocationException",
]);

const NOT_FOUND = new Set(["ResourceNotFoundException", "FunctionNotFoundException"]);

/** Permissions an operator must grant: retrying cannot help. */
const ACCESS_DENIED = new Set([
  "AccessDeniedException",
  "AccessDenied",
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "ExpiredTokenException",
  "EC2AccessDeniedException",
  "KMSAccessDeniedException",
]);

/** Lambda's errorType for a response over its payload limit. */
const RESPONSE_TOO_LARGE = "Function.ResponseSizeTooLarge";

/** The request or the function's configuration is wrong: the same call fails the same way. */
const MISCONFIGURED = new Set([
  "InvalidParameterValueException",
  "InvalidRequestContentException",
  "UnsupportedMediaTypeException",
  "InvalidRuntimeException",
  "InvalidZipFileException",
  "InvalidSecurityGroupIDException",
  "InvalidSubnetIDException",
  "KMSDisabledException",
  "KMSInvalidStateException",
  "KMSNotFoundException",
  "EFSMountFailureException",
  "ValidationException",
]);

/**
 * Classifies one failed attempt into an InvokeError. Unknown AWS errors fall back to their HTTP
 * status (5xx and unknown: retry; other 4xx: terminal).
 *
 * A response that does not decode (INVOKE_BAD_RESPONSE) is terminal: the same deployment code would
 * answer the same request the same way, so retrying only burns invocations; pausing lets an operator
 * fix the deployment and resume.
 *
 * @example
 * catch (e) { throw classifyInvokeFailure({ kind: "network", error: e }) } // INVOKE_NETWORK, retryable
 */
export function classifyInvokeFailure(failure: InvokeFailure): InvokeError {
  const cause = { cause: failure };
  switch (failure.kind) {
    case "http-status":
      return fromStatus(
        failure.status,
        `deployment answered HTTP ${failure.status}${detail(failure.body)}`,
        cause,
      );
    case "aws-error": {
      const { name } = failure;
      const message = `Lambda refused the invoke: ${name}${detail(failure.message)}`;
      if (THROTTLING.has(name)) return new InvokeError("INVOKE_THROTTLED", message, true, cause);
      if (TRANSIENT.has(name)) return new InvokeError("INVOKE_HTTP_STATUS", message, true, cause);
      if (NOT_FOUND.has(name)) return new InvokeError("INVOKE_NOT_FOUND", message, false, cause);
      if (ACCESS_DENIED.has(name)) return new InvokeError("INVOKE_ACCESS_DENIED", message, false, cause);
      if (name === "RequestTooLargeException") {
        return new InvokeError("INVOKE_PAYLOAD_TOO_LARGE", message, false, cause);
      }
      if (MISCONFIGURED.has(name)) return new InvokeError("INVOKE_HTTP_STATUS", message, false, cause);
      return fromStatus(failure.status, message, cause);
    }
    case "function-error":
      // A response over Lambda's 6 MB limit: replaying the same journal produces the same response,
      // so it pauses at once, as a request over the limit does.
      if (failure.errorType === RESPONSE_TOO_LARGE) {
        return new InvokeError(
          "INVOKE_PAYLOAD_TOO_LARGE",
          `the function's response is over Lambda's limit${detail(failure.message)}`,
          false,
          cause,
        );
      }
      // Unhandled: the handler crashed (out of memory, timed out, runtime exit). Handled: the SDK's
      // adapter threw instead of answering. Either way a new attempt may succeed.
      return new InvokeError(
        "INVOKE_FUNCTION_ERROR",
        `function error (${failure.functionError})` +
          `${failure.errorType === undefined ? "" : ` ${failure.errorType}`}${detail(failure.message)}`,
        true,
        cause,
      );
    case "network":
      return new InvokeError("INVOKE_NETWORK", `network error: ${describe(failure.error)}`, true, {
        cause: failure.error,
      });
    case "aborted":
      return new InvokeError("INVOKE_TIMEOUT", `attempt aborted: ${describe(failure.reason)}`, true, {
        cause: failure.reason,
      });
    case "overloaded":
      return new InvokeError(
        "INVOKE_THROTTLED",
        `${failure.waiting} attempts already wait for an invoke slot on this node`,
        true,
        cause,
      );
    case "request-too-large":
      return new InvokeError(
        "INVOKE_PAYLOAD_TOO_LARGE",
        `request of ${failure.sizeBytes} bytes exceeds ${failure.limitBytes}`,
        false,
        cause,
      );
    case "bad-response":
      return new InvokeError(
        "INVOKE_BAD_RESPONSE",
        `response does not follow the protocol: ${describe(failure.error)}`,
        false,
        { cause: failure.error },
      );
    default:
      return assertNever(failure);
  }
}

function fromStatus(status: number | undefined, message: string, options: { cause: unknown }): InvokeError {
  if (status === undefined || status >= 500)
    return new InvokeError("INVOKE_HTTP_STATUS", message, true, options);
  if (status === 429) return new InvokeError("INVOKE_THROTTLED", message, true, options);
  if (status === 408) return new InvokeError("INVOKE_TIMEOUT", message, true, options);
  if (status === 404 || status === 410) return new InvokeError("INVOKE_NOT_FOUND", message, false, options);
  if (status === 401 || status === 403)
    return new InvokeError("INVOKE_ACCESS_DENIED", message, false, options);
  if (status === 413) return new InvokeError("INVOKE_PAYLOAD_TOO_LARGE", message, false, options);
  return new InvokeError("INVOKE_HTTP_STATUS", message, false, options);
}

function detail(text: string | undefined): string {
  if (text === undefined || text.length === 0) return "";
  return `: ${text.length > MAX_FAILURE_DETAIL_LENGTH ? `${text.slice(0, MAX_FAILURE_DETAIL_LENGTH)}…` : text}`;
}

/** Duck-typed: errors from Node internals (undici, sockets) are not `instanceof Error` in every realm. */
function describe(e: unknown): string {
  if (e === undefined) return "no reason given";
  if (typeof e !== "object" || e === null) return typeof e === "string" ? e : JSON.stringify(e);
  const err = e as { name?: unknown; message?: unknown; code?: unknown; cause?: { code?: unknown } };
  const text = (v: unknown, fallback: string): string => (typeof v === "string" ? v : fallback);
  const codes = [err.code, err.cause?.code].filter((c) => typeof c === "string").join(", ");
  return `${text(err.name, "Error")}: ${text(err.message, "")}${codes === "" ? "" : ` (${codes})`}`;
}
