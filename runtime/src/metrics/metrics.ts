/**
 * The runtime's metrics, in one place for both outputs: `snapshot()` lists every metric family with
 * its series, `render()` writes them as Prometheus text (`GET /metrics`) and the OTLP export
 * (otlp-metrics-export.ts) converts the same snapshot, so both always carry the same metrics.
 * Counters and histograms live here; gauges are read when a snapshot is taken.
 */
import { Histogram, renderHistogram, type HistogramSeries } from "./histogram";
import { labelText, type Labels } from "./labels";

/** Upper bounds of the log commit latency histogram: an fsync takes 0.1–20 ms on most disks. */
export const COMMIT_LATENCY_BOUNDS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
/** Upper bounds of the invocation latency histogram: from a no-op handler to a multi-day workflow. */
export const INVOCATION_LATENCY_BOUNDS_SECONDS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86_400,
];

/** What the runtime reads at snapshot time (from the partitions and the node). */
export interface MetricGauges {
  invocationsByStatus: Map<string, number>;
  commit: { batches: number; records: number; totalCommitMs: number };
  /** [partition, records waiting] of the partitions this node holds. */
  queueDepths: ReadonlyArray<readonly [partition: number, depth: number]>;
  inFlightAttempts: number;
  /** Durable timers the partitions hold (their states' counts). */
  timers: number;
  /** Timers the timer service holds in memory (its windows). */
  timersInMemory: number;
}

export interface NumberSeries {
  labels: Labels;
  value: number;
}

/** One metric with its series; `unit` in UCUM as OTel wants it ("s", "1"). */
export type MetricFamily =
  | { kind: "counter"; name: string; help: string; unit: string; series: NumberSeries[] }
  | { kind: "gauge"; name: string; help: string; unit: string; series: NumberSeries[] }
  | {
      kind: "histogram";
      name: string;
      help: string;
      unit: string;
      boundsSeconds: readonly number[];
      series: HistogramSeries[];
    };

/**
 * @example
 * metrics.countAttemptFailure("Checkout", "place", "HANDLER_ERROR");
 * // GET /metrics → capstan_attempt_failures_total{service="Checkout",handler="place",cause="HANDLER_ERROR"} 1
 */
export class Metrics {
  /** Label text → series, per counter. */
  private readonly handlerInvocations = new Map<string, NumberSeries>();
  private readonly invokeFailures = new Map<string, NumberSeries>();
  private readonly attemptFailures = new Map<string, NumberSeries>();
  private readonly retries = new Map<string, NumberSeries>();
  private readonly pauses = new Map<string, NumberSeries>();
  private readonly peerRefusals = new Map<string, NumberSeries>();
  private readonly commitLatency = new Histogram(COMMIT_LATENCY_BOUNDS_SECONDS);
  private readonly invocationLatency = new Histogram(INVOCATION_LATENCY_BOUNDS_SECONDS);

  countAttemptFailure(service: string, handler: string, cause: string): void {
    increment(this.attemptFailures, { service, handler, cause });
  }

  countRetry(service: string, handler: string): void {
    increment(this.retries, { service, handler });
  }

  countPause(service: string, handler: string): void {
    increment(this.pauses, { service, handler });
  }

  observeCommit(ms: number): void {
    this.commitLatency.observe({}, ms / 1000);
  }

  /** From creation to completion (record times), by target. */
  observeInvocation(service: string, handler: string, ms: number): void {
    this.invocationLatency.observe({ service, handler }, ms / 1000);
  }

  countHandlerInvocation(service: string, handler: string): void {
    increment(this.handlerInvocations, { service, handler });
  }

  /** A node-to-node request this node refused before running it, by code (e.g. PEER_OVERLOADED). */
  countPeerRefusal(code: string): void {
    increment(this.peerRefusals, { code });
  }

  countInvokeFailure(code: string): void {
    increment(this.invokeFailures, { code });
  }

  /**
   * Every metric now, in `GET /metrics` order: the counters and histograms kept here, and the ones
   * read from `gauges` (absent: left out, e.g. once the runtime has closed).
   */
  snapshot(gauges?: MetricGauges): MetricFamily[] {
    const counter = (
      name: string,
      help: string,
      series: Map<string, NumberSeries> | NumberSeries[],
    ): MetricFamily & { kind: "counter" } => ({
      kind: "counter",
      name,
      help,
      unit: "1",
      series: [...series.values()],
    });
    const own: MetricFamily[] = [
      counter(
        "capstan_handler_invocations_total",
        "Requests sent to a handler (one per attempt).",
        this.handlerInvocations,
      ),
      counter(
        "capstan_invoke_failures_total",
        "Attempts the invoker could not complete (network, timeout, Lambda errors), by code; a handler's own errors are in capstan_attempt_failures_total.",
        this.invokeFailures,
      ),
      counter(
        "capstan_attempt_failures_total",
        "Failed attempts by target and cause (HANDLER_ERROR, NON_DETERMINISM, or the invoker's error code).",
        this.attemptFailures,
      ),
      counter("capstan_retries_total", "Attempts started after a failed attempt.", this.retries),
      counter(
        "capstan_pauses_total",
        "Invocations paused: retries exhausted, a terminal invoker error, or admin.",
        this.pauses,
      ),
      counter(
        "capstan_peer_requests_refused_total",
        "Node-to-node requests refused before they ran, by code (PEER_OVERLOADED: the replay cache was full of fresh nonces).",
        this.peerRefusals,
      ),
      {
        kind: "histogram",
        name: "capstan_invocation_duration_seconds",
        help: "From creation to completion, completed invocations.",
        unit: "s",
        boundsSeconds: INVOCATION_LATENCY_BOUNDS_SECONDS,
        series: this.invocationLatency.all(),
      },
      {
        kind: "histogram",
        name: "capstan_log_commit_duration_seconds",
        help: "Time of one log batch commit (append to durable).",
        unit: "s",
        boundsSeconds: COMMIT_LATENCY_BOUNDS_SECONDS,
        series: this.commitLatency.all(),
      },
    ];
    if (gauges === undefined) return own;
    return [
      ...own,
      {
        kind: "gauge",
        name: "capstan_invocations",
        help: "Invocations held in state, by status.",
        unit: "1",
        series: [...gauges.invocationsByStatus].map(([status, value]) => ({ labels: { status }, value })),
      },
      counter("capstan_log_commit_batches_total", "Log batches committed.", [
        { labels: {}, value: gauges.commit.batches },
      ]),
      counter("capstan_log_records_total", "Log records committed.", [
        { labels: {}, value: gauges.commit.records },
      ]),
      {
        ...counter("capstan_log_commit_seconds_total", "Time spent waiting for log commits.", [
          { labels: {}, value: gauges.commit.totalCommitMs / 1000 },
        ]),
        unit: "s",
      },
      {
        kind: "gauge",
        name: "capstan_partition_queue_depth",
        help: "Records waiting for the next batch, per partition.",
        unit: "1",
        series: gauges.queueDepths.map(([p, value]) => ({ labels: { partition: String(p) }, value })),
      },
      {
        kind: "gauge",
        name: "capstan_attempts_in_flight",
        help: "Handler attempts in flight.",
        unit: "1",
        series: [{ labels: {}, value: gauges.inFlightAttempts }],
      },
      {
        kind: "gauge",
        name: "capstan_timers",
        help: "Durable timers scheduled: sleeps, delayed calls, retry backoffs, and the retention of completed invocations.",
        unit: "1",
        series: [{ labels: {}, value: gauges.timers }],
      },
      {
        kind: "gauge",
        name: "capstan_timers_in_memory",
        help: "Timers held by the timer service's windows (the earliest of each partition; the rest are paged from state).",
        unit: "1",
        series: [{ labels: {}, value: gauges.timersInMemory }],
      },
    ];
  }

  /**
   * Prometheus text exposition of `snapshot(gauges)`, every series labelled `node_id` (NODE_ID_LABEL)
   * with the node that answers, so series scraped from several nodes of a cluster never collide and
   * sum across nodes with `sum without (node_id, instance)`.
   */
  render(gauges: MetricGauges, nodeId: string): string {
    const lines: string[] = [];
    for (const family of withLabel(this.snapshot(gauges), NODE_ID_LABEL, nodeId)) {
      lines.push(`# HELP ${family.name} ${family.help}`);
      lines.push(`# TYPE ${family.name} ${family.kind}`);
      if (family.kind === "histogram") {
        lines.push(...renderHistogram(family.name, family.boundsSeconds, family.series));
        continue;
      }
      for (const { labels, value } of family.series) {
        const text = labelText(labels);
        lines.push(`${family.name}${text === "" ? "" : `{${text}}`} ${formatValue(value)}`);
      }
    }
    return lines.join("\n") + "\n";
  }
}

/** The label naming the node that answered a scrape (the OTLP export carries it as `service.instance.id`). */
export const NODE_ID_LABEL = "node_id";

/** The families with `name="value"` last on every series (copies; the live series are untouched). */
function withLabel(families: MetricFamily[], name: string, value: string): MetricFamily[] {
  return families.map((f): MetricFamily => {
    if (f.kind === "histogram")
      return { ...f, series: f.series.map((s) => ({ ...s, labels: { ...s.labels, [name]: value } })) };
    return { ...f, series: f.series.map((s) => ({ ...s, labels: { ...s.labels, [name]: value } })) };
  });
}

function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(6);
}

function increment(map: Map<string, NumberSeries>, labels: Labels): void {
  const key = labelText(labels);
  const series = map.get(key);
  if (series === undefined) map.set(key, { labels, value: 1 });
  else series.value += 1;
}
