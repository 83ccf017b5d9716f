/**
 * Node-to-node authentication (the peer listener): every request between the nodes of a cluster
 * carries an HMAC-SHA256 under the shared cluster key (CAPSTAN_CLUSTER_KEY) over its method, path,
 * timestamp, a random nonce and the SHA-256 of its body. The receiver recomputes it and compares in
 * constant time, refuses a timestamp more than PEER_MAX_SKEW_MS from its own clock, and refuses a
 * nonce it has seen within that window (a captured request cannot be replayed). Anything else is
 * 401 PEER_UNAUTHORIZED, with one message for every way it can be wrong.
 *
 * A nonce is never forgotten while its request could still be accepted: nonces are kept in buckets by
 * the second of their signed time and a bucket is dropped only once all its times are outside the
 * window. When MAX_PEER_NONCES live nonces are held, new requests are refused (503 PEER_OVERLOADED,
 * retry-after) instead of evicting one — evicting would reopen a replay inside the window.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { ApiError } from "../server/api-error";

export const PEER_UNAUTHORIZED = "PEER_UNAUTHORIZED";
/** Answered (503) while the replay cache is full of nonces still inside their window. */
export const PEER_OVERLOADED = "PEER_OVERLOADED";
/** A signed request is accepted this far from the receiver's clock, either way. */
export const PEER_MAX_SKEW_MS = 60_000;
/**
 * The peer requests per second one node is sized to receive, sustained (forwarded calls and remote
 * outbox appends). A single node serves ~2–3k requests/s in the bench (bench/README.md); with a load
 * balancer spreading requests over N nodes at most (N−1)/N of them are forwarded, spread over N−1
 * leaders, so each node receives at most about its own request rate in peer requests.
 */
export const PEER_REQUESTS_PER_SECOND = 5_000;
/**
 * Nonces held at once: the expected peer rate times the window a nonce stays live for (a sender whose
 * clock is on time; one ahead of ours keeps its nonces longer). ~22 MB of heap when full (measured with
 * 300,000 nonces of 16 random bytes). Beyond it new
 * requests are refused with 503 PEER_OVERLOADED until nonces leave the window — never forgotten early.
 */
export const MAX_PEER_NONCES = PEER_REQUESTS_PER_SECOND * (PEER_MAX_SKEW_MS / 1000);
/** What a refused peer request is told to wait before retrying. */
export const PEER_OVERLOADED_RETRY_AFTER_SECONDS = 1;
/** The cluster key's minimum length (like the attempt key). */
export const MIN_CLUSTER_KEY_BYTES = 32;
/** Random bytes per nonce. */
const NONCE_BYTES = 16;

export const PEER_TIME_HEADER = "x-capstan-peer-time";
export const PEER_NONCE_HEADER = "x-capstan-peer-nonce";
export const PEER_SIGNATURE_HEADER = "x-capstan-peer-signature";

function mac(key: Buffer, method: string, path: string, time: string, nonce: string, body: Buffer): Buffer {
  const digest = createHash("sha256").update(body).digest("hex");
  return createHmac("sha256", key)
    .update(`capstan-peer-v1\n${method.toUpperCase()}\n${path}\n${time}\n${nonce}\n${digest}`)
    .digest();
}

/**
 * The headers that authenticate one request.
 *
 * @example
 * const headers = signPeerRequest(clusterKey, "POST", "/peer/v1/append", body, Date.now());
 * await fetch(`${address}/peer/v1/append`, { method: "POST", headers, body });
 */
export function signPeerRequest(
  key: Buffer,
  method: string,
  path: string,
  body: Buffer,
  nowMs: number,
): Record<string, string> {
  const time = String(Math.round(nowMs));
  const nonce = randomBytes(NONCE_BYTES).toString("base64url");
  return {
    [PEER_TIME_HEADER]: time,
    [PEER_NONCE_HEADER]: nonce,
    [PEER_SIGNATURE_HEADER]: mac(key, method, path, time, nonce, body).toString("base64url"),
  };
}

/** Told when a request is refused because the replay cache is full (counts only, never a nonce or key). */
export type PeerOverloadListener = (info: { nonces: number; refused: number }) => void;

/** Checks signed peer requests; remembers nonces to refuse replays. */
export class PeerVerifier {
  /** Second of the signed time → nonces signed in that second; a bucket leaves as a whole. */
  private readonly buckets = new Map<number, Set<string>>();
  private held = 0;
  private refused = 0;

  constructor(
    private readonly key: Buffer,
    private readonly now: () => number = Date.now,
    private readonly onOverload: PeerOverloadListener = () => undefined,
  ) {
    if (key.length < MIN_CLUSTER_KEY_BYTES)
      throw new RangeError(`the cluster key must have at least ${MIN_CLUSTER_KEY_BYTES} bytes`);
  }

  /** Throws ApiError 401 PEER_UNAUTHORIZED unless the headers sign exactly this request, fresh. */
  verify(
    headers: Record<string, string | string[] | undefined>,
    method: string,
    path: string,
    body: Buffer,
  ): void {
    const time = single(headers[PEER_TIME_HEADER]);
    const nonce = single(headers[PEER_NONCE_HEADER]);
    const signature = single(headers[PEER_SIGNATURE_HEADER]);
    if (time === undefined || nonce === undefined || signature === undefined) throw unauthorized();
    if (!/^\d{1,16}$/.test(time) || !/^[A-Za-z0-9_-]{1,64}$/.test(nonce)) throw unauthorized();
    if (!/^[A-Za-z0-9_-]{43}$/.test(signature)) throw unauthorized();
    const expected = mac(this.key, method, path, time, nonce, body);
    const given = Buffer.from(signature, "base64url");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw unauthorized();
    const now = this.now();
    const at = Number(time);
    if (Math.abs(now - at) > PEER_MAX_SKEW_MS) throw unauthorized();
    this.prune(now);
    const second = Math.floor(at / 1000);
    const bucket = this.buckets.get(second);
    // A replay carries the same signed time, so it lands in the same bucket.
    if (bucket?.has(nonce) === true) throw unauthorized();
    if (this.held >= MAX_PEER_NONCES) {
      this.refused += 1;
      this.onOverload({ nonces: this.held, refused: this.refused });
      throw new ApiError(
        503,
        PEER_OVERLOADED,
        "this node holds as many fresh peer nonces as it may; retry shortly",
        { retryAfterSeconds: PEER_OVERLOADED_RETRY_AFTER_SECONDS },
      );
    }
    if (bucket === undefined) this.buckets.set(second, new Set([nonce]));
    else bucket.add(nonce);
    this.held += 1;
  }

  /** Nonces held now (all inside their window, or in a second that still reaches into it). */
  get size(): number {
    return this.held;
  }

  /** Requests refused so far because the cache was full. */
  get refusedCount(): number {
    return this.refused;
  }

  /**
   * Drops the buckets whose every time is out of the window. A time that far in the past stays out of
   * it (the clock moves forward); one in the future was never accepted. At most 2·window/1000 + 1
   * buckets exist, so the walk is short.
   */
  private prune(now: number): void {
    for (const [second, bucket] of this.buckets) {
      if (now - (second * 1000 + 999) > PEER_MAX_SKEW_MS) {
        this.held -= bucket.size;
        this.buckets.delete(second);
      }
    }
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function unauthorized(): ApiError {
  return new ApiError(401, PEER_UNAUTHORIZED, "not a valid node-to-node request for this cluster");
}
