/** Builds the protocol request of one attempt from what the partition's view answered. */
import {
  MAX_EAGER_STATE_BYTES,
  PROTOCOL_VERSION,
  type EagerState,
  type InvokeRequest,
} from "@capstan/sdk/protocol";
import type { Invocation } from "../core/state";

/**
 * Eager state for keyed handlers, up to MAX_EAGER_STATE_BYTES; beyond that the state is sent partial
 * and the SDK fetches missing keys lazily through getState entries.
 */
export function eagerState(
  objectState: ReadonlyMap<string, string> | undefined,
  inv: Invocation,
): EagerState | undefined {
  if (inv.target.key === undefined) return undefined;
  const values: Record<string, string> = {};
  let bytes = 0;
  let complete = true;
  for (const [k, v] of objectState ?? []) {
    const size = k.length + v.length;
    if (bytes + size > MAX_EAGER_STATE_BYTES) {
      complete = false;
      continue;
    }
    bytes += size;
    values[k] = v;
  }
  return { complete, values };
}

/** `objectState`: the state of the invocation's object or workflow (undefined for a service). */
export function buildInvokeRequest(
  objectState: ReadonlyMap<string, string> | undefined,
  inv: Invocation,
  checkpointUrl: string | undefined,
  nowMs: number,
  /** The attempt's credential (security/attempt-credentials.ts), echoed by every checkpoint. */
  attemptToken: string,
  /** The cluster's partition count: the SDK derives a send's child invocation id with it. */
  partitions: number,
): InvokeRequest {
  const request: InvokeRequest = {
    type: "invoke",
    protocolVersion: PROTOCOL_VERSION,
    invocationId: inv.id,
    target: inv.target,
    attempt: inv.attempt,
    attemptToken,
    headers: inv.headers,
    journal: inv.journal,
    retry: {
      attemptsSinceLastEntry: inv.attemptsSinceLastEntry,
      ...(inv.firstFailureAtMs !== undefined && { firstFailureAtMs: inv.firstFailureAtMs }),
    },
    nowMs,
    partitions,
  };
  const st = eagerState(objectState, inv);
  if (st) request.state = st;
  if (checkpointUrl) request.checkpoint = { url: checkpointUrl };
  return request;
}
