/** Stable codes of protocol errors. Every code is listed in docs/errors.md. */
export type ProtocolErrorCode =
  | "PROTOCOL_BAD_JSON"
  | "PROTOCOL_INVALID_MESSAGE"
  | "PROTOCOL_UNSUPPORTED_VERSION"
  | "PROTOCOL_TOO_LARGE"
  | "PROTOCOL_LIMIT_EXCEEDED"
  /** The deployment is configured with identity keys and the message is not signed by one (identity.ts). */
  | "PROTOCOL_IDENTITY_REJECTED";

const PROTOCOL_ERROR = Symbol.for("capstan.ProtocolError");

/**
 * A message that does not follow the protocol. Raised by every decoder; never retried by the sender
 * as-is, since the same bytes would fail the same way.
 *
 * @example
 * try { decodeInvokeRequest(body) } catch (e) { if (isProtocolError(e)) reply(400, e.code) }
 */
export class ProtocolError extends Error {
  override readonly name = "ProtocolError";
  readonly [PROTOCOL_ERROR] = true;
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isProtocolError(e: unknown): e is ProtocolError {
  return typeof e === "object" && e !== null && (e as Record<symbol, unknown>)[PROTOCOL_ERROR] === true;
}
