/**
 * The runtime's one telemetry port: what happens to an invocation becomes spans (through `Tracing`:
 * no-op or OpenTelemetry), log lines (through `Log`) and counters (through `Metrics`) here, so the
 * rest of the runtime reports events once and `core/` stays pure. The span model follows Restate 1.7
 * (docs/observability.md): `ingress`, `invocation-start` (the anchor), one `invocation-attempt` per
 * attempt, ended with the attempt (no span stays open across a suspension), journal commands as its
 * events, and `invocation-end`.
 */
import {
  entryLabel,
  formatTraceparent,
  parseTraceparent,
  type Completion,
  type JournalEntry,
  type Outcome,
  type SpanContextIds,
  type Target,
} from "@capstan/sdk/protocol";
import type { Invocation, InvocationTrace } from "../core/state";
import { attemptSpanId, endSpanId, ownTrace, startSpanId } from "../core/trace-ids";
import type { Log, LogFields } from "../log";
import { Metrics, type MetricFamily, type MetricGauges } from "../metrics/metrics";
import type { HandlerLogSource } from "./handler-logs";
import { noopTracing, type OpenSpan, type Tracing } from "./tracing";

/** The telemetry parts that only some runtimes have. */
export interface TelemetryParts {
  /** Where handler logs are read from (locally, the local Lambda endpoint); absent on AWS. */
  handlerLogs?: HandlerLogSource;
  /** Pushes the counters to an OpenTelemetry collector (metrics/otlp-metrics-export.ts) when configured. */
  metricsExport?: { shutdown(): Promise<void> };
}

/** How an attempt ended, as the attempt driver saw it. */
export type AttemptEnd =
  | { kind: "response"; outcome: Outcome }
  /** The invoker could not complete the attempt (network, throttling, abort timeout, FunctionError). */
  | { kind: "invoke-error"; code: string; message: string; stack?: string }
  /** Aborted on purpose (kill, pause, shutdown, a newer attempt). */
  | { kind: "aborted" };

/** One attempt's telemetry, from the request to the recorded outcome. */
export interface AttemptTelemetry {
  /** The W3C `traceparent` the handler parents its spans on. */
  readonly traceparent: string;
  /** Entries recorded during the attempt (checkpoints, then the response): one span event each. */
  entries(entries: readonly JournalEntry[]): void;
  /**
   * The attempt ended and its outcome was recorded: `inv` is the invocation after that record
   * (status, `lastFailure` with the next retry time).
   */
  end(result: AttemptEnd, inv: Invocation): void;
}

/** What the ingress span gives the invocation it submits. */
export interface IngressTelemetry {
  /** The trace the invocation joins (the caller's, under this span), or undefined: start its own. */
  readonly trace: InvocationTrace | undefined;
  end(error?: string): void;
}

/**
 * @example
 * // Spans to an in-memory exporter (tests), failures logged as JSON lines:
 * const telemetry = new Telemetry(new OtelTracing({ exporter, serviceName: "capstan" }), jsonLog("info"), new Metrics(), Date.now);
 * const env = await startTestEnvironment({ services: [checkout], telemetry });
 */
export class Telemetry {
  constructor(
    readonly tracing: Tracing,
    readonly log: Log,
    readonly metrics: Metrics,
    private readonly nowMs: () => number,
    readonly parts: TelemetryParts = {},
  ) {}

  private gauges: (() => Promise<MetricGauges>) | undefined;

  /** Where snapshots read the gauges from: the runtime's admin API sets it when it starts. */
  readGaugesFrom(gauges: () => Promise<MetricGauges>): void {
    this.gauges = gauges;
  }

  /**
   * Every metric now (as `GET /metrics` shows it); undefined until a runtime reports its gauges. Once
   * the runtime has closed (the last push at shutdown) its gauges cannot be read: the counters and
   * histograms are still sent, without them.
   */
  async snapshotMetrics(): Promise<MetricFamily[] | undefined> {
    if (this.gauges === undefined) return undefined;
    let gauges: MetricGauges | undefined;
    try {
      gauges = await this.gauges();
    } catch {
      gauges = undefined;
    }
    return this.metrics.snapshot(gauges);
  }

  /** Exports what is still buffered (spans, a last metrics push) and stops the exporters. */
  async shutdown(): Promise<void> {
    await Promise.allSettled([this.tracing.shutdown(), this.parts.metricsExport?.shutdown()]);
  }

  /** Telemetry with tracing off and nothing logged (tests, the embedded kit). */
  static silent(): Telemetry {
    return new Telemetry(noopTracing, () => undefined, new Metrics(), Date.now);
  }

  /**
   * The ingress request: a server span child of the caller's `traceparent` (honoured when valid).
   * Without tracing, the caller's trace is still kept, so the handler and logs see its trace id.
   */
  ingress(target: Target, traceparent: string | undefined): IngressTelemetry {
    const caller = parseTraceparent(traceparent);
    if (!this.tracing.enabled) {
      return {
        trace: caller && { traceId: caller.traceId, parentSpanId: caller.spanId, sampled: caller.sampled },
        end: () => undefined,
      };
    }
    const span = this.tracing.startSpan({
      name: `ingress ${target.service}/${target.handler}`,
      server: true,
      ...(caller !== undefined && { parent: caller }),
      attributes: targetAttributes(target),
    });
    const ids = span.ids;
    return {
      trace: ids && { traceId: ids.traceId, parentSpanId: ids.spanId, sampled: ids.sampled },
      end: (error) => {
        if (error !== undefined) span.setError(error);
        span.end();
      },
    };
  }

  /** A new invocation was recorded: its `invocation-start` span, at the record's time. */
  invocationStarted(inv: Invocation): void {
    if (!this.tracing.enabled) return;
    const trace = inv.trace ?? ownTrace(inv.id);
    const span = this.tracing.startSpan({
      name: "invocation-start",
      ids: { traceId: trace.traceId, spanId: startSpanId(inv.id) },
      ...(trace.parentSpanId !== undefined && {
        parent: { traceId: trace.traceId, spanId: trace.parentSpanId, sampled: trace.sampled },
      }),
      ...(trace.link !== undefined && { links: [trace.link] }),
      attributes: invocationAttributes(inv),
      startMs: inv.createdAtMs,
    });
    span.end(inv.createdAtMs);
  }

  /** Attempt `attempt` starts: its span (id derived from the invocation and attempt) opens. */
  attemptStarted(inv: Invocation, attempt: number): AttemptTelemetry {
    const trace = inv.trace ?? ownTrace(inv.id);
    if (inv.attemptsSinceLastEntry > 0) this.metrics.countRetry(inv.target.service, inv.target.handler);
    const span = this.tracing.enabled
      ? this.tracing.startSpan({
          name: "invocation-attempt",
          ids: { traceId: trace.traceId, spanId: attemptSpanId(inv.id, attempt) },
          parent: { traceId: trace.traceId, spanId: startSpanId(inv.id), sampled: trace.sampled },
          attributes: { ...invocationAttributes(inv), "capstan.attempt": attempt },
        })
      : undefined;
    return new Attempt(this, span, trace, inv, attempt);
  }

  /** The invocation completed: `invocation-end`, its latency, a debug line. */
  invocationEnded(inv: Invocation, result: Completion): void {
    const endMs = inv.completedAtMs ?? this.nowMs();
    this.metrics.observeInvocation(inv.target.service, inv.target.handler, endMs - inv.createdAtMs);
    this.log(
      () => `${inv.id} (${targetName(inv.target)}) completed: ${result.kind}`,
      "debug",
      logFields(inv, inv.attempt),
    );
    if (!this.tracing.enabled) return;
    const trace = inv.trace ?? ownTrace(inv.id);
    const span = this.tracing.startSpan({
      name: "invocation-end",
      ids: { traceId: trace.traceId, spanId: endSpanId(inv.id) },
      parent: { traceId: trace.traceId, spanId: startSpanId(inv.id), sampled: trace.sampled },
      attributes: {
        ...invocationAttributes(inv),
        "capstan.result": result.kind,
        ...(result.kind === "failure" && { "capstan.failure.code": result.failure.code }),
      },
      startMs: endMs,
    });
    if (result.kind === "failure") span.setError(result.failure.message);
    span.end(endMs);
  }

  /** An operator paused the invocation. */
  paused(inv: Invocation): void {
    this.metrics.countPause(inv.target.service, inv.target.handler);
  }

  /** @internal the attempt's failure line: error, failed step, attempt, what happens next. */
  attemptFailed(inv: Invocation, attempt: number, cause: string, message: string, stack?: string): void {
    const { service, handler } = inv.target;
    this.metrics.countAttemptFailure(service, handler, cause);
    const failure = inv.lastFailure?.attempt === attempt ? inv.lastFailure : undefined;
    const entry = failure?.entry;
    const step =
      entry && `${entry.kind}${entry.name !== undefined ? ` "${entry.name}"` : ""} (entry ${entry.index})`;
    let next: string;
    const fields: LogFields = logFields(inv, attempt);
    if (inv.status === "backing-off" && failure?.nextRetryAtMs !== undefined) {
      const at = new Date(failure.nextRetryAtMs).toISOString();
      const inMs = Math.max(0, failure.nextRetryAtMs - this.nowMs());
      next = `retrying at ${at} (in ${(inMs / 1000).toFixed(1)} s)`;
      fields.nextRetryAt = at;
    } else if (inv.status === "paused") {
      this.metrics.countPause(service, handler);
      next = `paused after ${attempt} attempts; fix the cause, then: capstan invocations resume ${inv.id}`;
    } else if (inv.status === "completed") {
      next = "not retried: the invocation failed";
    } else {
      next = `now ${inv.status}`;
    }
    if (step !== undefined) fields.entry = step;
    const stackText = stack ?? failure?.stack;
    if (stackText !== undefined) fields.stack = stackText;
    this.log(
      `attempt ${attempt} of ${inv.id} (${service}/${handler}) failed${step !== undefined ? ` at ${step}` : ""}: ${message}; ${next}`,
      "warn",
      fields,
    );
  }
}

class Attempt implements AttemptTelemetry {
  readonly traceparent: string;
  /** Highest journal index already reported: a resent entry is not an event twice. */
  private reportedUpTo: number;

  constructor(
    private readonly telemetry: Telemetry,
    private readonly span: OpenSpan | undefined,
    trace: InvocationTrace,
    inv: Invocation,
    private readonly attempt: number,
  ) {
    const ids: SpanContextIds = {
      traceId: trace.traceId,
      spanId: attemptSpanId(inv.id, attempt),
      sampled: trace.sampled,
    };
    this.traceparent = formatTraceparent(ids);
    this.reportedUpTo = inv.journal.length - 1;
  }

  entries(entries: readonly JournalEntry[]): void {
    if (this.span === undefined) return;
    for (const entry of entries) {
      if (entry.index <= this.reportedUpTo) continue;
      this.reportedUpTo = entry.index;
      const label = entryLabel(entry);
      this.span.addEvent(entry.kind, {
        "capstan.entry.index": entry.index,
        ...(label !== "" && { "capstan.entry.name": label }),
        ...("result" in entry && entry.result !== undefined && { "capstan.entry.result": entry.result.kind }),
      });
    }
  }

  end(result: AttemptEnd, inv: Invocation): void {
    const span = this.span;
    switch (result.kind) {
      case "aborted":
        span?.setAttributes({ "capstan.attempt.outcome": "aborted" });
        break;
      case "invoke-error":
        span?.setError(`${result.code}: ${result.message}`);
        this.telemetry.attemptFailed(
          inv,
          this.attempt,
          result.code,
          `${result.code}: ${result.message}`,
          result.stack,
        );
        break;
      case "response": {
        const outcome = result.outcome;
        span?.setAttributes({ "capstan.attempt.outcome": outcome.kind });
        if (outcome.kind === "suspended")
          span?.addEvent("suspended", { "capstan.awaiting": outcome.awaiting.join(",") });
        if (outcome.kind === "retry") {
          span?.setError(outcome.error.message);
          const cause = outcome.error.name === "NonDeterminismError" ? "NON_DETERMINISM" : "HANDLER_ERROR";
          const name = outcome.error.name !== undefined ? `${outcome.error.name}: ` : "";
          this.telemetry.attemptFailed(
            inv,
            this.attempt,
            cause,
            `${name}${outcome.error.message}`,
            outcome.error.stack,
          );
        }
        break;
      }
    }
    span?.end();
  }
}

/** Attributes every span of an invocation carries (never its input, headers or state: secrets). */
function invocationAttributes(inv: Invocation): Record<string, string> {
  return {
    ...targetAttributes(inv.target),
    "capstan.invocation.id": inv.id,
  };
}

function targetAttributes(target: Target): Record<string, string> {
  return {
    "rpc.service": target.service,
    "rpc.method": target.handler,
    ...(target.key !== undefined && { "capstan.key": target.key }),
  };
}

function targetName(target: Target): string {
  return `${target.service}/${target.handler}`;
}

function logFields(inv: Invocation, attempt: number): LogFields {
  return {
    invocationId: inv.id,
    service: inv.target.service,
    handler: inv.target.handler,
    attempt,
    ...(inv.trace !== undefined && { traceId: inv.trace.traceId }),
  };
}
