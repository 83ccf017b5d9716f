/**
 * The HTTP status of each code the runtime refuses a request with (RuntimeError). The runtime names
 * what went wrong; only the servers know HTTP. docs/errors.md lists every code with this status.
 */
import { isRuntimeError } from "../runtime-error";
import { ApiError } from "./api-error";

/** Nonstandard, as nginx's: the client closed the connection before the answer. */
const CLIENT_CLOSED_STATUS = 499;

const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  INGRESS_KEY_REQUIRED: 400,
  INGRESS_KEY_NOT_ALLOWED: 400,
  INGRESS_HANDLER_PRIVATE: 403,
  INGRESS_INVALID_AWAKEABLE_ID: 400,
  INGRESS_CLIENT_CLOSED: CLIENT_CLOSED_STATUS,
  INVOCATION_INVALID_ID: 400,
  INVOCATION_COMPLETED: 409,
  INVOCATION_NOT_COMPLETED: 409,
  INVOCATION_NOT_PAUSABLE: 409,
  INVOCATION_NOT_PAUSED: 409,
  INVOKE_STALE_ATTEMPT: 409,
  CHECKPOINT_UNAUTHORIZED: 401,
  CHECKPOINT_CREDENTIAL_EXPIRED: 401,
  INVOKE_JOURNAL_MISMATCH: 400,
  INVOKE_JOURNAL_TOO_LONG: 400,
  ADMIN_DISCOVERY_FAILED: 400,
  ADMIN_SERVICE_KIND_CHANGED: 409,
  ADMIN_TOO_MANY_DEPLOYMENTS: 409,
  ADMIN_SERVICE_HAS_NO_STATE: 400,
  ADMIN_DEPLOYMENT_INCOMPATIBLE: 409,
  ADMIN_RESTART_WORKFLOW_RUN: 409,
  RUNTIME_UNAVAILABLE: 503,
  RUNTIME_OVERLOADED: 503,
  RUNTIME_PARTITION_UNAVAILABLE: 503,
  RUNTIME_PEER_REQUEST_TOO_LARGE: 413,
  // Raised by the peer listener; here so the forwarding node passes it on as the same 503 and retry hint.
  PEER_OVERLOADED: 503,
};

/** A code's status: from the table, else 404 for any `*_NOT_FOUND`, else 400 (the request was refused). */
export function statusOfCode(code: string): number {
  return STATUS_BY_CODE[code] ?? (code.endsWith("_NOT_FOUND") ? 404 : 400);
}

/**
 * A RuntimeError as the ApiError the servers answer with (its retry hint becomes `retry-after`, in
 * whole seconds); anything else unchanged.
 *
 * @example
 * toApiError(new RuntimeError("INVOCATION_NOT_FOUND", "…")).status // 404
 */
export function toApiError(e: unknown): unknown {
  if (!isRuntimeError(e)) return e;
  return new ApiError(statusOfCode(e.code), e.code, e.message, {
    cause: e,
    ...(e.retryAfterMs !== undefined && { retryAfterSeconds: Math.max(1, Math.ceil(e.retryAfterMs / 1000)) }),
  });
}
