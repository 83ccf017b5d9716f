/**
 * Stable codes of errors raised by the SDK itself. Each appears as the first word of the error's message
 * (`"SDK_SERIALIZATION: ..."`) and is listed in docs/errors.md; a test fails if one is missing there.
 */
export type SdkErrorCode =
  | "SDK_SERIALIZATION"
  | "SDK_VALUE_TOO_LARGE"
  | "SDK_NON_DETERMINISM"
  | "SDK_RUN_RETRIES_EXHAUSTED"
  | "SDK_STATE_READ_ONLY"
  | "SDK_STATE_UNAVAILABLE"
  | "SDK_UNKNOWN_HANDLER"
  | "SDK_JOURNAL_LIMIT"
  | "SDK_INVALID_ARGUMENT"
  | "SDK_ATTEMPT_SUPERSEDED"
  | "SDK_CONTEXT_CLOSED"
  | "SDK_SEND_ID_UNAVAILABLE"
  | "SDK_INTERNAL";

/** Prefixes a message with its stable code, the form every SDK error message takes. */
export function withCode(code: SdkErrorCode, message: string): string {
  return `${code}: ${message}`;
}
