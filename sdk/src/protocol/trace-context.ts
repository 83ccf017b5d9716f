/**
 * W3C Trace Context (`traceparent`, https://www.w3.org/TR/trace-context/) as both sides read it: the
 * runtime from an ingress request, the SDK from an invocation request (`InvokeRequest.traceparent`,
 * which names the runtime's span of the attempt, so the SDK's spans are its children).
 */

/** The parts of a `traceparent` a span needs. Ids are lower-case hex, never all zeros. */
export interface SpanContextIds {
  /** 32 hex digits. */
  traceId: string;
  /** 16 hex digits. */
  spanId: string;
  sampled: boolean;
}

/** Version 00 is the only one defined; a higher version is parsed by its first four fields (W3C §3.2.4). */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
/** Longest `traceparent` accepted: version 00 is 55 characters; later versions may append fields. */
export const MAX_TRACEPARENT_LENGTH = 256;

/**
 * The ids of a `traceparent` header, or undefined for an absent, malformed or invalid one (a caller's
 * bad header must not fail its request: the invocation then starts its own trace).
 *
 * @example
 * parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
 * // { traceId: "4bf9…4736", spanId: "00f0…02b7", sampled: true }
 */
export function parseTraceparent(value: string | undefined): SpanContextIds | undefined {
  if (value === undefined || value.length > MAX_TRACEPARENT_LENGTH) return undefined;
  const m = TRACEPARENT.exec(value.trim());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string?,
  ];
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, sampled: (Number.parseInt(flags, 16) & 1) === 1 };
}

/**
 * @example
 * formatTraceparent({ traceId, spanId, sampled: true }) // "00-<traceId>-<spanId>-01"
 */
export function formatTraceparent(ids: SpanContextIds): string {
  return `00-${ids.traceId}-${ids.spanId}-${ids.sampled ? "01" : "00"}`;
}
