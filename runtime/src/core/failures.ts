/** The failures the runtime itself records. Fresh objects each time: state never shares them. */
import type { Completion, Failure } from "@capstan/sdk/protocol";

export function cancelledCompletion(): Completion {
  return { kind: "failure", failure: { code: 409, name: "CancelledError", message: "invocation cancelled" } };
}

export function killedCompletion(): Completion {
  return { kind: "failure", failure: { code: 409, name: "KilledError", message: "invocation killed" } };
}

export function failureCompletion(failure: Failure): Completion {
  return { kind: "failure", failure };
}

export function notFoundCompletion(): Completion {
  return { kind: "failure", failure: { code: 404, message: "invocation not found" } };
}
