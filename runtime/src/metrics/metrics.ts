/** Prometheus text exposition of the runtime's counters. Counters live here; gauges are read at scrape. */
export class Metrics {
  /** `service\0handler` → requests sent to a handler (every attempt). */
  private readonly handlerInvocations = new Map<string, number>();
  private readonly invokeFailures = new Map<string, number>();

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
    lines.push("# HELP capstan_invoke_failures_total Failed handler attempts by error code.");
    lines.push("# TYPE capstan_invoke_failures_total counter");
    for (const [code, v] of this.invokeFailures)
      lines.push(`capstan_invoke_failures_total{code="${esc(code)}"} ${v}`);
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

function esc(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}
