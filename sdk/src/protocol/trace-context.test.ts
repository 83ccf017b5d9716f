import {
  decodeInvokeRequest,
  decodeInvokeResponse,
  formatTraceparent,
  isProtocolError,
  MAX_TRACEPARENT_LENGTH,
  parseTraceparent,
} from "./index";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID = "00f067aa0ba902b7";

describe("traceparent", () => {
  test("parses what it formats, with the sampled flag", () => {
    for (const sampled of [true, false]) {
      const ids = { traceId: TRACE_ID, spanId: SPAN_ID, sampled };
      expect(parseTraceparent(formatTraceparent(ids))).toEqual(ids);
    }
  });

  test("refuses malformed and invalid headers instead of failing the request", () => {
    for (const bad of [
      undefined,
      "",
      `00-${TRACE_ID}-${SPAN_ID}`,
      `00-${"0".repeat(32)}-${SPAN_ID}-01`,
      `00-${TRACE_ID}-${"0".repeat(16)}-01`,
      `ff-${TRACE_ID}-${SPAN_ID}-01`,
      `00-${TRACE_ID.toUpperCase()}-${SPAN_ID}-01`,
      `00-${TRACE_ID}-${SPAN_ID}-01-extra`,
    ])
      expect(parseTraceparent(bad)).toBeUndefined();
    // A later version may append fields (W3C §3.2.4): its first four are still read.
    expect(parseTraceparent(`01-${TRACE_ID}-${SPAN_ID}-01-extra`)?.traceId).toBe(TRACE_ID);
  });

  test("a header of MAX_TRACEPARENT_LENGTH is read; one character more is ignored", () => {
    const base = `01-${TRACE_ID}-${SPAN_ID}-01-`;
    const atLimit = base + "x".repeat(MAX_TRACEPARENT_LENGTH - base.length);
    expect(parseTraceparent(atLimit)?.spanId).toBe(SPAN_ID);
    expect(parseTraceparent(atLimit + "x")).toBeUndefined();
  });
});

describe("protocol fields for observability", () => {
  const request = {
    type: "invoke",
    protocolVersion: 1,
    invocationId: "inv_1_abcdefgh1234",
    target: { service: "S", handler: "h" },
    attempt: 1,
    attemptToken: "t",
    headers: {},
    journal: [{ index: 0, kind: "input", value: "" }],
    retry: { attemptsSinceLastEntry: 0 },
    nowMs: 1,
  };

  test("an invoke request's traceparent must be a valid one", () => {
    const traceparent = `00-${TRACE_ID}-${SPAN_ID}-01`;
    expect(decodeInvokeRequest({ ...request, traceparent }).traceparent).toBe(traceparent);
    expect(decodeInvokeRequest(request).traceparent).toBeUndefined();
    let error: unknown;
    try {
      decodeInvokeRequest({ ...request, traceparent: "nope" });
    } catch (e) {
      error = e;
    }
    expect(isProtocolError(error) && error.code).toBe("PROTOCOL_INVALID_MESSAGE");
  });

  test("a retry outcome names the failed step; an unknown entry kind is refused", () => {
    const response = (entry: unknown) => ({
      type: "response",
      protocolVersion: 1,
      invocationId: "inv_1_abcdefgh1234",
      attemptToken: "t",
      entries: [],
      outcome: { kind: "retry", error: { message: "boom", stack: "Error: boom\n    at x" }, entry },
    });
    const entry = { index: 3, kind: "run", name: "charge" };
    expect(decodeInvokeResponse(response(entry)).outcome).toEqual({
      kind: "retry",
      error: { message: "boom", stack: "Error: boom\n    at x" },
      entry,
    });
    expect(() => decodeInvokeResponse(response({ index: 3, kind: "teleport" }))).toThrow(
      /unknown entry kind/,
    );
  });
});
