/**
 * Invokes SDK endpoints in this process, with the same JSON encoding and decoding as a real transport,
 * so tests exercise the protocol end to end without a network hop to the handler.
 */
import type { Endpoint } from "@capstan/sdk";
import {
  decodeDiscoveryResponse,
  decodeInvokeResponse,
  type DiscoverRequest,
  type DiscoveryResponse,
  type InvokeRequest,
  type InvokeResponse,
  type RuntimeToSdk,
} from "@capstan/sdk/protocol";
import type { RequestSigner } from "../security/request-signer";
import { InvokeError, type DeploymentEndpoint, type Invoker } from "../invoker/invoker";

export const IN_PROCESS_SCHEME = "inprocess://";

export class InProcessInvoker implements Invoker {
  private readonly endpoints = new Map<string, Endpoint>();

  constructor(
    private readonly remainingTimeMs: () => number,
    /** Signs each message as the network invokers do (request identity). */
    private readonly identity?: RequestSigner,
  ) {}

  /** Serves `endpoint` at `inprocess://{name}`; register that URL as an HTTP deployment. */
  add(name: string, endpoint: Endpoint): DeploymentEndpoint {
    const url = IN_PROCESS_SCHEME + name;
    this.endpoints.set(url, endpoint);
    return { kind: "http", url };
  }

  async invoke(
    endpoint: DeploymentEndpoint,
    request: InvokeRequest,
    signal: AbortSignal,
  ): Promise<InvokeResponse> {
    return decodeInvokeResponse(await this.send(endpoint, request, signal));
  }

  async discover(
    endpoint: DeploymentEndpoint,
    request: DiscoverRequest,
    signal: AbortSignal,
  ): Promise<DiscoveryResponse> {
    return decodeDiscoveryResponse(await this.send(endpoint, request, signal));
  }

  private async send(
    endpoint: DeploymentEndpoint,
    message: RuntimeToSdk,
    signal: AbortSignal,
  ): Promise<unknown> {
    const target = endpoint.kind === "http" ? this.endpoints.get(endpoint.url) : undefined;
    if (!target)
      throw new InvokeError(
        "INVOKE_NOT_FOUND",
        `no in-process endpoint at ${JSON.stringify(endpoint)}`,
        false,
      );
    if (signal.aborted) throw new InvokeError("INVOKE_TIMEOUT", "attempt aborted", true);
    let response: unknown;
    try {
      const json = JSON.stringify(message);
      const wire = this.identity === undefined ? json : this.identity.sign(message, json);
      response = await target.handle(JSON.parse(wire), {
        remainingTimeMs: this.remainingTimeMs,
      });
    } catch (e) {
      // A handler crash in a real deployment surfaces as a function error: retryable.
      throw new InvokeError("INVOKE_FUNCTION_ERROR", String((e as Error)?.message ?? e), true, { cause: e });
    }
    if (signal.aborted) throw new InvokeError("INVOKE_TIMEOUT", "attempt aborted", true);
    return JSON.parse(JSON.stringify(response));
  }
}
