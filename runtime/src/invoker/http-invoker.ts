/**
 * Invoker for container deployments: POSTs the protocol message as JSON to the SDK's HTTP adapter.
 * Node's global fetch (undici) keeps connections alive and reuses them per origin by default.
 */
import {
  CONTENT_TYPE_JSON,
  DEPLOYMENT_DISCOVER_PATH,
  DEPLOYMENT_INVOKE_PATH,
  MAX_RESPONSE_BYTES,
  ProtocolError,
  decodeDiscoveryResponse,
  decodeInvokeResponse,
} from "@capstan/sdk/protocol";
import type {
  DiscoverRequest,
  DiscoveryResponse,
  InvokeRequest,
  InvokeResponse,
} from "@capstan/sdk/protocol";
import { MAX_FAILURE_DETAIL_LENGTH, classifyInvokeFailure } from "./classify";
import { InvokeError } from "./invoker";
import type { DeploymentEndpoint, Invoker } from "./invoker";
import { AttemptGate, decodeResponse, encodeRequest, failureOf } from "./wire";
import type { InvokerLimits } from "./wire";

export type HttpInvokerOptions = InvokerLimits;

/**
 * @example
 * const invoker = new HttpInvoker({ maxConcurrency: 64 });
 * const response = await invoker.invoke({ kind: "http", url: "http://orders:9080" }, request, signal);
 * // a 5xx or a refused connection throws InvokeError { retryable: true }; the runtime backs off
 */
export class HttpInvoker implements Invoker {
  private readonly gate: AttemptGate;
  private readonly identity: InvokerLimits["identity"];

  constructor(options: HttpInvokerOptions = {}) {
    this.gate = new AttemptGate(options);
    this.identity = options.identity;
  }

  /** Async so that a request over MAX_REQUEST_BYTES rejects rather than throws. */
  async invoke(
    endpoint: DeploymentEndpoint,
    request: InvokeRequest,
    signal: AbortSignal,
  ): Promise<InvokeResponse> {
    return this.post(
      endpoint,
      DEPLOYMENT_INVOKE_PATH,
      encodeRequest(request, this.identity),
      signal,
      decodeInvokeResponse,
    );
  }

  discover(
    endpoint: DeploymentEndpoint,
    request: DiscoverRequest,
    signal: AbortSignal,
  ): Promise<DiscoveryResponse> {
    return this.post(
      endpoint,
      DEPLOYMENT_DISCOVER_PATH,
      encodeRequest(request, this.identity),
      signal,
      decodeDiscoveryResponse,
    );
  }

  /** Attempts in flight and waiting, for metrics. */
  get load(): { inFlight: number; waiting: number } {
    return { inFlight: this.gate.slots.inUse, waiting: this.gate.slots.waiting };
  }

  private async post<T>(
    endpoint: DeploymentEndpoint,
    path: string,
    body: Buffer,
    signal: AbortSignal,
    decode: (v: unknown) => T,
  ): Promise<T> {
    if (endpoint.kind !== "http")
      throw new TypeError(`HttpInvoker cannot reach a ${endpoint.kind} deployment`);
    const url = `${endpoint.url.replace(/\/+$/, "")}${path}`;
    return this.gate.run(signal, async (attemptSignal) => {
      try {
        const response = await fetch(url, {
          method: "POST",
          headers: { "content-type": CONTENT_TYPE_JSON, accept: CONTENT_TYPE_JSON },
          body,
          signal: attemptSignal,
          // A deployment answers itself: a redirect would send journal and state (or discovery, which
          // registration allow-listed for this URL only) to an endpoint nobody registered.
          redirect: "manual",
        });
        if (!response.ok) {
          const text = (await readBody(response, MAX_FAILURE_DETAIL_LENGTH, "truncate")).toString("utf8");
          throw classifyInvokeFailure({ kind: "http-status", status: response.status, body: text });
        }
        return decodeResponse(await readBody(response, MAX_RESPONSE_BYTES, "reject"), decode);
      } catch (e) {
        if (e instanceof InvokeError) throw e;
        throw classifyInvokeFailure(failureOf(e, attemptSignal));
      }
    });
  }
}

/**
 * Reads at most `maxBytes` of a body without buffering more: "reject" throws PROTOCOL_TOO_LARGE
 * (classified INVOKE_BAD_RESPONSE), "truncate" keeps the first `maxBytes` (error bodies).
 */
async function readBody(
  response: Response,
  maxBytes: number,
  overflow: "reject" | "truncate",
): Promise<Buffer> {
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (overflow === "reject" && declared > maxBytes) {
    await response.body?.cancel();
    throw tooLarge(declared, maxBytes);
  }
  if (response.body === null) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        if (overflow === "reject") throw tooLarge(size, maxBytes);
        chunks.push(value.subarray(0, value.byteLength - (size - maxBytes)));
        break;
      }
      chunks.push(value);
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks);
}

function tooLarge(sizeBytes: number, maxBytes: number): InvokeError {
  return classifyInvokeFailure({
    kind: "bad-response",
    error: new ProtocolError(
      "PROTOCOL_TOO_LARGE",
      `response of at least ${sizeBytes} bytes exceeds ${maxBytes}`,
    ),
  });
}
