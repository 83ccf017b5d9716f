/**
 * The runtime's spans reach a real OTLP/HTTP receiver on 127.0.0.1 as JSON, from a runtime process
 * configured the way a user configures it: the standard OTEL_* variables.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { startOtlpReceiver, type OtlpReceiver } from "./support/otlp-receiver";

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Array<{ key: string; value: { stringValue?: string; intValue?: string | number } }>;
}
interface OtlpRequest {
  resourceSpans: Array<{
    resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> };
    scopeSpans: Array<{ spans: OtlpSpan[] }>;
  }>;
}

const REGISTER = path.join(__dirname, "../chaos/support/swc-register.js");
const CHILD = path.join(__dirname, "support/traced-child.ts");

let receiver: OtlpReceiver<OtlpRequest>;
let url: string;
let received: OtlpReceiver<OtlpRequest>["received"];

beforeAll(async () => {
  receiver = await startOtlpReceiver<OtlpRequest>();
  ({ url, received } = receiver);
});

afterAll(() => receiver?.close());

test("OTEL_EXPORTER_OTLP_ENDPOINT sends an invocation's spans as OTLP JSON, one trace, service name set", async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ["-r", REGISTER, CHILD], {
    env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: url, OTEL_SERVICE_NAME: "capstan-test" },
  });
  const { id, output } = JSON.parse(stdout) as { id: string; output: string };
  expect(output).toBe("Hello, Ada!");

  expect(received.map((r) => r.line)).toContain("POST /v1/traces application/json");
  const resourceSpans = received.flatMap((r) => r.body.resourceSpans);
  expect(resourceSpans[0]!.resource.attributes).toContainEqual({
    key: "service.name",
    value: { stringValue: "capstan-test" },
  });
  const spans = resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
  const mine = spans.filter((s) =>
    s.attributes.some((a) => a.key === "capstan.invocation.id" && a.value.stringValue === id),
  );
  expect(mine.map((s) => s.name).sort()).toEqual([
    "invocation-attempt",
    "invocation-attempt",
    "invocation-end",
    "invocation-start",
  ]);
  const start = mine.find((s) => s.name === "invocation-start")!;
  for (const s of mine.filter((x) => x !== start)) {
    expect(s.traceId).toBe(start.traceId);
    expect(s.parentSpanId).toBe(start.spanId);
  }
});
