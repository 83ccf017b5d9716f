import type { InvocationId } from "@capstan/sdk/protocol";
import type { ApplyContext } from "./context";
import type { Invocation } from "./state";

/** Codes of `request-rejected` (admin actions and remote cancel/kill); listed in docs/errors.md. */
export type RequestRejectedCode =
  | "INVOCATION_NOT_FOUND"
  | "INVOCATION_COMPLETED"
  | "INVOCATION_NOT_COMPLETED"
  | "INVOCATION_NOT_PAUSABLE"
  | "INVOCATION_NOT_PAUSED";

export function rejectRequest(
  cx: ApplyContext,
  invocationId: InvocationId,
  code: RequestRejectedCode,
  message: string,
): void {
  cx.effects.push({ kind: "request-rejected", invocationId, code, message });
}

/** The invocation a control request (cancel, kill, pause, resume) may act on: known and not finished. */
export function liveInvocation(cx: ApplyContext, invocationId: InvocationId): Invocation | undefined {
  const inv = cx.state.invocation(invocationId);
  if (inv === undefined) {
    rejectRequest(cx, invocationId, "INVOCATION_NOT_FOUND", `invocation ${invocationId} not found`);
    return undefined;
  }
  if (inv.status === "completed") {
    rejectRequest(cx, invocationId, "INVOCATION_COMPLETED", `invocation ${invocationId} already completed`);
    return undefined;
  }
  return inv;
}
