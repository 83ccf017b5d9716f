/**
 * The SDK's spans with an application's provider registered, as in a Lambda: they nest under the
 * runtime's attempt span named by the request, a replayed run makes no span, and lambdaHandler
 * flushes the provider before it returns (a batch processor would otherwise hold them past the
 * moment Lambda freezes the environment).
 */
import { context, trace } from "@opentelemetry/api";
import { BatchSpanProcessor, InMemorySpanExporter, NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { service } from "../index";
import { invokeRequest } from "../test-support/journal-builder";
import { lambdaHandler } from "./index";

const exporter = new InMemorySpanExporter();
// Exports only when flushed: a delay and batch size no test reaches.
const provider = new NodeTracerProvider({
  spanProcessors: [
    new BatchSpanProcessor(exporter, { scheduledDelayMillis: 3_600_000, maxExportBatchSize: 10_000 }),
  ],
});
beforeAll(() => provider.register());
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
});

const shop = service({
  name: "Shop",
  handlers: {
    buy: async (ctx, item: string) => {
      const price = await ctx.run("price", () => item.length);
      const paid = await ctx.run("pay", () => `paid ${price}`);
      return paid;
    },
  },
});

test("spans nest under the request's traceparent, skip replayed runs, and are flushed before return", async () => {
  const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
  const attemptSpanId = "00f067aa0ba902b7";
  const request = invokeRequest({ service: "Shop", handler: "buy" }, "mug", [
    { kind: "run", name: "price", result: { kind: "value", value: "3" } },
  ]);
  const handler = lambdaHandler(shop);

  await handler(
    { ...request, attempt: 2, traceparent: `00-${traceId}-${attemptSpanId}-01` },
    { getRemainingTimeInMillis: () => 60_000 },
  );

  const spans = exporter.getFinishedSpans();
  expect(spans.map((s) => s.name).sort()).toEqual(["attempt Shop/buy", "run pay"]);
  const attempt = spans.find((s) => s.name === "attempt Shop/buy")!;
  const pay = spans.find((s) => s.name === "run pay")!;
  expect(attempt.spanContext().traceId).toBe(traceId);
  expect(attempt.parentSpanContext?.spanId).toBe(attemptSpanId);
  // No checkpoint channel in the request: the attempt suspends until the runtime records pay's result.
  expect(attempt.attributes).toMatchObject({ "capstan.attempt": 2, "capstan.attempt.outcome": "suspended" });
  expect(pay.parentSpanContext?.spanId).toBe(attempt.spanContext().spanId);
});
