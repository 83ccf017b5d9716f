/**
 * Trace and span ids of an invocation, derived from its id: the same invocation, attempt or child
 * gets the same ids on every node and after every crash, so a span exported again after a restart
 * replaces its first copy in the backend instead of duplicating it, and `apply` (which has no
 * randomness) can give a call or send its trace.
 */
import { createHash } from "node:crypto";
import type { InvocationId } from "@capstan/sdk/protocol";
import type { Invocation, InvocationTrace } from "./state";

function hexOf(seed: string, digits: number): string {
  return createHash("sha256").update(seed).digest("hex").slice(0, digits);
}

/** The trace of an invocation that did not get one from its caller (32 hex digits). */
export function derivedTraceId(id: InvocationId): string {
  return hexOf(`${id}\0trace`, 32);
}

/** The invocation's `invocation-start` span, parent of its attempts and its `invocation-end`. */
export function startSpanId(id: InvocationId): string {
  return hexOf(`${id}\0start`, 16);
}

/** The runtime's span of attempt `attempt`; the SDK's spans of that attempt are its children. */
export function attemptSpanId(id: InvocationId, attempt: number): string {
  return hexOf(`${id}\0attempt\0${attempt}`, 16);
}

export function endSpanId(id: InvocationId): string {
  return hexOf(`${id}\0end`, 16);
}

/** A trace of its own for an invocation nobody traced (created before traces were kept, or with none). */
export function ownTrace(id: InvocationId): InvocationTrace {
  return { traceId: derivedTraceId(id), sampled: true };
}

/**
 * The trace of a call or send made by `parent`'s current attempt (as Restate 1.7 does): a call joins
 * the caller's trace under the attempt that made it; a one-way send starts its own trace, linked to
 * that attempt, so a fire-and-forget job does not stretch its sender's trace.
 *
 * @example
 * childTrace(parent, childId, false) // { traceId: parent's, parentSpanId: attemptSpanId(parent.id, parent.attempt), … }
 */
export function childTrace(parent: Invocation, childId: InvocationId, oneWay: boolean): InvocationTrace {
  const trace = parent.trace ?? ownTrace(parent.id);
  const attemptSpan = attemptSpanId(parent.id, parent.attempt);
  if (!oneWay) return { traceId: trace.traceId, parentSpanId: attemptSpan, sampled: trace.sampled };
  return {
    traceId: derivedTraceId(childId),
    sampled: trace.sampled,
    link: { traceId: trace.traceId, spanId: attemptSpan },
  };
}
