/**
 * An OpenTelemetry IdGenerator that hands out ids chosen by the caller for the next span, and
 * random ones otherwise. The SDK's tracer asks for a span id (and, for a root, a trace id)
 * synchronously inside `startSpan`, so setting them just before the call is race-free.
 */
import { RandomIdGenerator, type IdGenerator } from "@opentelemetry/sdk-trace-base";

export class ChosenIdGenerator implements IdGenerator {
  private readonly random = new RandomIdGenerator();
  private nextTraceId: string | undefined;
  private nextSpanId: string | undefined;

  /** The ids of the next span started (the trace id is used only for a root span). */
  choose(traceId: string, spanId: string): void {
    this.nextTraceId = traceId;
    this.nextSpanId = spanId;
  }

  /** Forgets unused choices (a child span does not ask for a trace id). */
  clear(): void {
    this.nextTraceId = undefined;
    this.nextSpanId = undefined;
  }

  generateTraceId(): string {
    const id = this.nextTraceId ?? this.random.generateTraceId();
    this.nextTraceId = undefined;
    return id;
  }

  generateSpanId(): string {
    const id = this.nextSpanId ?? this.random.generateSpanId();
    this.nextSpanId = undefined;
    return id;
  }
}
