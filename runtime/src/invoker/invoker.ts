import type {
  DiscoverRequest,
  DiscoveryResponse,
  InvokeRequest,
  InvokeResponse,
} from "@capstan/sdk/protocol";

/** Where a deployment lives: a Lambda function (ARN or name, qualified version pinned) or an HTTP URL. */
export type DeploymentEndpoint = { kind: "lambda"; arn: string } | { kind: "http"; url: string };

/**
 * Port: sends one protocol message to a deployment. Implementations: LambdaInvoker
 * (@aws-sdk/client-lambda Invoke, RequestResponse), HttpInvoker (POST), InProcessInvoker (testing).
 * Failures are thrown as InvokeError, classified once by `classifyInvokeFailure`.
 */
export interface Invoker {
  invoke(endpoint: DeploymentEndpoint, request: InvokeRequest, signal: AbortSignal): Promise<InvokeResponse>;
  discover(
    endpoint: DeploymentEndpoint,
    request: DiscoverRequest,
    signal: AbortSignal,
  ): Promise<DiscoveryResponse>;
}

export type InvokeErrorCode =
  | "INVOKE_NETWORK"
  | "INVOKE_TIMEOUT"
  | "INVOKE_THROTTLED"
  | "INVOKE_FUNCTION_ERROR"
  | "INVOKE_PAYLOAD_TOO_LARGE"
  | "INVOKE_NOT_FOUND"
  | "INVOKE_ACCESS_DENIED"
  | "INVOKE_BAD_RESPONSE"
  | "INVOKE_HTTP_STATUS";

/** One attempt could not complete. `retryable` decides between backoff and pausing the invocation. */
export class InvokeError extends Error {
  override readonly name = "InvokeError";
  constructor(
    readonly code: InvokeErrorCode,
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
