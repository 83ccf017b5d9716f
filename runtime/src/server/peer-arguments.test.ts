/**
 * The receiving node bounds forwarded arguments with the public routes' limits: each one at its limit
 * passes, one past it is 400 PEER_INVALID_ARGUMENT; wrong types are PEER_BAD_REQUEST; unknown fields
 * are dropped.
 */
import {
  MAX_HEADERS,
  MAX_HEADERS_BYTES,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  MAX_KEY_LENGTH,
  MAX_NAME_LENGTH,
  MAX_PARTITIONS,
  MAX_VALUE_BYTES,
} from "@capstan/sdk/protocol";
import {
  MAX_DELAY_MS,
  MAX_INGRESS_BODY_BYTES,
  MAX_LIST_LIMIT,
  MAX_LOG_PAGE_LINES,
  MAX_STATE_PATCH_KEYS,
} from "./limits";
import { checkDeliveredRecord, checkPeerArguments } from "./peer-arguments";
import type { PeerMethod } from "../cluster/peer-protocol";

const ID = "inv_3_abcdefgh12345678";
const invalid = expect.objectContaining({ status: 400, code: "PEER_INVALID_ARGUMENT" });
const badType = expect.objectContaining({ status: 400, code: "PEER_BAD_REQUEST" });

function submit(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { target: { service: "S", handler: "h" }, input: "{}", headers: {}, ...over };
}

/** `ok` passes (and comes back as `expected`, when given); `bad` is refused with `error`. */
function atLimit(method: PeerMethod, ok: unknown[], bad: unknown[], error = invalid): void {
  expect(() => checkPeerArguments(method, ok)).not.toThrow();
  expect(() => checkPeerArguments(method, bad)).toThrow(error);
}

test("submit and call: names, key, input, headers, idempotency key and delay at their limits", () => {
  for (const method of ["submit", "call"] as const) {
    const n = "s".repeat(MAX_NAME_LENGTH);
    atLimit(
      method,
      [submit({ target: { service: n, handler: n } })],
      [submit({ target: { service: n + "s", handler: "h" } })],
    );
    atLimit(
      method,
      [submit({ target: { service: "S", handler: "h", key: "k".repeat(MAX_KEY_LENGTH) } })],
      [submit({ target: { service: "S", handler: "h", key: "k".repeat(MAX_KEY_LENGTH + 1) } })],
    );
    atLimit(
      method,
      [submit({ target: { service: "S", handler: "h" } })],
      [submit({ target: { service: "", handler: "h" } })],
    );
    atLimit(
      method,
      [submit({ input: "x".repeat(MAX_INGRESS_BODY_BYTES) })],
      [submit({ input: "x".repeat(MAX_INGRESS_BODY_BYTES + 1) })],
    );
    const many = (count: number): Record<string, string> =>
      Object.fromEntries(Array.from({ length: count }, (_, i) => [`h${i}`, "v"]));
    atLimit(method, [submit({ headers: many(MAX_HEADERS) })], [submit({ headers: many(MAX_HEADERS + 1) })]);
    // One header of exactly MAX_HEADERS_BYTES (name + value), then one byte more.
    atLimit(
      method,
      [submit({ headers: { h: "v".repeat(MAX_HEADERS_BYTES - 1) } })],
      [submit({ headers: { h: "v".repeat(MAX_HEADERS_BYTES) } })],
    );
    atLimit(
      method,
      [submit({ idempotencyKey: "i".repeat(MAX_IDEMPOTENCY_KEY_LENGTH) })],
      [submit({ idempotencyKey: "i".repeat(MAX_IDEMPOTENCY_KEY_LENGTH + 1) })],
    );
    expect(() => checkPeerArguments(method, [submit({ idempotencyKey: "a\nb" })])).toThrow(invalid);
    atLimit(method, [submit({ delayMs: MAX_DELAY_MS })], [submit({ delayMs: MAX_DELAY_MS + 1 })]);
    expect(() => checkPeerArguments(method, [submit({ delayMs: 1.5 })])).toThrow(invalid);
    expect(() => checkPeerArguments(method, [submit({ input: 42 })])).toThrow(badType);
  }
  // Only known fields are passed on.
  expect(
    checkPeerArguments("submit", [submit({ extra: "x", target: { service: "S", handler: "h", x: 1 } })]),
  ).toEqual([{ target: { service: "S", handler: "h" }, input: "{}", headers: {} }]);
});

test("ids, lookups and awakeable completions", () => {
  for (const method of ["awaitResult", "output", "describeInvocation", "restartRequest"] as const)
    atLimit(method, [ID], ["inv_3_short"]);
  atLimit("workflowInvocation", ["W", "k".repeat(MAX_KEY_LENGTH)], ["W", "k".repeat(MAX_KEY_LENGTH + 1)]);
  atLimit(
    "idempotentInvocation",
    [{ service: "S", handler: "h" }, "i".repeat(MAX_IDEMPOTENCY_KEY_LENGTH)],
    [{ service: "S", handler: "h" }, "i".repeat(MAX_IDEMPOTENCY_KEY_LENGTH + 1)],
  );
  const awk = `awk_${ID}_1`;
  atLimit(
    "completeAwakeable",
    [awk, { kind: "value", value: "x".repeat(MAX_INGRESS_BODY_BYTES) }],
    [awk, { kind: "value", value: "x".repeat(MAX_INGRESS_BODY_BYTES + 1) }],
  );
  atLimit(
    "completeAwakeable",
    [awk, { kind: "failure", failure: { code: 500, message: "m".repeat(MAX_INGRESS_BODY_BYTES) } }],
    [awk, { kind: "failure", failure: { code: 500, message: "m".repeat(MAX_INGRESS_BODY_BYTES + 1) } }],
  );
  atLimit("completeAwakeable", [awk, { kind: "empty" }], ["awk_nope", { kind: "empty" }]);
  expect(() => checkPeerArguments("completeAwakeable", [awk, { kind: "other" }])).toThrow(invalid);
  expect(() => checkPeerArguments("output", [ID, "extra"])).toThrow(badType);
});

test("admin calls: list and log page sizes, actions, resume, state reads and patches", () => {
  // The admin API reads one row past its largest page to know whether a cursor follows.
  atLimit("listLedInvocations", [{ limit: MAX_LIST_LIMIT + 1 }], [{ limit: MAX_LIST_LIMIT + 2 }]);
  atLimit("listLedInvocations", [{ limit: 1 }], [{ limit: 0 }]);
  atLimit(
    "listLedInvocations",
    [{ limit: 10, service: "S", status: "completed", outcome: "failed", after: { createdAtMs: 5, id: ID } }],
    [{ limit: 10, status: "nope" }],
  );
  expect(() =>
    checkPeerArguments("listLedInvocations", [{ limit: 10, after: { createdAtMs: 5, id: "x" } }]),
  ).toThrow(invalid);
  atLimit(
    "invocationLogs",
    [ID, { afterSeq: 0, limit: MAX_LOG_PAGE_LINES }],
    [ID, { afterSeq: 0, limit: MAX_LOG_PAGE_LINES + 1 }],
  );
  atLimit("invocationAction", [ID, "purge"], [ID, "explode"]);
  atLimit(
    "resumeInvocation",
    [ID, { deployment: "d".repeat(MAX_NAME_LENGTH) }],
    [ID, { deployment: "d".repeat(MAX_NAME_LENGTH + 1) }],
  );
  expect(checkPeerArguments("resumeInvocation", [ID, null])).toEqual([ID, {}]);
  atLimit("getState", ["S", "k".repeat(MAX_KEY_LENGTH)], ["S", "k".repeat(MAX_KEY_LENGTH + 1)]);

  const keys = (count: number): Record<string, string> =>
    Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, "1"]));
  const patch = (over: Record<string, unknown>): Record<string, unknown> => ({
    set: {},
    clear: [],
    clearAll: false,
    ...over,
  });
  atLimit(
    "patchState",
    ["S", "k", patch({ set: keys(MAX_STATE_PATCH_KEYS) })],
    ["S", "k", patch({ set: keys(MAX_STATE_PATCH_KEYS), clear: ["one-more"] })],
  );
  atLimit(
    "patchState",
    ["S", "k", patch({ set: { v: "x".repeat(MAX_VALUE_BYTES) } })],
    ["S", "k", patch({ set: { v: "x".repeat(MAX_VALUE_BYTES + 1) } })],
  );
  atLimit(
    "patchState",
    ["S", "k", patch({ clear: ["c".repeat(MAX_NAME_LENGTH)] })],
    ["S", "k", patch({ clear: ["c".repeat(MAX_NAME_LENGTH + 1)] })],
  );
});

test("an appended record is a delivered kind for an existing partition, with its origin", () => {
  const record = { kind: "cancel", invocationId: ID, origin: { partition: 1, seq: 7 } };
  expect(checkDeliveredRecord(MAX_PARTITIONS - 1, record)).toEqual({ partition: MAX_PARTITIONS - 1, record });
  expect(() => checkDeliveredRecord(MAX_PARTITIONS, record)).toThrow(invalid);
  expect(() => checkDeliveredRecord(-1, record)).toThrow(invalid);
  expect(() => checkDeliveredRecord("1", record)).toThrow(badType);
  expect(() => checkDeliveredRecord(1, { ...record, kind: "recover" })).toThrow(invalid);
  expect(() => checkDeliveredRecord(1, { ...record, origin: undefined })).toThrow(badType);
  expect(() => checkDeliveredRecord(1, { ...record, invocationId: "nope" })).toThrow(invalid);
});
