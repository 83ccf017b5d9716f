/**
 * The sending side of the peer protocol (peer-protocol.ts): signs each request under the cluster key,
 * bounds the answer it reads, and turns the receiver's refusal back into the error it was there (a
 * RuntimeError for a runtime code, an ApiError otherwise), so a forwarded request fails exactly as a
 * local one would. A peer that cannot be reached means the partition is moving or its leader died:
 * RUNTIME_PARTITION_UNAVAILABLE with a retry hint.
 */
import { PARTITION_UNAVAILABLE_RETRY_AFTER_MS } from "../partition/partition-errors";
import type { ChangeNotice } from "./lease-coordinator";
import type { RecordInput } from "../partition/partition-processor";
import { RuntimeError } from "../runtime-error";
import { signPeerRequest } from "../security/peer-auth";
import { ApiError } from "../server/api-error";
import { statusOfCode } from "../server/error-status";
import { MAX_PEER_BODY_BYTES, MAX_PEER_RESPONSE_BYTES, PEER_REQUEST_TIMEOUT_MS } from "../server/limits";
import {
  PEER_APPEND_PATH,
  PEER_CALL_PATH,
  PEER_CHANGED_PATH,
  PEER_CHANGED_TIMEOUT_MS,
  type PeerMethod,
} from "./peer-protocol";

export class PeerClient {
  constructor(
    private readonly clusterKey: Buffer,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Runs `method(...args)` on the node at `address`. `signal`: the caller's (a long-poll follows its
   * client); without one the call is given up after PEER_REQUEST_TIMEOUT_MS.
   */
  async call(address: string, method: PeerMethod, args: unknown[], signal?: AbortSignal): Promise<unknown> {
    const answer = (await this.post(address, PEER_CALL_PATH, { method, args }, signal)) as {
      value?: unknown;
    };
    return answer.value;
  }

  /** Appends an outbox record on the node at `address`, which must lead `partition`. */
  async append(address: string, partition: number, record: RecordInput): Promise<void> {
    await this.post(address, PEER_APPEND_PATH, { partition, record });
  }

  /** Tells the node at `address` that this one changed the cluster (it ticks now); bounded wait. */
  async changed(address: string, notice: ChangeNotice): Promise<void> {
    await this.post(address, PEER_CHANGED_PATH, notice, AbortSignal.timeout(PEER_CHANGED_TIMEOUT_MS));
  }

  private async post(
    address: string,
    path: string,
    payload: unknown,
    signal?: AbortSignal,
  ): Promise<unknown> {
    const body = Buffer.from(JSON.stringify(payload), "utf8");
    if (body.length > MAX_PEER_BODY_BYTES)
      throw new RuntimeError(
        "RUNTIME_PEER_REQUEST_TOO_LARGE",
        `a ${body.length}-byte peer request is too large`,
      );
    const headers = {
      "content-type": "application/json",
      ...signPeerRequest(this.clusterKey, "POST", path, body, this.now()),
    };
    let res: Response;
    try {
      res = await fetch(new URL(path, address), {
        method: "POST",
        headers,
        body,
        signal: signal ?? AbortSignal.timeout(PEER_REQUEST_TIMEOUT_MS),
      });
    } catch (e) {
      if (signal?.aborted) throw new RuntimeError("INGRESS_CLIENT_CLOSED", "client went away", { cause: e });
      throw unreachable(address, e);
    }
    let text: string;
    try {
      text = await readBounded(res);
    } catch (e) {
      throw unreachable(address, e);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw unreachable(address, e);
    }
    if (res.ok) return parsed;
    const { code, message } = (parsed ?? {}) as { code?: unknown; message?: unknown };
    const retryAfter = Number(res.headers.get("retry-after") ?? NaN);
    const retryAfterMs = Number.isFinite(retryAfter) ? retryAfter * 1000 : undefined;
    if (typeof code !== "string") throw unreachable(address, new Error(`answered ${res.status}`));
    const detail = typeof message === "string" ? message : code;
    if (statusOfCode(code) === res.status)
      throw new RuntimeError(code, detail, { ...(retryAfterMs !== undefined && { retryAfterMs }) });
    throw new ApiError(res.status, code, detail, {
      ...(retryAfterMs !== undefined && { retryAfterSeconds: retryAfterMs / 1000 }),
    });
  }
}

/** The answer's text, refused past MAX_PEER_RESPONSE_BYTES without reading the rest. */
async function readBounded(res: Response): Promise<string> {
  const declared = Number(res.headers.get("content-length") ?? NaN);
  if (declared > MAX_PEER_RESPONSE_BYTES) {
    await res.body?.cancel();
    throw new Error(`peer answer of ${declared} bytes is too large`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  if (res.body === null) return "";
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > MAX_PEER_RESPONSE_BYTES) throw new Error("peer answer is too large");
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString("utf8");
}

function unreachable(address: string, cause: unknown): RuntimeError {
  return new RuntimeError(
    "RUNTIME_PARTITION_UNAVAILABLE",
    `the partition's leader at ${address} did not answer (${String((cause as Error)?.message ?? cause)})`,
    { cause, retryAfterMs: PARTITION_UNAVAILABLE_RETRY_AFTER_MS },
  );
}
