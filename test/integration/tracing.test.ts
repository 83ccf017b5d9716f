/**
 * Traces of the runtime and the SDK together (docs/observability.md): the runtime's spans through an
 * in-memory exporter, the SDK's through an OpenTelemetry provider registered globally, as an
 * application in a Lambda would. One invocation, suspended by a sleep and by a call, is one trace
 * across its three attempts; replays emit no SDK span twice.
 */
import { context, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-node";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { service } from "@capstan/sdk";
import { HEADER_INVOCATION_ID } from "@capstan/sdk/protocol";
import { Metrics, OtelTracing, Telemetry } from "@capstan/runtime";
import { startTestEnvironment, type TestEnvironment } from "@capstan/runtime/testing";

const runs = { charge: 0 };
let failReserveOnce = true;

const mailer = service({
  name: "Mailer",
  handlers: { notify: async (_ctx, _item: string) => undefined },
});

const inventory = service({
  name: "Inventory",
  handlers: {
    reserve: async (ctx, item: string) => {
      await ctx.run("lookup", () => {
        if (failReserveOnce) {
          failReserveOnce = false;
          throw new Error("inventory database unavailable");
        }
        return item.length;
      });
      return `reserved ${item}`;
    },
  },
});

const checkout = service({
  name: "Checkout",
  handlers: {
    place: async (ctx, item: string) => {
      await ctx.run("charge", () => ++runs.charge);
      await ctx.sleep({ seconds: 5 });
      const reserved = await ctx.serviceClient(inventory).reserve(item);
      ctx.serviceSendClient(mailer).notify(item);
      return reserved;
    },
  },
});

const runtimeSpans = new InMemorySpanExporter();
const sdkSpans = new InMemorySpanExporter();
const sdkProvider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(sdkSpans)] });
let env: TestEnvironment;

beforeAll(async () => {
  sdkProvider.register();
  const tracing = new OtelTracing({ exporter: runtimeSpans, serviceName: "capstan", synchronous: true });
  const telemetry = new Telemetry(tracing, () => undefined, new Metrics(), Date.now);
  env = await startTestEnvironment({ services: [checkout, inventory, mailer], telemetry });
});

afterAll(async () => {
  await env.close();
  await sdkProvider.shutdown();
  trace.disable();
  context.disable();
});

beforeEach(() => {
  runtimeSpans.reset();
  sdkSpans.reset();
});

const ofInvocation = (spans: ReadableSpan[], id: string, name?: string): ReadableSpan[] =>
  spans.filter(
    (s) => s.attributes["capstan.invocation.id"] === id && (name === undefined || s.name === name),
  );
const parentOf = (s: ReadableSpan): string | undefined => s.parentSpanContext?.spanId;
const only = (spans: ReadableSpan[]): ReadableSpan => {
  expect(spans).toHaveLength(1);
  return spans[0]!;
};

test("one trace across three attempts with a sleep and a call; children and links right; no run span replayed", async () => {
  const id = await env.send("Checkout", "place", "book");
  expect(await env.result(id)).toBe("reserved book");
  await env.settle(); // the Mailer's send runs after the caller completed

  const spans = runtimeSpans.getFinishedSpans();
  const start = only(ofInvocation(spans, id, "invocation-start"));
  const traceId = start.spanContext().traceId;
  const attempts = ofInvocation(spans, id, "invocation-attempt").sort(
    (a, b) => Number(a.attributes["capstan.attempt"]) - Number(b.attributes["capstan.attempt"]),
  );
  expect(attempts.map((a) => a.attributes["capstan.attempt"])).toEqual([1, 2, 3]);
  expect(attempts.map((a) => a.attributes["capstan.attempt.outcome"])).toEqual([
    "suspended",
    "suspended",
    "completed",
  ]);
  const end = only(ofInvocation(spans, id, "invocation-end"));
  for (const s of [...attempts, end]) {
    expect(s.spanContext().traceId).toBe(traceId);
    expect(parentOf(s)).toBe(start.spanContext().spanId);
  }
  // Journal commands are events on the attempt that recorded them.
  expect(attempts[0]!.events.map((e) => e.name)).toEqual(["run", "sleep", "suspended"]);
  expect(attempts[1]!.events.map((e) => e.name)).toEqual(["call", "suspended"]);
  expect(attempts[2]!.events.map((e) => e.name)).toEqual(["send"]);

  // The call joins the trace under the attempt that made it; its failed first attempt is an error.
  const callee = only(
    spans.filter((s) => s.name === "invocation-start" && s.attributes["rpc.service"] === "Inventory"),
  );
  expect(callee.spanContext().traceId).toBe(traceId);
  expect(parentOf(callee)).toBe(attempts[1]!.spanContext().spanId);
  const calleeId = String(callee.attributes["capstan.invocation.id"]);
  const calleeAttempts = ofInvocation(spans, calleeId, "invocation-attempt");
  expect(calleeAttempts.map((a) => [a.attributes["capstan.attempt"], a.status.code])).toEqual([
    [1, 2], // SpanStatusCode.ERROR
    [2, 0],
  ]);
  expect(calleeAttempts[0]!.status.message).toContain("inventory database unavailable");

  // The one-way send starts its own trace, linked to the sender's attempt.
  const sent = only(
    spans.filter((s) => s.name === "invocation-start" && s.attributes["rpc.service"] === "Mailer"),
  );
  expect(sent.spanContext().traceId).not.toBe(traceId);
  expect(parentOf(sent)).toBeUndefined();
  expect(sent.links.map((l) => l.context.spanId)).toEqual([attempts[2]!.spanContext().spanId]);

  // The SDK's spans: one per attempt under the runtime's attempt span, one per executed run body.
  const sdk = sdkSpans.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
  const sdkAttempts = sdk.filter((s) => s.name === "attempt Checkout/place");
  expect(sdkAttempts.map((s) => parentOf(s))).toEqual(attempts.map((a) => a.spanContext().spanId));
  const charge = only(sdk.filter((s) => s.name === "run charge"));
  expect(parentOf(charge)).toBe(sdkAttempts[0]!.spanContext().spanId);
  expect(runs.charge).toBe(1);
  const lookups = sdk.filter((s) => s.name === "run lookup");
  expect(lookups.map((s) => s.status.code)).toEqual([2, 0]);
});

test("an incoming traceparent is honoured: the ingress span is its child, the invocation under it", async () => {
  const callerTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
  const callerSpanId = "00f067aa0ba902b7";
  const response = await fetch(`${env.ingressUrl}/Mailer/notify`, {
    method: "POST",
    headers: { "content-type": "application/json", traceparent: `00-${callerTraceId}-${callerSpanId}-01` },
    body: JSON.stringify("pen"),
  });
  expect(response.status).toBe(200);
  const id = response.headers.get(HEADER_INVOCATION_ID);
  await env.settle();

  const spans = runtimeSpans.getFinishedSpans().filter((s) => s.spanContext().traceId === callerTraceId);
  const ingress = only(spans.filter((s) => s.name === "ingress Mailer/notify"));
  expect(parentOf(ingress)).toBe(callerSpanId);
  const start = only(spans.filter((s) => s.name === "invocation-start"));
  expect(parentOf(start)).toBe(ingress.spanContext().spanId);
  expect(start.attributes["capstan.invocation.id"]).toBe(id);
  expect(spans.filter((s) => s.name === "invocation-attempt")).toHaveLength(1);
});

test("after a restart the invocation's next attempt continues its trace, under the same start span", async () => {
  const id = await env.send("Checkout", "place", "lamp");
  await env.settle(); // suspended on its sleep
  const before = runtimeSpans.getFinishedSpans();
  const start = only(ofInvocation(before, id, "invocation-start"));

  await env.restart();
  expect(await env.result(id)).toBe("reserved lamp");

  const attempts = ofInvocation(runtimeSpans.getFinishedSpans(), id, "invocation-attempt");
  expect(attempts.length).toBeGreaterThanOrEqual(2);
  for (const a of attempts) {
    expect(a.spanContext().traceId).toBe(start.spanContext().traceId);
    expect(parentOf(a)).toBe(start.spanContext().spanId);
  }
  expect(ofInvocation(runtimeSpans.getFinishedSpans(), id, "invocation-start")).toHaveLength(1);
});
