/**
 * Seeded requests for the fuzz suite: mostly near-valid (real routes, real service names, plausible
 * bodies with one thing wrong), some plain garbage, some at or past a limit. The same seed gives the
 * same requests, so a failure reproduces from its seed and index.
 */
import {
  CHECKPOINT_PATH,
  HEADER_CHECKPOINT_ATTEMPT_TOKEN,
  HEADER_CHECKPOINT_INVOCATION_ID,
  PROTOCOL_VERSION,
} from "@capstan/sdk/protocol";
import { between } from "../../chaos/support/prng";

export type Listener = "ingress" | "admin" | "checkpoint";

export interface FuzzRequest {
  listener: Listener;
  /** Sent as raw bytes instead of through node:http (malformed requests). */
  raw?: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

/** A key the fuzz never touches: the oracle's counter lives there. */
export const ORACLE_KEY = "oracle";

type Random = () => number;

function pick<T>(r: Random, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)]!;
}

function chance(r: Random, p: number): boolean {
  return r() < p;
}

const JUNK_SEGMENTS = [
  "",
  "%zz",
  "%00",
  "%2F..%2F",
  "..",
  "ünïcødé",
  "a".repeat(300),
  "restate",
  "send",
  "inv_1_short",
  "awk_inv_1_abcdefgh_1",
  "%E0%A4%A",
  "x?y",
];

function segment(r: Random): string {
  switch (between(r, 0, 5)) {
    case 0:
      return pick(r, JUNK_SEGMENTS);
    case 1:
      return encodeURIComponent(randomString(r, between(r, 1, 12)));
    case 2:
      return pick(r, ["Fuzz", "FuzzObject", "Counter", "Nope", "Vault"]);
    case 3:
      return pick(r, ["echo", "fail", "set", "get", "add", "run", "attach", "output"]);
    case 4:
      return invocationId(r);
    default:
      return key(r);
  }
}

function key(r: Random): string {
  const k = pick(r, ["k1", "k2", "k%2F3", "a b", randomString(r, between(r, 1, 8))]);
  return k === ORACLE_KEY ? "k1" : encodeURIComponent(k);
}

function invocationId(r: Random): string {
  const unique = Array.from({ length: between(r, 8, 12) }, () =>
    pick(r, [..."abcdefghijklmnopqrstuvwxyz0123456789"]),
  ).join("");
  return `inv_${between(r, 0, chance(r, 0.9) ? 3 : 9999)}_${unique}`;
}

function randomString(r: Random, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) {
    s += chance(r, 0.8)
      ? String.fromCharCode(between(r, 0x20, 0x7e))
      : String.fromCharCode(between(r, 0x80, 0x2fff));
  }
  return s;
}

function nested(depth: number): string {
  return "[".repeat(depth) + "1" + "]".repeat(depth);
}

/** A JSON-ish body: valid values, values with one defect, deep nesting, odd encodings. */
function body(r: Random, maxDepth: number): Buffer | undefined {
  switch (between(r, 0, 9)) {
    case 0:
      return undefined;
    case 1:
      return Buffer.from(JSON.stringify(between(r, -5, 5)));
    case 2:
      return Buffer.from(JSON.stringify(randomString(r, between(r, 0, 40))));
    case 3:
      return Buffer.from(JSON.stringify({ a: [1, { b: null }], c: randomString(r, 5) }));
    case 4:
      return Buffer.from(nested(between(r, 1, maxDepth)));
    case 5: // a valid document cut short
      return Buffer.from('{"set":{"v":[1,2,{"x":"y"}]}}'.slice(0, between(r, 1, 28)));
    case 6: // invalid UTF-8
      return Buffer.from([0x22, 0xc3, 0x28, 0xff, 0x22]);
    case 7:
      return Buffer.from(randomString(r, between(r, 1, 60)));
    case 8:
      return Buffer.alloc(between(r, 1, 64), between(r, 0, 255));
    default:
      return Buffer.from(`"${"x".repeat(between(r, 1000, 200_000))}"`);
  }
}

function contentType(r: Random): Record<string, string> {
  return pick<Record<string, string>>(r, [
    {},
    { "content-type": "application/json" },
    { "content-type": "application/json; charset=utf-8" },
    { "content-type": "text/plain" },
    { "content-type": "application/vnd.x+json" },
    { "content-type": ";;;" },
  ]);
}

function extraHeaders(r: Random): Record<string, string> {
  const h: Record<string, string> = {};
  if (chance(r, 0.2)) h["idempotency-key"] = pick(r, ["i-1", "i-2", "", "x".repeat(300), "ünï"]);
  if (chance(r, 0.1)) h.authorization = "Bearer fuzz-secret";
  if (chance(r, 0.1)) h.cookie = "sid=fuzz-secret";
  if (chance(r, 0.1)) h.connection = "keep-alive, x-drop";
  if (chance(r, 0.1)) for (let i = 0; i < between(r, 1, 40); i++) h[`x-f${i}`] = randomString(r, 8);
  if (chance(r, 0.02)) h["x-big"] = "v".repeat(between(r, 10_000, 70_000));
  return h;
}

function ingress(r: Random): FuzzRequest {
  const method = pick(r, ["GET", "POST", "POST", "POST", "POST", "POST", "PUT", "DELETE"]);
  const routes: Array<() => string> = [
    () => `/Fuzz/${pick(r, ["echo", "echo", "fail", segment(r)])}`,
    () => `/Fuzz/echo/send`,
    () => `/FuzzObject/${key(r)}/${pick(r, ["set", "get", segment(r)])}`,
    () => `/FuzzObject/${key(r)}/set/send`,
    () => `/Counter/${key(r)}/get`,
    () => `/restate/${pick(r, ["call", "send"])}/${pick(r, ["Fuzz", "FuzzObject"])}/${segment(r)}`,
    () => `/restate/invocation/${invocationId(r)}/${pick(r, ["attach", "output"])}`,
    () => `/restate/invocation/Fuzz/echo/${segment(r)}/output`,
    () => `/restate/workflow/${segment(r)}/${segment(r)}/output`,
    () =>
      `/restate/${pick(r, ["a", "awakeables"])}/${pick(r, [segment(r), `awk_${invocationId(r)}_1`])}/resolve`,
    () => `/restate/health`,
    () => `/${Array.from({ length: between(r, 1, 6) }, () => segment(r)).join("/")}`,
  ];
  let path = pick(r, routes)();
  if (chance(r, 0.2)) path += `?delay=${pick(r, ["1s", "PT1S", "-1s", "999999d", "abc", "0"])}`;
  // Deep nesting only where the runtime hands the body on untouched or checks it (echo answers typeof).
  const deep = path.startsWith("/Fuzz/echo") ? 20_000 : 100;
  return {
    listener: "ingress",
    method,
    path,
    headers: { ...contentType(r), ...extraHeaders(r) },
    ...optionalBody(method, body(r, deep)),
  };
}

const SQL = [
  "SELECT 1",
  "SELECT count(*) FROM invocations",
  "SELECT * FROM journal LIMIT 5",
  "SELECT service, key, state_key FROM state",
  "DELETE FROM invocations",
  "SELECT 1; SELECT 2",
  "PRAGMA table_info(invocations)",
  "ATTACH DATABASE 'x' AS y",
  "SELECT nope FROM nowhere",
  "SELECT printf('%.*c', 20000000, 'x')",
  "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 100000) SELECT count(*) FROM c",
];

function admin(r: Random): FuzzRequest {
  const routes: Array<() => [string, string, Buffer | undefined]> = [
    () => ["GET", pick(r, ["/health", "/metrics", "/services", "/deployments"]), undefined],
    () => [
      "GET",
      `/invocations?${pick(r, ["limit=0", "limit=5", "status=nope", "service=Fuzz", "key=k1", "limit=abc"])}`,
      undefined,
    ],
    () => ["GET", `/invocations/${pick(r, [invocationId(r), segment(r)])}`, undefined],
    () => [
      pick(r, ["POST", "DELETE"]),
      `/invocations/${invocationId(r)}/${pick(r, ["cancel", "kill", "pause", "resume", "purge", segment(r)])}`,
      undefined,
    ],
    () => ["GET", `/state/${pick(r, ["FuzzObject", "Fuzz", segment(r)])}/${key(r)}`, undefined],
    () => ["PATCH", `/state/FuzzObject/${key(r)}`, body(r, 20_000)],
    () => [
      "PATCH",
      `/state/FuzzObject/${key(r)}`,
      Buffer.from(`{"set":{"v":${nested(between(r, 1, chance(r, 0.5) ? 200 : 20_000))}}}`),
    ],
    () => ["POST", "/query", Buffer.from(JSON.stringify({ query: pick(r, SQL) }))],
    () => ["POST", "/query", body(r, 20_000)],
    () => [
      "POST",
      "/deployments",
      Buffer.from(
        JSON.stringify(
          pick(r, [
            { uri: "http://elsewhere.example:9080", force: true },
            { uri: "http://169.254.169.254/latest" },
            { uri: "http://127.0.0.1:1" },
            { arn: "bad arn!" },
            { uri: "ftp://x" },
            {},
          ]),
        ),
      ),
    ],
    () => ["DELETE", `/deployments/${segment(r)}`, undefined],
    () => [
      pick(r, ["GET", "PUT", "POST"]),
      `/${Array.from({ length: between(r, 1, 4) }, () => segment(r)).join("/")}`,
      body(r, 100),
    ],
  ];
  const [method, path, b] = pick(r, routes)();
  return {
    listener: "admin",
    method,
    path,
    headers: { ...contentType(r), ...extraHeaders(r) },
    ...optionalBody(method, b),
  };
}

function checkpoint(r: Random): FuzzRequest {
  // The credential travels in headers; sometimes one is missing, sometimes it is (also) in the body,
  // the earlier form the runtime must refuse.
  const credential: Record<string, string> = {
    [HEADER_CHECKPOINT_INVOCATION_ID]: invocationId(r),
    [HEADER_CHECKPOINT_ATTEMPT_TOKEN]: pick(r, ["a1", "a0", "a99", "", "x".repeat(300)]),
  };
  if (chance(r, 0.2)) delete credential[pick(r, Object.keys(credential))];
  const valid = {
    type: "checkpoint",
    protocolVersion: PROTOCOL_VERSION,
    ...(chance(r, 0.2) && {
      invocationId: invocationId(r),
      attemptToken: pick(r, ["a1", "a0", ""]),
    }),
    entries: pick(r, [
      [],
      [{ index: 1, kind: "run", name: "x", result: { kind: "value", value: "1" } }],
      [{ index: -1 }],
      "no",
    ]),
    pending: pick(r, [[], [1], [-1], [1.5], "x"]),
    ...(chance(r, 0.3) && { waitMs: pick(r, [0, 10, -1, 1e12, "x"]) }),
  };
  const mutated: Record<string, unknown> = { ...valid };
  if (chance(r, 0.5)) delete mutated[pick(r, Object.keys(valid))];
  if (chance(r, 0.2)) mutated.protocolVersion = pick(r, [0, 99, "1"]);
  const b = chance(r, 0.7) ? Buffer.from(JSON.stringify(mutated)) : body(r, 20_000);
  const method = chance(r, 0.9) ? "POST" : pick(r, ["GET", "PUT"]);
  return {
    listener: "checkpoint",
    method,
    path: CHECKPOINT_PATH,
    headers: { "content-type": "application/json", ...credential },
    ...optionalBody(method, b),
  };
}

/** Requests node:http's client would refuse to send: malformed lines, missing Host, odd Expect. */
function raw(r: Random): FuzzRequest {
  const listener = pick(r, ["ingress", "admin", "checkpoint"] as const);
  const text = pick(r, [
    "GET /Fuzz/echo HTTP/1.1\r\n\r\n",
    "POST /Fuzz/echo HTTP/1.1\r\nHost: h\r\nExpect: foo\r\ncontent-length: 1\r\n\r\n1",
    "GET / HTTP/9.9\r\nHost: h\r\n\r\n",
    "NOT HTTP\r\n\r\n",
    "GET /a b c HTTP/1.1\r\nHost: h\r\n\r\n",
    "POST /Fuzz/echo HTTP/1.1\r\nHost: h\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n",
    `GET /restate/health HTTP/1.1\r\n${"x: y\r\n".repeat(2001)}Host: h\r\n\r\n`,
    "GET /restate/health HTTP/1.1\r\nHost: h\r\nbad header line\r\n\r\n",
    "POST /query HTTP/1.1\r\nHost: h\r\ncontent-length: -1\r\n\r\n",
  ]);
  return { listener, raw: text, method: "RAW", path: text.split("\r\n")[0]!, headers: {} };
}

function optionalBody(method: string, b: Buffer | undefined): { body?: Buffer } {
  return method === "GET" || b === undefined ? {} : { body: b };
}

/**
 * The `index`-th request of a seeded run.
 *
 * @example fuzzRequest(prng(42), token) // → { listener: "ingress", method: "POST", path: "/Fuzz/echo", ... }
 */
export function fuzzRequest(r: Random, adminToken: string): FuzzRequest {
  const x = r();
  if (x < 0.45) return ingress(r);
  if (x < 0.75) {
    // Mostly with the admin token, so the routes behind it are fuzzed too; sometimes without or wrong.
    const req = admin(r);
    const auth = pick(r, [
      `Bearer ${adminToken}`,
      `Bearer ${adminToken}`,
      `Bearer ${adminToken}`,
      "",
      "Bearer nope",
      adminToken,
    ]);
    if (auth !== "") req.headers.authorization = auth;
    return req;
  }
  if (x < 0.93) return checkpoint(r);
  return raw(r);
}
