import { Histogram } from "./histogram";

/** Upper bounds of the log commit latency histogram: an fsync takes 0.1–20 ms on most disks. */
export const COMMIT_LATENCY_BOUNDS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
/** Upper bounds of the invocation latency histogram: from a no-op handler to a multi-day workflow. */
export const INVOCATION_LATENCY_BOUNDS_SECONDS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86_400,
];

/**
 * Prometheus text exposition of the runtime's counters. Counters live here; gauges are read at scrape.
 *
 * @example
 * metrics.countAttemptFailure("Checkout", "place", "HANDLER_ERROR");
 * // GET /metrics → capstan_attempt_failures_total{service="Checkout",handler="place",cause="HANDLER_ERROR"} 1
 */
export class Metrics {
  /** `service\0handler` → requests sent to a handler (every attempt). */
  private readonly handlerInvocations = new Map<string, number>();
  private readonly invokeFailures = new Map<string, number>();
  /** `service\0handler\0cause` → attempts that failed (handler error or invoker error). */
  private readonly attemptFailures = new Map<string, number>();
  /** `service\0handler` → attempts started after a failed one. */
  private readonly retries = new Map<string, number>();
  /** `service\0handler` → invocations paused (retries exhausted, terminal invoker error, admin). */
  private readonly pauses = new Map<string, number>();
  private readonly commitLatency = new Histogram(COMMIT_LATENCY_BOUNDS_SECONDS);
  private readonly invocationLatency = new Histogram(INVOCATION_LATENCY_BOUNDS_SECONDS);

  countAttemptFailure(service: string, handler: string, cause: string): void {
    increment(this.attemptFailures, `${service}\0${handler}\0${cause}`);
  }

  countRetry(service: string, handler: string): void {
    increment(this.retries, `${service}\0${handler}`);
  }

  countPause(service: string, handler: string): void {
    increment(this.pauses, `${service}\0${handler}`);
  }

  observeCommit(ms: number): void {
    this.commitLatency.observe("", ms / 1000);
  }

  /** From creation to completion (record times), by target. */
  observeInvocation(service: string, handler: string, ms: number): void {
    this.invocationLatency.observe(`service="${esc(service)}",handler="${esc(handler)}"`, ms / 1000);
  }

  countHandlerInvocation(service: string, handler: string): void {
    const k = `${service}\0${handler}`;
    this.handlerInvocations.set(k, (this.handlerInvocations.get(k) ?? 0) + 1);
  }

  countInvokeFailure(code: string): void {
    this.invokeFailures.set(code, (this.invokeFailures.get(code) ?? 0) + 1);
  }

  render(gauges: {
    invocationsByStatus: Map<string, number>;
    commit: { batches: number; records: number; totalCommitMs: number };
    queueDepths: number[];
    inFlightAttempts: number;
    timers: number;
  }): string {
    const lines: string[] = [];
    lines.push("# HELP capstan_handler_invocations_total Requests sent to a handler (one per attempt).");
    lines.push("# TYPE capstan_handler_invocations_total counter");
    for (const [k, v] of this.handlerInvocations) {
      const [service, handler] = k.split("\0");
      lines.push(
        `capstan_handler_invocations_total{service="${esc(service!)}",handler="${esc(handler!)}"} ${v}`,
      );
    }
    lines.push(
      "# HELP capstan_invoke_failures_total Attempts the invoker could not complete (network, timeout, Lambda errors), by code; a handler's own errors are in capstan_attempt_failures_total.",
    );
    lines.push("# TYPE capstan_invoke_failures_total counter");
    for (const [code, v] of this.invokeFailures)
      lines.push(`capstan_invoke_failures_total{code="${esc(code)}"} ${v}`);
    lines.push(
      "# HELP capstan_attempt_failures_total Failed attempts by target and cause (HANDLER_ERROR, NON_DETERMINISM, or the invoker's error code).",
    );
    lines.push("# TYPE capstan_attempt_failures_total counter");
    for (const [k, v] of this.attemptFailures) {
      const [service, handler, cause] = k.split("\0");
      lines.push(
        `capstan_attempt_failures_total{service="${esc(service!)}",handler="${esc(handler!)}",cause="${esc(cause!)}"} ${v}`,
      );
    }
    lines.push("# HELP capstan_retries_total Attempts started after a failed attempt.");
    lines.push("# TYPE capstan_retries_total counter");
    for (const [k, v] of this.retries) lines.push(`capstan_retries_total{${targetLabels(k)}} ${v}`);
    lines.push(
      "# HELP capstan_pauses_total Invocations paused: retries exhausted, a terminal invoker error, or admin.",
    );
    lines.push("# TYPE capstan_pauses_total counter");
    for (const [k, v] of this.pauses) lines.push(`capstan_pauses_total{${targetLabels(k)}} ${v}`);
    lines.push(
      "# HELP capstan_invocation_duration_seconds From creation to completion, completed invocations.",
    );
    lines.push("# TYPE capstan_invocation_duration_seconds histogram");
    lines.push(...this.invocationLatency.render("capstan_invocation_duration_seconds"));
    lines.push(
      "# HELP capstan_log_commit_duration_seconds Time of one log batch commit (append to durable).",
    );
    lines.push("# TYPE capstan_log_commit_duration_seconds histogram");
    lines.push(...this.commitLatency.render("capstan_log_commit_duration_seconds"));
    lines.push("# HELP capstan_invocations Invocations held in state, by status.");
    lines.push("# TYPE capstan_invocations gauge");
    for (const [status, v] of gauges.invocationsByStatus)
      lines.push(`capstan_invocations{status="${status}"} ${v}`);
    lines.push("# HELP capstan_log_commit_batches_total Log batches committed.");
    lines.push("# TYPE capstan_log_commit_batches_total counter");
    lines.push(`capstan_log_commit_batches_total ${gauges.commit.batches}`);
    lines.push("# HELP capstan_log_records_total Log records committed.");
    lines.push("# TYPE capstan_log_records_total counter");
    lines.push(`capstan_log_records_total ${gauges.commit.records}`);
    lines.push("# HELP capstan_log_commit_seconds_total Time spent waiting for log commits.");
    lines.push("# TYPE capstan_log_commit_seconds_total counter");
    lines.push(`capstan_log_commit_seconds_total ${(gauges.commit.totalCommitMs / 1000).toFixed(6)}`);
    lines.push("# HELP capstan_partition_queue_depth Records waiting for the next batch, per partition.");
    lines.push("# TYPE capstan_partition_queue_depth gauge");
    gauges.queueDepths.forEach((d, p) => lines.push(`capstan_partition_queue_depth{partition="${p}"} ${d}`));
    lines.push("# HELP capstan_attempts_in_flight Handler attempts in flight.");
    lines.push("# TYPE capstan_attempts_in_flight gauge");
    lines.push(`capstan_attempts_in_flight ${gauges.inFlightAttempts}`);
    lines.push(
      "# HELP capstan_timers Durable timers scheduled: sleeps, delayed calls, retry backoffs, and the retention of completed invocations.",
    );
    lines.push("# TYPE capstan_timers gauge");
    lines.push(`capstan_timers ${gauges.timers}`);
    return lines.join("\n") + "\n";
  }
}

function increment(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function targetLabels(key: string): string {
  const [service, handler] = key.split("\0");
  return `service="${esc(service!)}",handler="${esc(handler!)}"`;
}

function esc(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
