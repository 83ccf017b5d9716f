/**
 * The handle a one-way send returns. The id is derived, not asked for: the runtime stamps a send's
 * child invocation id deterministically from the parent id, the entry index, the target, the
 * idempotency key and the partition count (`childInvocationId`), so the SDK computes the same id
 * at once, and on replay reads the id the runtime recorded.
 */
import type { InvocationId, InvokeRequest, SendEntry } from "../protocol";
import { childInvocationId } from "../protocol";
import { TerminalError } from "../errors/terminal-error";
import { withCode } from "../errors/sdk-error-codes";
import type { InvocationHandle } from "./context-types";

/**
 * @example
 * const handle = sendHandle(entry, engine.request);
 * await handle.invocationId; // "inv_7_…"
 */
export function sendHandle(entry: SendEntry, request: InvokeRequest): InvocationHandle {
  // Computed only when asked for, so a runtime that cannot tell the id never leaves a rejected
  // promise nobody awaits.
  let id: Promise<string> | undefined;
  return {
    get invocationId(): Promise<string> {
      id ??= new Promise<string>((resolve) => resolve(idOf(entry, request)));
      return id;
    },
  };
}

function idOf(entry: SendEntry, request: InvokeRequest): string {
  if (entry.invocationId !== undefined) return entry.invocationId; // recorded by the runtime
  if (request.partitions === undefined) {
    throw new TerminalError(
      withCode(
        "SDK_SEND_ID_UNAVAILABLE",
        "the runtime did not send its partition count, so this send's invocation id is unknown; upgrade the runtime",
      ),
      { code: 500 },
    );
  }
  return childInvocationId(
    request.invocationId as InvocationId,
    entry.index,
    entry.target,
    entry.idempotencyKey,
    request.partitions,
  );
}
