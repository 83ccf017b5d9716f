/**
 * The peer listener's authentication over real HTTP on 127.0.0.1: only a request signed under the
 * cluster key, fresh and never seen before, reaches a route; forged, expired, tampered and replayed
 * ones are 401 PEER_UNAUTHORIZED whatever the path; bodies are bounded.
 */
import { randomBytes } from "node:crypto";
import { PEER_APPEND_PATH, PEER_CALL_PATH, PEER_CHANGED_PATH } from "../cluster/peer-protocol";
import { PeerClient } from "../cluster/peer-client";
import {
  MAX_PEER_NONCES,
  PEER_MAX_SKEW_MS,
  PEER_OVERLOADED,
  PEER_UNAUTHORIZED,
  PEER_SIGNATURE_HEADER,
  PeerVerifier,
  signPeerRequest,
} from "../security/peer-auth";
import type { ServerHandle } from "./http-server";
import { MAX_INGRESS_BODY_BYTES, MAX_PEER_BODY_BYTES, MAX_PEER_SQL_PAGE_ROWS } from "./limits";
import { startPeerServer, type PeerTarget } from "./peer-server";
import { RuntimeError } from "../runtime-error";

const key = randomBytes(32);
let release: () => void = () => undefined;
const held = new Promise<void>((r) => (release = r));
let server: ServerHandle;
let url: string;
const calls: unknown[][] = [];

const target = {
  async output(id: string) {
    calls.push(["output", id]);
    if (id === "inv_9_movingmoving")
      throw new RuntimeError("RUNTIME_PARTITION_UNAVAILABLE", "moving", { retryAfterMs: 5000 });
    // Answers only once the test lets it (a forwarded long wait).
    if (id === "inv_8_heldheldheld") await held;
    return { ready: false };
  },
  async appendDelivery(partition: number, record: unknown) {
    calls.push(["append", partition, record]);
  },
  async sqlRowsPage(request: unknown) {
    calls.push(["sqlRowsPage", request]);
    return { rows: [{ id: "inv_1" }], epoch: 3 };
  },
  health: () => ({ status: "ok", partitions: 4, version: "test" }),
  clusterChanged(notice: unknown) {
    calls.push(["changed", notice]);
  },
} as unknown as PeerTarget;

beforeAll(async () => {
  server = await startPeerServer({
    target: () => target,
    verifier: new PeerVerifier(key),
    host: "127.0.0.1",
    port: 0,
    logger: { error: () => undefined, warn: () => undefined } as never,
  });
  url = `http://127.0.0.1:${server.port}`;
});
afterAll(() => {
  release();
  return server.close();
});
beforeEach(() => (calls.length = 0));

async function post(path: string, body: Buffer, headers: Record<string, string>): Promise<Response> {
  return fetch(url + path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
}

const callBody = Buffer.from(JSON.stringify({ method: "output", args: ["inv_1_abcdefgh1234"] }));

test("a signed request runs; the answer and a refusal's code and retry hint come back as they were", async () => {
  const client = new PeerClient(key);
  await expect(client.call(url, "output", ["inv_1_abcdefgh1234"])).resolves.toEqual({ ready: false });
  const delivered = { kind: "cancel", invocationId: "inv_3_abcdefgh1234", origin: { partition: 1, seq: 4 } };
  await client.append(url, 3, delivered as never);
  expect(calls).toEqual([
    ["output", "inv_1_abcdefgh1234"],
    ["append", 3, delivered],
  ]);
  await expect(client.call(url, "output", ["inv_9_movingmoving"])).rejects.toMatchObject({
    name: "RuntimeError",
    code: "RUNTIME_PARTITION_UNAVAILABLE",
    retryAfterMs: 5000,
  });
});

test("a page of SQL rows is asked for with its bounds checked here: at most MAX_PEER_SQL_PAGE_ROWS", async () => {
  const client = new PeerClient(key);
  const request = { partition: 3, table: "journal", after: { item: "inv_1", row: 2 } };
  await expect(
    client.call(url, "sqlRowsPage", [{ ...request, maxRows: MAX_PEER_SQL_PAGE_ROWS }]),
  ).resolves.toEqual({ rows: [{ id: "inv_1" }], epoch: 3 });
  expect(calls).toEqual([["sqlRowsPage", { ...request, maxRows: MAX_PEER_SQL_PAGE_ROWS }]]);
  for (const wrong of [
    { ...request, maxRows: MAX_PEER_SQL_PAGE_ROWS + 1 },
    { ...request, partition: 4, maxRows: 1 },
    { ...request, table: "log", maxRows: 1 },
  ])
    await expect(client.call(url, "sqlRowsPage", [wrong])).rejects.toMatchObject({
      code: "PEER_BAD_REQUEST",
    });
  expect(calls).toHaveLength(1);
});

test("a signed change notice makes the node look at the cluster; an unsigned one is 401", async () => {
  await new PeerClient(key).changed(url, { from: "node-1", leaving: true });
  expect(calls).toEqual([["changed", { from: "node-1", leaving: true }]]);
  const client = new PeerClient(key);
  for (const bad of [
    {},
    { from: "", leaving: true },
    { from: "node-1" },
    { from: "x".repeat(129), leaving: false },
  ])
    await expect(client.changed(url, bad as never)).rejects.toMatchObject({ code: "PEER_BAD_REQUEST" });
  const body = Buffer.from("{}");
  const unsigned = await post(PEER_CHANGED_PATH, body, {});
  expect(unsigned.status).toBe(401);
  const forged = await post(
    PEER_CHANGED_PATH,
    body,
    signPeerRequest(randomBytes(32), "POST", PEER_CHANGED_PATH, body, Date.now()),
  );
  expect(forged.status).toBe(401);
  expect(calls).toEqual([["changed", { from: "node-1", leaving: true }]]);
});

test("forged, expired, tampered and replayed requests are 401 before any route runs", async () => {
  const now = Date.now();
  const cases: Array<[string, string, Buffer, Record<string, string>]> = [
    ["unsigned", PEER_CALL_PATH, callBody, {}],
    [
      "another key",
      PEER_CALL_PATH,
      callBody,
      signPeerRequest(randomBytes(32), "POST", PEER_CALL_PATH, callBody, now),
    ],
    [
      "expired",
      PEER_CALL_PATH,
      callBody,
      signPeerRequest(key, "POST", PEER_CALL_PATH, callBody, now - PEER_MAX_SKEW_MS - 5_000),
    ],
    [
      "from the future",
      PEER_CALL_PATH,
      callBody,
      signPeerRequest(key, "POST", PEER_CALL_PATH, callBody, now + PEER_MAX_SKEW_MS + 5_000),
    ],
    [
      "tampered body",
      PEER_CALL_PATH,
      Buffer.from(JSON.stringify({ method: "output", args: ["inv_2_abcdefgh1234"] })),
      signPeerRequest(key, "POST", PEER_CALL_PATH, callBody, now),
    ],
    ["another path", PEER_APPEND_PATH, callBody, signPeerRequest(key, "POST", PEER_CALL_PATH, callBody, now)],
    ["unknown path", "/nothing", callBody, signPeerRequest(key, "POST", PEER_CALL_PATH, callBody, now)],
  ];
  for (const [, path, body, headers] of cases) {
    const res = await post(path, body, headers);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: "PEER_UNAUTHORIZED" });
  }
  const badSignature = signPeerRequest(key, "POST", PEER_CALL_PATH, callBody, now);
  badSignature[PEER_SIGNATURE_HEADER] = badSignature[PEER_SIGNATURE_HEADER]!.replace(/^./, (c) =>
    c === "A" ? "B" : "A",
  );
  expect((await post(PEER_CALL_PATH, callBody, badSignature)).status).toBe(401);
  expect(calls).toEqual([]);

  // The same signed request twice: the second is a replay.
  const once = signPeerRequest(key, "POST", PEER_CALL_PATH, callBody, now);
  expect((await post(PEER_CALL_PATH, callBody, once)).status).toBe(200);
  expect((await post(PEER_CALL_PATH, callBody, once)).status).toBe(401);
  expect(calls).toEqual([["output", "inv_1_abcdefgh1234"]]);
});

test("at the skew limit a request is still accepted", async () => {
  const verifier = new PeerVerifier(key, () => 1_000_000);
  const body = Buffer.from("{}");
  expect(() =>
    verifier.verify(
      signPeerRequest(key, "POST", "/p", body, 1_000_000 - PEER_MAX_SKEW_MS),
      "POST",
      "/p",
      body,
    ),
  ).not.toThrow();
  expect(() =>
    verifier.verify(
      signPeerRequest(key, "POST", "/p", body, 1_000_000 - PEER_MAX_SKEW_MS - 1),
      "POST",
      "/p",
      body,
    ),
  ).toThrow(expect.objectContaining({ code: "PEER_UNAUTHORIZED" }));
});

test("a body at the limit is read and checked; one byte more is 413", async () => {
  const at = Buffer.alloc(MAX_PEER_BODY_BYTES, 0x20);
  const over = Buffer.alloc(MAX_PEER_BODY_BYTES + 1, 0x20);
  const now = Date.now();
  // At the limit: read, authenticated, then refused as no JSON object.
  const res = await post(PEER_CALL_PATH, at, signPeerRequest(key, "POST", PEER_CALL_PATH, at, now));
  expect(res.status).toBe(400);
  expect(await res.json()).toMatchObject({ code: "PEER_BAD_REQUEST" });
  const big = await post(PEER_CALL_PATH, over, signPeerRequest(key, "POST", PEER_CALL_PATH, over, now));
  expect(big.status).toBe(413);
  expect(await big.json()).toMatchObject({ code: "PEER_BODY_TOO_LARGE" });
});

test("a signed call with an unknown method or wrong arguments is 400, never run", async () => {
  const client = new PeerClient(key);
  await expect(client.call(url, "nope" as never, [])).rejects.toMatchObject({
    code: "PEER_BAD_REQUEST",
  });
  await expect(client.call(url, "output", [42])).rejects.toMatchObject({ code: "PEER_BAD_REQUEST" });
  await expect(client.call(url, "output", ["a", "b"])).rejects.toMatchObject({ code: "PEER_BAD_REQUEST" });
  // Within the body limit but past a public route's limit: refused on the receiving side too.
  await expect(client.call(url, "output", ["inv_1_x"])).rejects.toMatchObject({
    code: "PEER_INVALID_ARGUMENT",
  });
  await expect(
    client.call(url, "submit", [
      { target: { service: "S", handler: "h" }, input: "x".repeat(MAX_INGRESS_BODY_BYTES + 1), headers: {} },
    ]),
  ).rejects.toMatchObject({ code: "PEER_INVALID_ARGUMENT" });
  await expect(client.append(url, 3, { kind: "timer-fired", timerId: "t" } as never)).rejects.toMatchObject({
    code: "PEER_INVALID_ARGUMENT",
  });
  expect(calls).toEqual([]);
});

test("a full replay cache refuses new requests (503) and never forgets a nonce inside its window", () => {
  const t0 = 1_000_000;
  let now = t0;
  const overloads: Array<{ nonces: number; refused: number }> = [];
  const verifier = new PeerVerifier(
    key,
    () => now,
    (info) => overloads.push(info),
  );
  const body = Buffer.from("{}");
  const sign = (at: number): Record<string, string> => signPeerRequest(key, "POST", "/p", body, at);
  const first = sign(t0);
  verifier.verify(first, "POST", "/p", body);
  for (let i = 1; i < MAX_PEER_NONCES; i++) verifier.verify(sign(t0), "POST", "/p", body);
  expect(verifier.size).toBe(MAX_PEER_NONCES);
  expect(overloads).toEqual([]);

  // Full: a new request is refused with a retry hint, nothing is evicted, the first is still a replay.
  expect(() => verifier.verify(sign(t0), "POST", "/p", body)).toThrow(
    expect.objectContaining({ status: 503, code: PEER_OVERLOADED, retryAfterSeconds: 1 }),
  );
  expect(overloads).toEqual([{ nonces: MAX_PEER_NONCES, refused: 1 }]);
  expect(() => verifier.verify(first, "POST", "/p", body)).toThrow(
    expect.objectContaining({ code: PEER_UNAUTHORIZED }),
  );

  // At the window's last millisecond the nonces are still live: still refused, still a replay.
  now = t0 + PEER_MAX_SKEW_MS;
  expect(() => verifier.verify(sign(now), "POST", "/p", body)).toThrow(
    expect.objectContaining({ code: PEER_OVERLOADED }),
  );
  expect(() => verifier.verify(first, "POST", "/p", body)).toThrow(
    expect.objectContaining({ code: PEER_UNAUTHORIZED }),
  );
  expect(verifier.size).toBe(MAX_PEER_NONCES);

  // Once the whole second they were signed in has left the window they go, and requests pass again.
  now = t0 + PEER_MAX_SKEW_MS + 1000;
  verifier.verify(sign(now), "POST", "/p", body);
  expect(verifier.size).toBe(1);
  expect(verifier.refusedCount).toBe(2);
  // ... and the old request is refused by its time, so forgetting its nonce reopened nothing.
  expect(() => verifier.verify(first, "POST", "/p", body)).toThrow(
    expect.objectContaining({ code: PEER_UNAUTHORIZED }),
  );
});

test("nonces signed in different seconds are kept apart and each leaves with its own second", () => {
  let now = 5_000_000;
  const verifier = new PeerVerifier(key, () => now);
  const body = Buffer.from("{}");
  const early = signPeerRequest(key, "POST", "/p", body, now - PEER_MAX_SKEW_MS);
  const late = signPeerRequest(key, "POST", "/p", body, now + PEER_MAX_SKEW_MS);
  verifier.verify(early, "POST", "/p", body);
  verifier.verify(late, "POST", "/p", body);
  now += 1000;
  expect(verifier.size).toBe(2);
  expect(() => verifier.verify(late, "POST", "/p", body)).toThrow(
    expect.objectContaining({ code: PEER_UNAUTHORIZED }),
  );
  verifier.verify(signPeerRequest(key, "POST", "/p", body, now), "POST", "/p", body);
  expect(verifier.size).toBe(2);
});

test("a short cluster key is refused", () => {
  expect(() => new PeerVerifier(randomBytes(16))).toThrow(RangeError);
});

test("drained after the hand-over, the listener answers what was forwarded as moved, never a reset", async () => {
  const own = await startPeerServer({
    target: () => target,
    verifier: new PeerVerifier(key),
    host: "127.0.0.1",
    port: 0,
    logger: { error: () => undefined, warn: () => undefined } as never,
  });
  const ownUrl = `http://127.0.0.1:${own.port}`;
  try {
    const client = new PeerClient(key);
    const inFlight = client.call(ownUrl, "output", ["inv_8_heldheldheld"]);
    inFlight.catch(() => undefined);
    while (!calls.some((c) => c[1] === "inv_8_heldheldheld")) await new Promise((r) => setImmediate(r));
    await own.drain(50);
    // The forwarding node gets the code it passes on as a 503 with a retry hint.
    await expect(inFlight).rejects.toMatchObject({
      name: "RuntimeError",
      code: "RUNTIME_PARTITION_UNAVAILABLE",
      retryAfterMs: 1000,
    });
    // The listener is closed: a new request is refused, which the client reports the same way.
    await expect(client.call(ownUrl, "output", ["inv_1_abcdefgh1234"])).rejects.toMatchObject({
      code: "RUNTIME_PARTITION_UNAVAILABLE",
    });
  } finally {
    await own.close();
  }
});
