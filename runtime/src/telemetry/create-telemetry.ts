/** The telemetry the configuration asks for: OpenTelemetry over OTLP/HTTP when an endpoint is set. */
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import type { RuntimeConfig } from "../config/config";
import type { Log } from "../log";
import { Metrics } from "../metrics/metrics";
import { OtelTracing } from "./otel-tracing";
import { Telemetry } from "./telemetry";
import { noopTracing } from "./tracing";

/**
 * @example
 * const telemetry = createTelemetry(loadConfig(), createLog("json", "info"));
 * // OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318 → spans to http://collector:4318/v1/traces
 */
export function createTelemetry(
  config: Pick<RuntimeConfig, "tracesEndpoint" | "serviceName">,
  log: Log,
  nowMs: () => number = Date.now,
): Telemetry {
  const tracing =
    config.tracesEndpoint === undefined
      ? noopTracing
      : new OtelTracing({
          exporter: new OTLPTraceExporter({ url: config.tracesEndpoint }),
          serviceName: config.serviceName,
        });
  return new Telemetry(tracing, log, new Metrics(), nowMs);
}
