/**
 * Invoker for Lambda deployments: `lambda:Invoke` (RequestResponse) with the protocol message as the
 * payload. The only invoker file that imports @aws-sdk/*. The SDK does no retries (maxAttempts 1):
 * the runtime retries attempts itself, with its own backoff and journal-aware policy.
 */
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import type { InvokeCommandOutput } from "@aws-sdk/client-lambda";
import { decodeDiscoveryResponse, decodeInvokeResponse } from "@capstan/sdk/protocol";
import type {
  DiscoverRequest,
  DiscoveryResponse,
  InvokeRequest,
  InvokeResponse,
} from "@capstan/sdk/protocol";
import { MAX_FAILURE_DETAIL_LENGTH, classifyInvokeFailure } from "./classify";
import type { InvokeFailure } from "./classify";
import { withFastProperties } from "./fast-properties";
import { Http1RequestHandler } from "./http1-request-handler";
import { InvokeError } from "./invoker";
import type { DeploymentEndpoint, Invoker } from "./invoker";
import {
  AttemptGate,
  DEFAULT_MAX_CONCURRENT_INVOKES,
  decodeResponse,
  encodeRequest,
  failureOf,
} from "./wire";
import type { InvokerLimits } from "./wire";

/** Used against a local Lambda endpoint (emulators ignore the signature but the SDK must sign). */
export const LOCAL_ENDPOINT_CREDENTIALS = { accessKeyId: "capstan-local", secretAccessKey: "capstan-local" };
const LOCAL_ENDPOINT_REGION = "us-east-1";
const LOCAL_SKIPPED_MIDDLEWARE = [
  "getUserAgentMiddleware",
  "recursionDetectionMiddleware",
  "loggerMiddleware",
];

export interface LambdaInvokerOptions extends InvokerLimits {
  /** Absent: the SDK's default chain (AWS_REGION). */
  region?: string;
  /** A local Lambda endpoint, e.g. "http://127.0.0.1:9001"; static dummy credentials are then used. */
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** False only for an endpoint that ignores signatures (the local one); default true. */
  signRequests?: boolean;
}

/**
 * @example
 * const invoker = new LambdaInvoker({ region: "eu-west-1" });
 * const response = await invoker.invoke({ kind: "lambda", arn: "arn:aws:lambda:eu-west-1:1:function:orders:7" }, request, signal);
 * // throttling or a crashed handler throws InvokeError { retryable: true }; a missing function pauses the invocation
 */
export class LambdaInvoker implements Invoker {
  private readonly client: LambdaClient;
  private readonly gate: AttemptGate;
  private readonly identity: InvokerLimits["identity"];
  private readonly localTransport: Http1RequestHandler | undefined;

  constructor(options: LambdaInvokerOptions = {}) {
    this.gate = new AttemptGate(options);
    this.identity = options.identity;
    const local = options.endpoint !== undefined;
    const region = options.region ?? (local ? LOCAL_ENDPOINT_REGION : undefined);
    const credentials = options.credentials ?? (local ? LOCAL_ENDPOINT_CREDENTIALS : undefined);
    // One socket per permitted attempt: the SDK's default pool of 50 would queue attempts invisibly.
    const agent = { keepAlive: true, maxSockets: options.maxConcurrency ?? DEFAULT_MAX_CONCURRENT_INVOKES };
    // A plain-http endpoint is a local one: the lighter transport (see http1-request-handler.ts),
    // and the middleware stack resolved once instead of on every send (the signal then reaches the
    // transport beside the payload, as per-send options would defeat that cache).
    this.localTransport =
      options.endpoint?.startsWith("http:") === true ? new Http1RequestHandler() : undefined;
    // Absent settings stay absent so the SDK's own defaults (AWS_REGION, credential chain) apply.
    this.client = new LambdaClient({
      maxAttempts: 1,
      requestHandler: this.localTransport ?? { httpAgent: agent, httpsAgent: agent },
      ...(this.localTransport !== undefined && {
        cacheMiddleware: true,
        // The endpoint rules resolve a custom endpoint to itself; asking them costs a third of a call.
        endpointProvider: constantEndpoint(options.endpoint!),
      }),
      ...(region !== undefined && { region }),
      ...(options.endpoint !== undefined && { endpoint: options.endpoint }),
      ...(credentials !== undefined && { credentials }),
      // Capstan's local endpoint accepts any signature (it binds 127.0.0.1): `capstan dev` turns
      // SigV4's per-request hashing off there. Against AWS every request is signed.
      ...(options.signRequests === false && {
        signer: { sign: async <T>(request: T): Promise<T> => request },
      }),
    });
    // The local endpoint reads neither the user agent nor X-Ray trace headers, and nothing logs:
    // those middleware would only cost every call (a fifth of the SDK's share).
    if (this.localTransport !== undefined)
      for (const name of LOCAL_SKIPPED_MIDDLEWARE) this.client.middlewareStack.remove(name);
    // The SDK's middleware spreads this config into new objects four times per call; V8 made it a
    // hash table, which spreads ten times slower (+9% noop throughput at 32 clients, locally).
    withFastProperties(this.client.config);
  }

  /** Async so that a request over MAX_REQUEST_BYTES rejects rather than throws. */
  async invoke(
    endpoint: DeploymentEndpoint,
    request: InvokeRequest,
    signal: AbortSignal,
  ): Promise<InvokeResponse> {
    return this.call(endpoint, encodeRequest(request, this.identity), signal, decodeInvokeResponse);
  }

  discover(
    endpoint: DeploymentEndpoint,
    request: DiscoverRequest,
    signal: AbortSignal,
  ): Promise<DiscoveryResponse> {
    return this.call(endpoint, encodeRequest(request, this.identity), signal, decodeDiscoveryResponse);
  }

  /** Attempts in flight and waiting, for metrics. */
  get load(): { inFlight: number; waiting: number } {
    return { inFlight: this.gate.slots.inUse, waiting: this.gate.slots.waiting };
  }

  /** Closes the SDK client's sockets. */
  close(): void {
    this.client.destroy();
  }

  private async call<T>(
    endpoint: DeploymentEndpoint,
    payload: Buffer,
    signal: AbortSignal,
    decode: (v: unknown) => T,
  ): Promise<T> {
    if (endpoint.kind !== "lambda")
      throw new TypeError(`LambdaInvoker cannot reach a ${endpoint.kind} deployment`);
    return this.gate.run(signal, async (attemptSignal) => {
      let output: InvokeCommandOutput;
      try {
        const command = new InvokeCommand({
          FunctionName: endpoint.arn,
          InvocationType: "RequestResponse",
          Payload: payload,
        });
        if (this.localTransport === undefined) {
          output = await this.client.send(command, { abortSignal: attemptSignal });
        } else {
          this.localTransport.bindSignal(payload, attemptSignal);
          output = await this.client.send(command);
        }
      } catch (e) {
        throw classifyInvokeFailure(sdkFailure(e, attemptSignal));
      }
      const body = output.Payload ?? new Uint8Array();
      if (output.FunctionError !== undefined)
        throw classifyInvokeFailure(functionFailure(output.FunctionError, body));
      return decodeResponse(body, decode);
    });
  }
}

function constantEndpoint(url: string): () => { url: URL } {
  const endpoint = { url: new URL(url) };
  return () => endpoint;
}

/** Service exceptions carry `$fault` and the error name parsed from x-amzn-ErrorType. */
function sdkFailure(e: unknown, signal: AbortSignal): InvokeFailure {
  if (signal.aborted || e instanceof InvokeError) return failureOf(e, signal);
  const err = e as {
    name?: unknown;
    message?: unknown;
    $fault?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  if (typeof err?.name === "string" && (err.$fault === "client" || err.$fault === "server")) {
    return {
      kind: "aws-error",
      name: err.name,
      ...(err.$metadata?.httpStatusCode !== undefined && { status: err.$metadata.httpStatusCode }),
      ...(typeof err.message === "string" && { message: err.message }),
    };
  }
  return failureOf(e, signal);
}

/** Lambda's error payload: `{ errorMessage, errorType, stackTrace? }`, read best-effort and bounded. */
function functionFailure(functionError: string, body: Uint8Array): InvokeFailure {
  const text = Buffer.from(body.buffer, body.byteOffset, Math.min(body.byteLength, 64 * 1024)).toString(
    "utf8",
  );
  let errorType: string | undefined;
  let message = text.slice(0, MAX_FAILURE_DETAIL_LENGTH);
  try {
    const parsed = JSON.parse(text) as { errorMessage?: unknown; errorType?: unknown };
    if (typeof parsed.errorMessage === "string") message = parsed.errorMessage;
    if (typeof parsed.errorType === "string") errorType = parsed.errorType;
  } catch {
    // Not JSON (or cut at 64 KiB): keep the raw text.
  }
  return { kind: "function-error", functionError, message, ...(errorType !== undefined && { errorType }) };
}
