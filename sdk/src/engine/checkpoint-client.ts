import type { CheckpointAck, CheckpointRequest } from "../protocol";
import { CONTENT_TYPE_JSON, STALE_ATTEMPT_CODE, decodeCheckpointAck, encodeCheckpoint } from "../protocol";
import { AttemptSupersededError } from "../errors/attempt-superseded-error";
import { postJson, type PostResult } from "./http-post";

/** The checkpoint endpoint could not be used (network, 5xx, bad ack): fall back to request/response. */
export class CheckpointUnavailableError extends Error {
  override readonly name = "CheckpointUnavailableError";
}

/** Extra time granted to a checkpoint request on top of its long-poll. */
const CHECKPOINT_REQUEST_SLACK_MS = 10_000;

/**
 * Posts CheckpointRequests to the runtime: the attempt credential in headers, the rest as the JSON
 * body (protocol/checkpoint-credential.ts). A 409 with INVOKE_STALE_ATTEMPT (or any 409) means a newer
 * attempt owns the invocation: AttemptSupersededError. Anything else that fails is
 * CheckpointUnavailableError.
 */
export class CheckpointClient {
  constructor(
    private readonly url: string,
    /** Injected fetch (tests, custom transports); absent: node:http with keep-alive. */
    private readonly fetchImpl?: typeof fetch,
  ) {}

  private async post(body: string, headers: Record<string, string>, timeoutMs: number): Promise<PostResult> {
    if (!this.fetchImpl) return postJson(this.url, body, timeoutMs, headers);
    const res = await this.fetchImpl(this.url, {
      method: "POST",
      headers: { ...headers, "content-type": CONTENT_TYPE_JSON },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: res.status, text: await res.text().catch(() => "") };
  }

  async send(request: CheckpointRequest): Promise<CheckpointAck> {
    let res: PostResult;
    try {
      const { headers, body } = encodeCheckpoint(request);
      res = await this.post(body, headers, (request.waitMs ?? 0) + CHECKPOINT_REQUEST_SLACK_MS);
    } catch (e) {
      throw new CheckpointUnavailableError(`checkpoint endpoint unreachable: ${String(e)}`, { cause: e });
    }
    const text = res.text;
    if (res.status === 409) {
      throw new AttemptSupersededError(`checkpoint rejected with 409 (${STALE_ATTEMPT_CODE}): ${text}`);
    }
    if (res.status < 200 || res.status >= 300)
      throw new CheckpointUnavailableError(`checkpoint endpoint answered ${res.status}: ${text}`);
    try {
      return decodeCheckpointAck(JSON.parse(text));
    } catch (e) {
      throw new CheckpointUnavailableError("checkpoint endpoint sent an invalid ack", { cause: e });
    }
  }
}
