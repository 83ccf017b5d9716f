/**
 * The SDK's spans, through `@opentelemetry/api` only: the application brings (and registers) its
 * provider, or spans cost nothing (the API's no-op tracer). One span per attempt, parented on the
 * runtime's attempt span named by `InvokeRequest.traceparent`, and a child per `ctx.run` body the
 * attempt executes — a replayed run never executes, so it is never a span twice.
 */
import {
  ROOT_CONTEXT,
  SpanStatusCode,
  TraceFlags,
  context as otelContext,
  trace,
  type Context,
  type Span,
} from "@opentelemetry/api";
import type { InvokeRequest, Outcome } from "../protocol";
import { parseTraceparent } from "../protocol";

const TRACER_NAME = "@capstan/sdk";

export class AttemptTracing {
  /** The attempt span's context: the handler runs in it, so the application's own spans nest under it. */
  readonly context: Context;
  private readonly span: Span;
  private ended = false;

  constructor(request: InvokeRequest) {
    const remote = parseTraceparent(request.traceparent);
    const parent =
      remote === undefined
        ? ROOT_CONTEXT
        : trace.setSpanContext(ROOT_CONTEXT, {
            traceId: remote.traceId,
            spanId: remote.spanId,
            traceFlags: remote.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
            isRemote: true,
          });
    this.span = trace.getTracer(TRACER_NAME).startSpan(
      `attempt ${request.target.service}/${request.target.handler}`,
      {
        attributes: {
          "capstan.invocation.id": request.invocationId,
          "capstan.attempt": request.attempt,
          "capstan.journal.replayed_entries": request.journal.length,
        },
      },
      parent,
    );
    this.context = trace.setSpan(parent, this.span);
  }

  /** Runs `fn` in the attempt's context (the handler body). */
  within<T>(fn: () => T): T {
    return otelContext.with(this.context, fn);
  }

  /** A `ctx.run` body, executed (never replayed) inside its own span. */
  run<T>(name: string, index: number, fn: () => Promise<T>): Promise<T> {
    const span = trace
      .getTracer(TRACER_NAME)
      .startSpan(`run ${name}`, { attributes: { "capstan.entry.index": index } }, this.context);
    return otelContext.with(trace.setSpan(this.context, span), fn).then(
      (value) => {
        span.end();
        return value;
      },
      (e: unknown) => {
        span.recordException(e instanceof Error ? e : String(e));
        span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.message : String(e) });
        span.end();
        throw e;
      },
    );
  }

  /** The attempt ended with `outcome` (or was superseded: undefined). */
  end(outcome: Outcome | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.span.setAttribute("capstan.attempt.outcome", outcome?.kind ?? "superseded");
    if (outcome?.kind === "retry")
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error.message });
    this.span.end();
  }
}

/**
 * Exports the spans of the attempt before Lambda freezes the environment: calls `forceFlush` on the
 * registered provider, if it has one. A failed export is reported, never the invocation's failure.
 */
export async function flushRegisteredTracerProvider(warn: (message: string) => void): Promise<void> {
  const registered = trace.getTracerProvider() as { getDelegate?: () => unknown };
  const provider = (registered.getDelegate?.() ?? registered) as { forceFlush?: () => Promise<void> };
  if (typeof provider.forceFlush !== "function") return;
  try {
    await provider.forceFlush();
  } catch (e) {
    warn(`flushing spans failed: ${String(e)}`);
  }
}
