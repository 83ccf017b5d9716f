/**
 * OpenTelemetry metrics export: the same metric families as `GET /metrics` (Metrics.snapshot), pushed
 * as OTLP/HTTP JSON to a collector every interval and once more at shutdown. The OpenTelemetry SDK's
 * PeriodicExportingMetricReader schedules and collects; our MetricProducer turns a snapshot into OTel
 * data points (counters as cumulative monotonic sums, gauges, explicit-bucket histograms); the
 * exporter serializes with the OTLP transformer's JsonMetricsSerializer and POSTs it with fetch (no
 * OTLP metrics exporter release pairs with the installed SDK line). The MeterProvider is private to
 * the runtime, as the tracer provider is.
 */
import { ValueType } from "@opentelemetry/api";
import { hrTime, ExportResultCode, type ExportResult } from "@opentelemetry/core";
import { JsonMetricsSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  PeriodicExportingMetricReader,
  type MetricData,
  type MetricProducer,
  type PushMetricExporter,
  type ResourceMetrics,
} from "@opentelemetry/sdk-metrics";
import { resourceAttributes } from "../telemetry/resource-attributes";
import type { MetricFamily } from "./metrics";

/** One export's time to answer before it counts as failed (OTel's default is 30 s; ours is shorter). */
export const METRICS_EXPORT_TIMEOUT_MS = 10_000;
const SCOPE = { name: "capstan-runtime" };

export interface OtlpMetricsExportOptions {
  /** The collector's metrics URL (…/v1/metrics). */
  url: string;
  /** Resource `service.name`. */
  serviceName: string;
  /** Resource `service.instance.id`: the node's id, which tells nodes of a cluster apart. */
  instanceId?: string;
  /** Between pushes (OTEL_METRIC_EXPORT_INTERVAL). */
  intervalMs: number;
  /** The metrics now; undefined while the runtime is not started yet (nothing is sent then). */
  snapshot: () => Promise<MetricFamily[] | undefined>;
  /** Told about a failed push (the next one is tried anyway). */
  onError?: (message: string) => void;
  /** Sent with every push (OTEL_EXPORTER_OTLP_(METRICS_)HEADERS: e.g. a backend's API key). */
  headers?: Record<string, string>;
}

/**
 * @example
 * const exporter = new OtlpMetricsExport({ url: "http://collector:4318/v1/metrics", serviceName: "capstan", intervalMs: 60_000, snapshot });
 * await exporter.shutdown(); // pushes once more, then stops
 */
export class OtlpMetricsExport {
  private readonly provider: MeterProvider;
  private readonly reader: PeriodicExportingMetricReader;
  /** When the counters started counting: the start of every cumulative point. */
  private readonly startTime = hrTime();

  constructor(options: OtlpMetricsExportOptions) {
    const producer: MetricProducer = {
      collect: async () => {
        const families = await options.snapshot();
        return {
          resourceMetrics: {
            resource: resourceFromAttributes({}),
            scopeMetrics:
              families === undefined
                ? []
                : [{ scope: SCOPE, metrics: toMetricData(families, this.startTime) }],
          },
          errors: [],
        };
      },
    };
    this.reader = new PeriodicExportingMetricReader({
      exporter: new JsonHttpMetricExporter(options.url, options.onError, options.headers),
      exportIntervalMillis: options.intervalMs,
      exportTimeoutMillis: Math.min(options.intervalMs, METRICS_EXPORT_TIMEOUT_MS),
      metricProducers: [producer],
    });
    this.provider = new MeterProvider({
      resource: resourceFromAttributes(resourceAttributes(options)),
      readers: [this.reader],
    });
  }

  /** Pushes the metrics now (tests, before a planned stop). */
  forceFlush(): Promise<void> {
    return this.reader.forceFlush();
  }

  /** Pushes once more and stops. */
  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }
}

/** A snapshot's families as OTel metric data (points stamped now, cumulative since `startTime`). */
export function toMetricData(families: readonly MetricFamily[], startTime: [number, number]): MetricData[] {
  const endTime = hrTime();
  const out: MetricData[] = [];
  for (const f of families) {
    if (f.series.length === 0) continue;
    // Counts are integers; seconds are not.
    const valueType = f.unit === "s" ? ValueType.DOUBLE : ValueType.INT;
    const descriptor = { name: f.name, description: f.help, unit: f.unit, valueType };
    if (f.kind === "histogram") {
      out.push({
        descriptor,
        aggregationTemporality: AggregationTemporality.CUMULATIVE,
        dataPointType: DataPointType.HISTOGRAM,
        dataPoints: f.series.map((s) => ({
          startTime,
          endTime,
          attributes: { ...s.labels },
          value: {
            // OTel counts per bucket (plus the one above the last bound); Prometheus's are cumulative.
            buckets: {
              boundaries: [...f.boundsSeconds],
              counts: [...s.cumulative, s.count].map((c, i, all) => c - (i === 0 ? 0 : all[i - 1]!)),
            },
            sum: s.sum,
            count: s.count,
          },
        })),
      });
      continue;
    }
    const dataPoints = f.series.map((s) => ({
      startTime,
      endTime,
      attributes: { ...s.labels },
      value: s.value,
    }));
    out.push(
      f.kind === "counter"
        ? {
            descriptor,
            aggregationTemporality: AggregationTemporality.CUMULATIVE,
            dataPointType: DataPointType.SUM,
            isMonotonic: true,
            dataPoints,
          }
        : {
            descriptor,
            aggregationTemporality: AggregationTemporality.CUMULATIVE,
            dataPointType: DataPointType.GAUGE,
            dataPoints,
          },
    );
  }
  return out;
}

/** OTLP/HTTP JSON: one POST per export, refused answers reported and counted as failed. */
class JsonHttpMetricExporter implements PushMetricExporter {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly url: string,
    private readonly onError: (message: string) => void = () => undefined,
    private readonly headers: Record<string, string> = {},
  ) {}

  export(metrics: ResourceMetrics, done: (result: ExportResult) => void): void {
    const sent = this.post(metrics).then(
      () => done({ code: ExportResultCode.SUCCESS }),
      (e: unknown) => {
        const error = e instanceof Error ? e : new Error(String(e));
        this.onError(`metrics export to ${withoutCredentials(this.url)} failed: ${error.message}`);
        done({ code: ExportResultCode.FAILED, error });
      },
    );
    this.pending.add(sent);
    void sent.finally(() => this.pending.delete(sent));
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.pending);
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
  }

  selectAggregationTemporality(): AggregationTemporality {
    return AggregationTemporality.CUMULATIVE;
  }

  private async post(metrics: ResourceMetrics): Promise<void> {
    if (metrics.scopeMetrics.every((s) => s.metrics.length === 0)) return;
    const body = JsonMetricsSerializer.serializeRequest(metrics);
    if (body === undefined) throw new Error("the metrics could not be serialized");
    const res = await fetch(this.url, {
      method: "POST",
      headers: { ...this.headers, "content-type": "application/json" },
      body,
      signal: AbortSignal.timeout(METRICS_EXPORT_TIMEOUT_MS),
    });
    await res.arrayBuffer(); // drains the connection for reuse
    if (!res.ok) throw new Error(`the collector answered ${res.status}`);
  }
}

/** The collector's URL as logs may show it: a user name or password written into it is left out. */
export function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username === "" && parsed.password === "") return url;
    parsed.username = "";
    parsed.password = "";
    return parsed.toString();
  } catch {
    return "(the configured collector URL)";
  }
}
