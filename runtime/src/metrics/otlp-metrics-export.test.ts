import http from "node:http";
import type { AddressInfo } from "node:net";
import { Metrics } from "./metrics";
import { OtlpMetricsExport, withoutCredentials } from "./otlp-metrics-export";

interface Point {
  attributes: Array<{ key: string; value: { stringValue?: string } }>;
  asInt?: string | number;
  bucketCounts?: Array<string | number>;
}
interface Body {
  resourceMetrics: Array<{
    scopeMetrics: Array<{
      metrics: Array<{ name: string; sum?: { dataPoints: Point[] }; histogram?: { dataPoints: Point[] } }>;
    }>;
  }>;
}

let server: http.Server;
let url: string;
const bodies: Body[] = [];
const keys: Array<string | undefined> = [];
let status = 500;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      bodies.push(JSON.parse(Buffer.concat(chunks).toString("utf8")) as Body);
      keys.push(req.headers["x-api-key"] as string | undefined);
      res.writeHead(status, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/metrics`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

test("pushes the snapshot; a refused push is reported and the next one carries the counts so far", async () => {
  const metrics = new Metrics();
  const errors: string[] = [];
  let ready = false;
  const exporter = new OtlpMetricsExport({
    url,
    serviceName: "unit",
    intervalMs: 60_000,
    snapshot: async () => (ready ? metrics.snapshot() : undefined),
    onError: (m) => errors.push(m),
  });
  await exporter.forceFlush(); // no runtime yet: nothing is sent
  expect(bodies).toHaveLength(0);

  ready = true;
  metrics.countAttemptFailure("Svc", "h", "HANDLER_ERROR");
  metrics.observeInvocation("Svc", "h", 30); // 0.03 s: the 0.05 bucket
  await exporter.forceFlush();
  expect(errors).toEqual([`metrics export to ${url} failed: the collector answered 500`]);

  status = 200;
  metrics.countAttemptFailure("Svc", "h", "HANDLER_ERROR");
  await exporter.shutdown();
  expect(errors).toHaveLength(1);
  const last = bodies.at(-1)!.resourceMetrics[0]!.scopeMetrics.flatMap((s) => s.metrics);
  const failures = last.find((m) => m.name === "capstan_attempt_failures_total")!.sum!.dataPoints;
  expect(failures.map((p) => Number(p.asInt))).toEqual([2]); // cumulative
  const latency = last.find((m) => m.name === "capstan_invocation_duration_seconds")!.histogram!
    .dataPoints[0]!;
  // Per bucket (OTel), not cumulative (Prometheus): one observation, in one bucket.
  expect(latency.bucketCounts!.map(Number).filter((c) => c > 0)).toEqual([1]);
  expect(latency.bucketCounts!.map(Number).indexOf(1)).toBe(3); // (0.025, 0.05]
});

test("every push carries the configured headers (a backend's API key)", async () => {
  const metrics = new Metrics();
  const exporter = new OtlpMetricsExport({
    url,
    serviceName: "unit",
    intervalMs: 60_000,
    snapshot: async () => metrics.snapshot(),
    headers: { "x-api-key": "k-123" },
  });
  metrics.countAttemptFailure("Svc", "h", "HANDLER_ERROR");
  const before = keys.length;
  await exporter.shutdown();
  expect(keys.slice(before)).toEqual(["k-123"]);
});

test("a refused push is logged without the credentials written into the collector's URL", () => {
  expect(withoutCredentials("https://user:s3cret@collector.example:4318/v1/metrics")).toBe(
    "https://collector.example:4318/v1/metrics",
  );
  expect(withoutCredentials("http://127.0.0.1:4318/v1/metrics")).toBe("http://127.0.0.1:4318/v1/metrics");
  expect(withoutCredentials("not a url s3cret")).not.toContain("s3cret");
});
