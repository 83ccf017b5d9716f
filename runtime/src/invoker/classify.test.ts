import { ProtocolError } from "@capstan/sdk/protocol";
import { MAX_FAILURE_DETAIL_LENGTH, classifyInvokeFailure } from "./classify";
import type { InvokeFailure } from "./classify";
import { InvokeError } from "./invoker";
import type { InvokeErrorCode } from "./invoker";

const aws = (name: string, status?: number): InvokeFailure => ({
  kind: "aws-error",
  name,
  message: "m",
  ...(status !== undefined && { status }),
});

const table: Array<[string, InvokeFailure, InvokeErrorCode, boolean]> = [
  // retryable
  [
    "connection refused",
    { kind: "network", error: Object.assign(new Error("x"), { code: "ECONNREFUSED" }) },
    "INVOKE_NETWORK",
    true,
  ],
  [
    "abort timeout",
    { kind: "aborted", reason: new DOMException("t", "TimeoutError") },
    "INVOKE_TIMEOUT",
    true,
  ],
  ["HTTP 408", { kind: "http-status", status: 408 }, "INVOKE_TIMEOUT", true],
  ["HTTP 429", { kind: "http-status", status: 429 }, "INVOKE_THROTTLED", true],
  ["TooManyRequestsException", aws("TooManyRequestsException", 429), "INVOKE_THROTTLED", true],
  ["ThrottlingException", aws("ThrottlingException", 400), "INVOKE_THROTTLED", true],
  ["EC2ThrottledException", aws("EC2ThrottledException", 502), "INVOKE_THROTTLED", true],
  ["local slots full", { kind: "overloaded", waiting: 10 }, "INVOKE_THROTTLED", true],
  ["HTTP 500", { kind: "http-status", status: 500 }, "INVOKE_HTTP_STATUS", true],
  ["HTTP 503", { kind: "http-status", status: 503, body: "busy" }, "INVOKE_HTTP_STATUS", true],
  ["ServiceException", aws("ServiceException", 500), "INVOKE_HTTP_STATUS", true],
  ["EC2UnexpectedException", aws("EC2UnexpectedException", 502), "INVOKE_HTTP_STATUS", true],
  ["ENILimitReachedException", aws("ENILimitReachedException", 502), "INVOKE_HTTP_STATUS", true],
  ["ResourceNotReadyException", aws("ResourceNotReadyException", 502), "INVOKE_HTTP_STATUS", true],
  ["ResourceConflictException", aws("ResourceConflictException", 409), "INVOKE_HTTP_STATUS", true],
  ["unknown server fault", aws("SomethingNew", 502), "INVOKE_HTTP_STATUS", true],
  ["unknown error, no status", aws("SomethingNew"), "INVOKE_HTTP_STATUS", true],
  [
    "FunctionError Unhandled",
    { kind: "function-error", functionError: "Unhandled", errorType: "Runtime.ExitError" },
    "INVOKE_FUNCTION_ERROR",
    true,
  ],
  [
    "FunctionError Handled",
    { kind: "function-error", functionError: "Handled" },
    "INVOKE_FUNCTION_ERROR",
    true,
  ],
  // terminal: the invocation is paused
  ["HTTP 404", { kind: "http-status", status: 404 }, "INVOKE_NOT_FOUND", false],
  ["ResourceNotFoundException", aws("ResourceNotFoundException", 404), "INVOKE_NOT_FOUND", false],
  ["HTTP 403", { kind: "http-status", status: 403 }, "INVOKE_ACCESS_DENIED", false],
  ["HTTP 401", { kind: "http-status", status: 401 }, "INVOKE_ACCESS_DENIED", false],
  ["AccessDeniedException", aws("AccessDeniedException", 403), "INVOKE_ACCESS_DENIED", false],
  ["EC2AccessDeniedException", aws("EC2AccessDeniedException", 502), "INVOKE_ACCESS_DENIED", false],
  ["KMSAccessDeniedException", aws("KMSAccessDeniedException", 502), "INVOKE_ACCESS_DENIED", false],
  ["InvalidParameterValueException", aws("InvalidParameterValueException", 400), "INVOKE_HTTP_STATUS", false],
  ["InvalidRuntimeException", aws("InvalidRuntimeException", 502), "INVOKE_HTTP_STATUS", false],
  ["HTTP 413", { kind: "http-status", status: 413 }, "INVOKE_PAYLOAD_TOO_LARGE", false],
  ["RequestTooLargeException", aws("RequestTooLargeException", 413), "INVOKE_PAYLOAD_TOO_LARGE", false],
  [
    "response over Lambda's limit",
    { kind: "function-error", functionError: "Unhandled", errorType: "Function.ResponseSizeTooLarge" },
    "INVOKE_PAYLOAD_TOO_LARGE",
    false,
  ],
  [
    "request over the limit",
    { kind: "request-too-large", sizeBytes: 7, limitBytes: 6 },
    "INVOKE_PAYLOAD_TOO_LARGE",
    false,
  ],
  ["HTTP 400", { kind: "http-status", status: 400 }, "INVOKE_HTTP_STATUS", false],
  ["unknown client fault", aws("SomethingNew", 400), "INVOKE_HTTP_STATUS", false],
  ["HTTP 302", { kind: "http-status", status: 302 }, "INVOKE_HTTP_STATUS", false],
  [
    "bad response",
    { kind: "bad-response", error: new ProtocolError("PROTOCOL_BAD_JSON", "nope") },
    "INVOKE_BAD_RESPONSE",
    false,
  ],
];

describe("classifyInvokeFailure", () => {
  it.each(table)("%s → %s, retryable %s", (_name, failure, code, retryable) => {
    const error = classifyInvokeFailure(failure);

    expect(error).toBeInstanceOf(InvokeError);
    expect({ code: error.code, retryable: error.retryable }).toEqual({ code, retryable });
    expect(error.name).toBe("InvokeError");
    expect(error.cause).toBeDefined();
  });

  it("quotes details up to MAX_FAILURE_DETAIL_LENGTH characters", () => {
    const atLimit = "a".repeat(MAX_FAILURE_DETAIL_LENGTH);

    const kept = classifyInvokeFailure({ kind: "http-status", status: 500, body: atLimit });
    const cut = classifyInvokeFailure({ kind: "http-status", status: 500, body: `${atLimit}b` });

    expect(kept.message.endsWith(atLimit)).toBe(true);
    expect(cut.message.endsWith(`${atLimit}…`)).toBe(true);
    expect(classifyInvokeFailure(aws("TooManyRequestsException")).message).toContain(
      "TooManyRequestsException: m",
    );
    expect(
      classifyInvokeFailure({ kind: "network", error: Object.assign(new Error("x"), { code: "ECONNRESET" }) })
        .message,
    ).toContain("ECONNRESET");
  });
});
