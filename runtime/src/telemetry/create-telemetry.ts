/**
 * The telemetry the configuration asks for: OpenTelemetry traces and metrics over OTLP/HTTP JSON when
 * an endpoint is set, plus the parts only some runtimes have (handler logs, locally).
 */
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import type { RuntimeConfig } from "../config/config";
import type { Log } from "../log";
import { Metrics } from "../metrics/metrics";
import { OtlpMetricsExport } from "../metrics/otlp-metrics-export";
import { OtelTracing } from "./otel-tracing";
import { Telemetry, type TelemetryParts } from "./telemetry";
import { noopTracing } from "./tracing";

/**
 * @example
 * const telemetry = createTelemetry(loadConfig(), createLog("json", "info"));
 * // OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318 → spans to http://collector:4318/v1/traces,
 * // metrics to http://collector:4318/v1/metrics every OTEL_METRIC_EXPORT_INTERVAL (60 s); both with
 * // the resource's service.instance.id = config.nodeId (the node's id) when given
 * await telemetry.shutdown(); // flushes both
 */
export function createTelemetry(
  config: Pick<RuntimeConfig, "tracesEndpoint" | "serviceName"> &
    Partial<Pick<RuntimeConfig, "metricsExport" | "nodeId">>,
  log: Log,
  parts: Pick<TelemetryParts, "handlerLogs"> = {},
  nowMs: () => number = Date.now,
): Telemetry {
  const tracing =
    config.tracesEndpoint === undefined
      ? noopTracing
      : new OtelTracing({
          exporter: new OTLPTraceExporter({ url: config.tracesEndpoint }),
          serviceName: config.serviceName,
          ...(config.nodeId !== undefined && { instanceId: config.nodeId }),
        });
  const metrics = new Metrics();
  const metricsExport: OtlpMetricsExport | undefined =
    config.metricsExport === undefined
      ? undefined
      : new OtlpMetricsExport({
          url: config.metricsExport.url,
          serviceName: config.serviceName,
          ...(config.nodeId !== undefined && { instanceId: config.nodeId }),
          intervalMs: config.metricsExport.intervalMs,
          ...(config.metricsExport.headers !== undefined && { headers: config.metricsExport.headers }),
          // Called on the export interval, after `telemetry` below exists; it reads the runtime's
          // gauges once a runtime reports them (undefined before: nothing is sent).
          snapshot: () => telemetry.snapshotMetrics(),
          onError: (message) => log(message, "warn"),
        });
  const telemetry: Telemetry = new Telemetry(tracing, log, metrics, nowMs, {
    ...parts,
    ...(metricsExport !== undefined && { metricsExport }),
  });
  return telemetry;
}
