import {
  decodeCheckpointAck,
  decodeCheckpointRequest,
  decodeDiscoveryResponse,
  decodeEntry,
  decodeInvokeRequest,
  decodeInvokeResponse,
  decodeRuntimeToSdk,
  isProtocolError,
  MAX_CHECKPOINT_WAIT_MS,
  MAX_EAGER_STATE_BYTES,
  MAX_HEADERS_BYTES,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  MAX_JOURNAL_ENTRIES,
  MAX_KEY_LENGTH,
  MAX_NAME_LENGTH,
  MAX_REQUEST_BYTES,
  MAX_VALUE_BYTES,
  parseJson,
  PROTOCOL_VERSION,
} from "./index";
import type { ProtocolErrorCode } from "./index";

function codeOf(fn: () => unknown): ProtocolErrorCode | "none" {
  try {
    fn();
    return "none";
  } catch (e) {
    if (isProtocolError(e)) return e.code;
    throw e;
  }
}

const baseRequest = () => ({
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
});

describe("protocol decoders at their limits", () => {
  test("a value of exactly MAX_VALUE_BYTES passes; one byte more is PROTOCOL_LIMIT_EXCEEDED", () => {
    const at = "x".repeat(MAX_VALUE_BYTES);
    expect(codeOf(() => decodeEntry({ index: 0, kind: "input", value: at }, "e"))).toBe("none");
    expect(codeOf(() => decodeEntry({ index: 0, kind: "input", value: at + "x" }, "e"))).toBe(
      "PROTOCOL_LIMIT_EXCEEDED",
    );
    // Multi-byte: counted in UTF-8 bytes, not characters.
    const euro = "€".repeat(MAX_VALUE_BYTES / 4); // 3 bytes each: under the limit
    expect(codeOf(() => decodeEntry({ index: 0, kind: "input", value: euro }, "e"))).toBe("none");
    const over = "€".repeat(Math.floor(MAX_VALUE_BYTES / 3) + 1);
    expect(codeOf(() => decodeEntry({ index: 0, kind: "input", value: over }, "e"))).toBe(
      "PROTOCOL_LIMIT_EXCEEDED",
    );
  });

  test("headers (MAX_HEADERS_BYTES) and eager state (MAX_EAGER_STATE_BYTES) at and over their totals", () => {
    const withHeaders = (size: number) => () =>
      decodeInvokeRequest({ ...baseRequest(), headers: { h: "v".repeat(size - 1) } });
    expect(codeOf(withHeaders(MAX_HEADERS_BYTES))).toBe("none");
    expect(codeOf(withHeaders(MAX_HEADERS_BYTES + 1))).toBe("PROTOCOL_LIMIT_EXCEEDED");
    const sendWithHeaders = (size: number) => () =>
      decodeEntry(
        {
          index: 1,
          kind: "send",
          target: { service: "S", handler: "h" },
          parameter: "",
          headers: { h: "v".repeat(size - 1) },
        },
        "e",
      );
    expect(codeOf(sendWithHeaders(MAX_HEADERS_BYTES))).toBe("none");
    expect(codeOf(sendWithHeaders(MAX_HEADERS_BYTES + 1))).toBe("PROTOCOL_LIMIT_EXCEEDED");
    // Two values, each under MAX_VALUE_BYTES, whose keys and values sum to the limit, then one more.
    const half = MAX_EAGER_STATE_BYTES / 2;
    const withState = (extra: number) => () =>
      decodeInvokeRequest({
        ...baseRequest(),
        state: { complete: true, values: { a: "x".repeat(half - 1), b: "y".repeat(half - 1 + extra) } },
      });
    expect(codeOf(withState(0))).toBe("none");
    expect(codeOf(withState(1))).toBe("PROTOCOL_LIMIT_EXCEEDED");
  });

  test("names, keys and idempotency keys at and over their limits", () => {
    const run = (name: string) => () => decodeEntry({ index: 1, kind: "run", name }, "e");
    expect(codeOf(run("n".repeat(MAX_NAME_LENGTH)))).toBe("none");
    expect(codeOf(run("n".repeat(MAX_NAME_LENGTH + 1)))).toBe("PROTOCOL_LIMIT_EXCEEDED");
    const call = (key: string, idem: string) => () =>
      decodeEntry(
        {
          index: 1,
          kind: "call",
          target: { service: "S", handler: "h", key },
          parameter: "",
          idempotencyKey: idem,
        },
        "e",
      );
    expect(codeOf(call("k".repeat(MAX_KEY_LENGTH), "i".repeat(MAX_IDEMPOTENCY_KEY_LENGTH)))).toBe("none");
    expect(codeOf(call("k".repeat(MAX_KEY_LENGTH + 1), "i"))).toBe("PROTOCOL_LIMIT_EXCEEDED");
    expect(codeOf(call("k", "i".repeat(MAX_IDEMPOTENCY_KEY_LENGTH + 1)))).toBe("PROTOCOL_LIMIT_EXCEEDED");
  });

  test("journal of MAX_JOURNAL_ENTRIES passes; one more entry fails", () => {
    const journal = (n: number) => [
      { index: 0, kind: "input", value: "" },
      ...Array.from({ length: n - 1 }, (_, i) => ({ index: i + 1, kind: "clearAllState" })),
    ];
    expect(
      codeOf(() => decodeInvokeRequest({ ...baseRequest(), journal: journal(MAX_JOURNAL_ENTRIES) })),
    ).toBe("none");
    expect(
      codeOf(() => decodeInvokeRequest({ ...baseRequest(), journal: journal(MAX_JOURNAL_ENTRIES + 1) })),
    ).toBe("PROTOCOL_LIMIT_EXCEEDED");
  });

  test("checkpoint waitMs at MAX_CHECKPOINT_WAIT_MS passes; above fails", () => {
    const cp = (waitMs: number) => () =>
      decodeCheckpointRequest(
        { type: "checkpoint", protocolVersion: 1, entries: [], pending: [], waitMs },
        { invocationId: "i", attemptToken: "t" },
      );
    expect(codeOf(cp(MAX_CHECKPOINT_WAIT_MS))).toBe("none");
    expect(codeOf(cp(MAX_CHECKPOINT_WAIT_MS + 1))).toBe("PROTOCOL_LIMIT_EXCEEDED");
  });

  test("a checkpoint body holding the credential (the earlier form) is refused, whatever the headers", () => {
    const body = { type: "checkpoint", protocolVersion: 1, entries: [], pending: [] };
    const credential = { invocationId: "i", attemptToken: "t" };
    expect(codeOf(() => decodeCheckpointRequest(body, credential))).toBe("none");
    for (const field of ["invocationId", "attemptToken"]) {
      const old = { ...body, [field]: "t" };
      expect(codeOf(() => decodeCheckpointRequest(old, credential))).toBe("PROTOCOL_INVALID_MESSAGE");
      expect(() => decodeCheckpointRequest(old, credential)).toThrow(/x-capstan-attempt-token headers/);
    }
    // The header credential is bounded like the body's fields were.
    const long = { invocationId: "i", attemptToken: "t".repeat(MAX_NAME_LENGTH + 1) };
    expect(codeOf(() => decodeCheckpointRequest(body, long))).toBe("PROTOCOL_LIMIT_EXCEEDED");
  });

  test("a deployment whose lowest protocol version is above this side's is refused", () => {
    const discovery = (minProtocolVersion: number) => ({
      type: "discovery",
      protocolVersion: 1,
      minProtocolVersion,
      sdk: { name: "other", version: "9" },
      services: [{ name: "S", kind: "service", handlers: [{ name: "h", kind: "stateless" }] }],
    });
    expect(codeOf(() => decodeDiscoveryResponse(discovery(PROTOCOL_VERSION)))).toBe("none");
    expect(codeOf(() => decodeDiscoveryResponse(discovery(PROTOCOL_VERSION + 1)))).toBe(
      "PROTOCOL_UNSUPPORTED_VERSION",
    );
  });

  test("ingressPrivate passes through discovery as a boolean; anything else is refused", () => {
    const discovery = (ingressPrivate: unknown) => ({
      type: "discovery",
      protocolVersion: PROTOCOL_VERSION,
      minProtocolVersion: 1,
      sdk: { name: "other", version: "9" },
      services: [
        {
          name: "S",
          kind: "service",
          options: { ingressPrivate },
          handlers: [{ name: "h", kind: "stateless", options: { ingressPrivate: false } }],
        },
      ],
    });
    expect(decodeDiscoveryResponse(discovery(true)).services[0]).toMatchObject({
      options: { ingressPrivate: true },
      handlers: [{ options: { ingressPrivate: false } }],
    });
    expect(codeOf(() => decodeDiscoveryResponse(discovery("yes")))).toBe("PROTOCOL_INVALID_MESSAGE");
  });

  test("whole messages: MAX_REQUEST_BYTES, bad JSON, version and shape errors carry their codes", () => {
    expect(codeOf(() => parseJson(" ".repeat(MAX_REQUEST_BYTES - 2) + "{}", MAX_REQUEST_BYTES))).toBe("none");
    expect(codeOf(() => parseJson(" ".repeat(MAX_REQUEST_BYTES - 1) + "{}", MAX_REQUEST_BYTES))).toBe(
      "PROTOCOL_TOO_LARGE",
    );
    expect(codeOf(() => parseJson("{nope", 100))).toBe("PROTOCOL_BAD_JSON");
    expect(codeOf(() => decodeRuntimeToSdk({ type: "discover", protocolVersion: 2 }))).toBe(
      "PROTOCOL_UNSUPPORTED_VERSION",
    );
    expect(codeOf(() => decodeRuntimeToSdk({ ...baseRequest(), journal: [] }))).toBe(
      "PROTOCOL_INVALID_MESSAGE",
    );
    expect(
      codeOf(() =>
        decodeRuntimeToSdk({
          ...baseRequest(),
          journal: [
            { index: 0, kind: "input", value: "" },
            { index: 2, kind: "clearAllState" },
          ],
        }),
      ),
    ).toBe("PROTOCOL_INVALID_MESSAGE");
    expect(codeOf(() => decodeEntry({ index: 1, kind: "teleport" }, "e"))).toBe("PROTOCOL_INVALID_MESSAGE");
    expect(
      codeOf(() =>
        decodeCheckpointAck({
          type: "checkpoint-ack",
          protocolVersion: 1,
          journalLength: 1,
          completions: [{}],
        }),
      ),
    ).toBe("PROTOCOL_INVALID_MESSAGE");
    expect(
      codeOf(() =>
        decodeInvokeResponse({
          type: "response",
          protocolVersion: 1,
          invocationId: "i",
          attemptToken: "t",
          entries: [],
          outcome: { kind: "exploded" },
        }),
      ),
    ).toBe("PROTOCOL_INVALID_MESSAGE");
  });
});
