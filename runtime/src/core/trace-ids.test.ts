import { formatInvocationId } from "@capstan/sdk/protocol";
import { Harness, newInvocation, rec } from "./test-support/builders";
import { attemptSpanId, childTrace, derivedTraceId, endSpanId, ownTrace, startSpanId } from "./trace-ids";

const id = formatInvocationId(3, "a1b2c3d4e5f6");

test("ids are W3C hex, the same on every call (a re-emit after a crash replaces, never duplicates)", () => {
  expect(derivedTraceId(id)).toMatch(/^[0-9a-f]{32}$/);
  for (const spanId of [startSpanId(id), attemptSpanId(id, 1), endSpanId(id)])
    expect(spanId).toMatch(/^[0-9a-f]{16}$/);
  expect(attemptSpanId(id, 2)).toBe(attemptSpanId(id, 2));
  expect(new Set([startSpanId(id), attemptSpanId(id, 1), attemptSpanId(id, 2), endSpanId(id)]).size).toBe(4);
  expect(derivedTraceId(formatInvocationId(3, "a1b2c3d4e5f7"))).not.toBe(derivedTraceId(id));
});

test("a call joins the caller's trace under its attempt; a send starts a trace linked to it", () => {
  const h = new Harness(3, 16);
  const caller = {
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    parentSpanId: "00f067aa0ba902b7",
    sampled: false,
  };
  h.apply(rec.invoke({ ...newInvocation(id), trace: caller }));
  const parent = h.inv(id);
  const child = formatInvocationId(5, "ffeeddccbbaa");

  expect(parent.trace).toEqual(caller);
  expect(childTrace(parent, child, false)).toEqual({
    traceId: caller.traceId,
    parentSpanId: attemptSpanId(id, parent.attempt),
    sampled: false,
  });
  expect(childTrace(parent, child, true)).toEqual({
    traceId: derivedTraceId(child),
    sampled: false,
    link: { traceId: caller.traceId, spanId: attemptSpanId(id, parent.attempt) },
  });
});

test("an invocation without a caller's trace gets its own, derived from its id", () => {
  const h = new Harness(3, 16);
  h.apply(rec.invoke(newInvocation(id)));
  expect(h.inv(id).trace).toEqual(ownTrace(id));
});
