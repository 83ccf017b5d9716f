/**
 * The tracing port: spans with ids the caller chooses (derived from the invocation, see
 * core/trace-ids.ts) or fresh ones. Two implementations: `noopTracing` (the default: no allocation
 * per span) and `OtelTracing` (OpenTelemetry, OTLP/HTTP).
 */
import type { SpanContextIds } from "@capstan/sdk/protocol";

export type SpanAttributes = Record<string, string | number | boolean>;

export interface SpanSpec {
  name: string;
  /** The span's own ids; absent: fresh random ids (the ingress span, which is never re-emitted). */
  ids?: { traceId: string; spanId: string };
  /** The parent span; absent: a root span. */
  parent?: SpanContextIds;
  links?: Array<{ traceId: string; spanId: string }>;
  attributes?: SpanAttributes;
  /** Record time of what the span stands for (epoch ms); absent: now. */
  startMs?: number;
  /** OTel span kind: a server span for the ingress request. */
  server?: boolean;
}

/** A started span; every method is a no-op once ended. */
export interface OpenSpan {
  /** This span's ids, for children and for the caller's trace; undefined when not traced. */
  readonly ids: SpanContextIds | undefined;
  addEvent(name: string, attributes?: SpanAttributes, atMs?: number): void;
  setAttributes(attributes: SpanAttributes): void;
  /** Error status with a description; the span still ends with `end`. */
  setError(message: string): void;
  end(atMs?: number): void;
}

export interface Tracing {
  /** False for the no-op: callers skip building names and attributes. */
  readonly enabled: boolean;
  startSpan(spec: SpanSpec): OpenSpan;
  /** Exports what has ended so far (tests, shutdown). */
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

const NOOP_SPAN: OpenSpan = {
  ids: undefined,
  addEvent: () => undefined,
  setAttributes: () => undefined,
  setError: () => undefined,
  end: () => undefined,
};

/**
 * Tracing off: the same span object for every call, nothing recorded.
 *
 * @example
 * new Telemetry(noopTracing, stderrLog("info"), new Metrics(), Date.now) // what a runtime without OTEL_* uses
 */
export const noopTracing: Tracing = {
  enabled: false,
  startSpan: () => NOOP_SPAN,
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};
