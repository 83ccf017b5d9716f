/**
 * Tracing through the OpenTelemetry SDK: spans go to the given exporter (OTLP/HTTP in production,
 * in-memory in tests) through a batch processor, off the request path. The provider is private to
 * the runtime (not registered globally), so an application embedding the runtime keeps its own.
 */
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
  type Context,
  type Span,
  type Tracer,
} from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { resourceAttributes } from "./resource-attributes";
import { BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import type { SpanContextIds } from "@capstan/sdk/protocol";
import { ChosenIdGenerator } from "./chosen-id-generator";
import type { OpenSpan, SpanAttributes, SpanSpec, Tracing } from "./tracing";

export interface OtelTracingOptions {
  exporter: SpanExporter;
  /** Resource `service.name` (OTEL_SERVICE_NAME). */
  serviceName: string;
  /** Resource `service.instance.id`: the node's id. */
  instanceId?: string;
  /** Export each span as it ends (tests); default: batches. */
  synchronous?: boolean;
}

/**
 * @example
 * const tracing = new OtelTracing({ exporter: new OTLPTraceExporter({ url }), serviceName: "capstan" });
 * tracing.startSpan({ name: "invocation-start", ids: { traceId, spanId } }).end();
 * await tracing.shutdown(); // exports what is still batched
 */
export class OtelTracing implements Tracing {
  readonly enabled = true;
  private readonly provider: NodeTracerProvider;
  private readonly tracer: Tracer;
  private readonly ids = new ChosenIdGenerator();

  constructor(options: OtelTracingOptions) {
    const processor = options.synchronous
      ? new SimpleSpanProcessor(options.exporter)
      : new BatchSpanProcessor(options.exporter);
    this.provider = new NodeTracerProvider({
      resource: resourceFromAttributes(resourceAttributes(options)),
      idGenerator: this.ids,
      spanProcessors: [processor],
    });
    this.tracer = this.provider.getTracer("capstan-runtime");
  }

  startSpan(spec: SpanSpec): OpenSpan {
    const parent: Context =
      spec.parent === undefined
        ? ROOT_CONTEXT
        : trace.setSpanContext(ROOT_CONTEXT, {
            traceId: spec.parent.traceId,
            spanId: spec.parent.spanId,
            traceFlags: spec.parent.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
            isRemote: true,
          });
    if (spec.ids !== undefined) this.ids.choose(spec.ids.traceId, spec.ids.spanId);
    const span = this.tracer.startSpan(
      spec.name,
      {
        kind: spec.server ? SpanKind.SERVER : SpanKind.INTERNAL,
        root: spec.parent === undefined,
        ...(spec.attributes !== undefined && { attributes: spec.attributes }),
        ...(spec.startMs !== undefined && { startTime: spec.startMs }),
        ...(spec.links !== undefined && {
          links: spec.links.map((l) => ({
            context: { traceId: l.traceId, spanId: l.spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true },
          })),
        }),
      },
      parent,
    );
    this.ids.clear();
    return new OtelOpenSpan(span);
  }

  forceFlush(): Promise<void> {
    return this.provider.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }
}

class OtelOpenSpan implements OpenSpan {
  readonly ids: SpanContextIds | undefined;

  constructor(private readonly span: Span) {
    const c = span.spanContext();
    this.ids = { traceId: c.traceId, spanId: c.spanId, sampled: (c.traceFlags & TraceFlags.SAMPLED) !== 0 };
  }

  addEvent(name: string, attributes?: SpanAttributes, atMs?: number): void {
    this.span.addEvent(name, attributes, atMs);
  }

  setAttributes(attributes: SpanAttributes): void {
    this.span.setAttributes(attributes);
  }

  setError(message: string): void {
    this.span.setStatus({ code: SpanStatusCode.ERROR, message });
  }

  end(atMs?: number): void {
    this.span.end(atMs);
  }
}
