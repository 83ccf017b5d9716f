import type {
  DiscoverRequest,
  DiscoveryResponse,
  InvokeRequest,
  InvokeResponse,
} from "@capstan/sdk/protocol";
import { assertNever } from "@capstan/sdk/protocol";
import type { DeploymentEndpoint, Invoker } from "./invoker";

/**
 * Sends each message through the invoker of its deployment's kind, so the runtime holds one Invoker.
 *
 * @example
 * const invoker = new RoutingInvoker({ lambda: new LambdaInvoker({ region }), http: new HttpInvoker() });
 * await invoker.invoke({ kind: "http", url: "http://orders:9080" }, request, signal); // via HttpInvoker
 */
export class RoutingInvoker implements Invoker {
  constructor(private readonly byKind: { [K in DeploymentEndpoint["kind"]]: Invoker }) {}

  invoke(endpoint: DeploymentEndpoint, request: InvokeRequest, signal: AbortSignal): Promise<InvokeResponse> {
    return this.route(endpoint).invoke(endpoint, request, signal);
  }

  discover(
    endpoint: DeploymentEndpoint,
    request: DiscoverRequest,
    signal: AbortSignal,
  ): Promise<DiscoveryResponse> {
    return this.route(endpoint).discover(endpoint, request, signal);
  }

  private route(endpoint: DeploymentEndpoint): Invoker {
    switch (endpoint.kind) {
      case "lambda":
        return this.byKind.lambda;
      case "http":
        return this.byKind.http;
      default:
        return assertNever(endpoint);
    }
  }
}
