import type { Failure } from "../protocol";
import { MAX_FAILURE_MESSAGE_LENGTH } from "../protocol";
import { CancelledError } from "./cancelled-error";
import { TerminalError } from "./terminal-error";
import { TimeoutError } from "./timeout-error";

/** A recorded failure as the error the handler sees: CancelledError/TimeoutError by name, else TerminalError. */
export function failureToError(failure: Failure): TerminalError {
  const metadata = failure.metadata !== undefined ? { metadata: failure.metadata } : {};
  switch (failure.name) {
    case "CancelledError":
      return new CancelledError(failure.message, metadata);
    case "TimeoutError":
      return new TimeoutError(failure.message, metadata);
    case undefined:
    default: {
      const e = new TerminalError(failure.message, { code: failure.code, ...metadata });
      if (failure.name !== undefined && failure.name !== "TerminalError") {
        Object.defineProperty(e, "name", { value: failure.name });
      }
      return e;
    }
  }
}

/** A terminal error as recorded in the journal; the message is truncated to the protocol limit. */
export function errorToFailure(e: TerminalError): Failure {
  const failure: Failure = {
    code: e.code,
    message: e.message.slice(0, MAX_FAILURE_MESSAGE_LENGTH),
    name: e.name,
  };
  if (e.metadata !== undefined) failure.metadata = e.metadata;
  return failure;
}

/** The message of anything thrown, for logs and retry outcomes. */
export function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === "string") return e;
  try {
    return JSON.stringify(e) ?? String(e);
  } catch {
    return String(e);
  }
}
