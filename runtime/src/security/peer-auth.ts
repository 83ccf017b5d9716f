/**
 * Node-to-node authentication (the peer listener): every request between the nodes of a cluster
 * carries an HMAC-SHA256 under the shared cluster key (CAPSTAN_CLUSTER_KEY) over its method, path,
 * timestamp, a random nonce and the SHA-256 of its body. The receiver recomputes it and compares in
 * constant time, refuses a timestamp more than PEER_MAX_SKEW_MS from its own clock, and refuses a
 * nonce it has seen within that window (a captured request cannot be replayed). Anything else is
 * 401 PEER_UNAUTHORIZED, with one message for every way it can be wrong.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { ApiError } from "../server/api-error";

export const PEER_UNAUTHORIZED = "PEER_UNAUTHORIZED";
/** A signed request is accepted this far from the receiver's clock, either way. */
export const PEER_MAX_SKEW_MS = 60_000;
/** Nonces remembered (within the skew window) to refuse replays; beyond it the oldest are dropped early. */
export const MAX_PEER_NONCES = 100_000;
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

/** Checks signed peer requests; remembers nonces to refuse replays. */
export class PeerVerifier {
  /** nonce → the request's time; pruned as the window moves. */
  private readonly nonces = new Map<string, number>();

  constructor(
    private readonly key: Buffer,
    private readonly now: () => number = Date.now,
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
    if (this.nonces.has(nonce)) throw unauthorized();
    if (this.nonces.size >= MAX_PEER_NONCES) this.nonces.delete(this.nonces.keys().next().value!);
    this.nonces.set(nonce, at);
  }

  /** Forgets nonces outside the window (insertion order is roughly time order). */
  private prune(now: number): void {
    for (const [nonce, at] of this.nonces) {
      if (Math.abs(now - at) <= PEER_MAX_SKEW_MS) break;
      this.nonces.delete(nonce);
    }
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function unauthorized(): ApiError {
  return new ApiError(401, PEER_UNAUTHORIZED, "not a valid node-to-node request for this cluster");
}
