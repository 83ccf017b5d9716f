/**
 * The runtime's metrics reach a real OTLP/HTTP receiver on 127.0.0.1 as JSON, from a runtime process
 * configured the way a user configures it: the standard OTEL_* variables. The same metrics as
 * `GET /metrics`: the failed attempt's counter arrives with its labels.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { startOtlpReceiver, type OtlpReceiver } from "./support/otlp-receiver";

interface OtlpAttribute {
  key: string;
  value: { stringValue?: string };
}
interface OtlpPoint {
  attributes: OtlpAttribute[];
  asInt?: number | string;
  asDouble?: number;
  count?: number | string;
  bucketCounts?: Array<number | string>;
  explicitBounds?: number[];
}
interface OtlpMetric {
  name: string;
  unit?: string;
  sum?: { dataPoints: OtlpPoint[]; isMonotonic: boolean; aggregationTemporality: number };
  gauge?: { dataPoints: OtlpPoint[] };
  histogram?: { dataPoints: OtlpPoint[] };
}
interface OtlpRequest {
  resourceMetrics: Array<{
    resource: { attributes: OtlpAttribute[] };
    scopeMetrics: Array<{ scope: { name: string }; metrics: OtlpMetric[] }>;
  }>;
}

const REGISTER = path.join(__dirname, "../chaos/support/swc-register.js");
const CHILD = path.join(__dirname, "support/metered-child.ts");

let receiver: OtlpReceiver<OtlpRequest>;
let url: string;
let received: OtlpReceiver<OtlpRequest>["received"];

beforeAll(async () => {
  receiver = await startOtlpReceiver<OtlpRequest>();
  ({ url, received } = receiver);
});

afterAll(() => receiver?.close());

const attrs = (point: OtlpPoint): Record<string, string | undefined> =>
  Object.fromEntries(point.attributes.map((a) => [a.key, a.value.stringValue]));

test("OTEL_EXPORTER_OTLP_ENDPOINT pushes the runtime's metrics as OTLP JSON, labels kept", async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ["-r", REGISTER, CHILD], {
    env: {
      ...process.env,
      OTEL_EXPORTER_OTLP_ENDPOINT: url,
      OTEL_SERVICE_NAME: "capstan-metrics-test",
      OTEL_TRACES_EXPORTER: "none",
      CAPSTAN_NODE_ID: "node-metrics-test",
    },
  });
  expect((JSON.parse(stdout) as { output: string }).output).toBe("ok");

  const metricsPosts = received.filter((r) => r.line.startsWith("POST /v1/metrics"));
  expect(metricsPosts.map((r) => r.line)).toContain("POST /v1/metrics application/json");
  expect(received.filter((r) => r.line.startsWith("POST /v1/traces"))).toEqual([]);
  const resourceMetrics = metricsPosts.flatMap((r) => r.body.resourceMetrics);
  expect(resourceMetrics[0]!.resource.attributes).toContainEqual({
    key: "service.name",
    value: { stringValue: "capstan-metrics-test" },
  });
  // The node's id names the instance, so pushes from the nodes of a cluster stay apart.
  expect(resourceMetrics[0]!.resource.attributes).toContainEqual({
    key: "service.instance.id",
    value: { stringValue: "node-metrics-test" },
  });
  // The first push, taken while the runtime runs: counters, histograms and gauges.
  const metrics = resourceMetrics[0]!.scopeMetrics.flatMap((s) => s.metrics);
  const byName = new Map(metrics.map((m) => [m.name, m]));

  const failures = byName.get("capstan_attempt_failures_total")!;
  expect(failures.sum).toMatchObject({ isMonotonic: true, aggregationTemporality: 2 });
  expect(failures.sum!.dataPoints.map((p) => [attrs(p), Number(p.asInt)])).toEqual([
    [{ service: "Flaky", handler: "once", cause: "HANDLER_ERROR" }, 1],
  ]);
  expect(byName.get("capstan_retries_total")!.sum!.dataPoints.map((p) => Number(p.asInt))).toEqual([1]);
  const latency = byName.get("capstan_invocation_duration_seconds")!;
  expect(latency.unit).toBe("s");
  const point = latency.histogram!.dataPoints[0]!;
  expect(attrs(point)).toEqual({ service: "Flaky", handler: "once" });
  expect(Number(point.count)).toBe(1);
  expect(point.bucketCounts!.map(Number).reduce((a, b) => a + b, 0)).toBe(1);
  expect(point.bucketCounts).toHaveLength(point.explicitBounds!.length + 1);
  const completed = byName
    .get("capstan_invocations")!
    .gauge!.dataPoints.find((p) => attrs(p).status === "completed");
  expect(Number(completed?.asInt)).toBe(1);
});
