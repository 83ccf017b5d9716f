/**
 * A runtime invoker for tests that answers Lambda version ARNs with SDK endpoints in this process:
 * the runtime registers, discovers and invokes `arn:…:function:name:N` exactly as it would on AWS,
 * and the handler code runs here, over the same JSON round trip as a real transport.
 */
import type { DeploymentEndpoint, Invoker } from "@capstan/runtime";
import { InProcessInvoker } from "@capstan/runtime/testing";
import type { Endpoint } from "@capstan/sdk";

type InvokeArgs = Parameters<Invoker["invoke"]>;
type DiscoverArgs = Parameters<Invoker["discover"]>;

export class ArnInvoker implements Invoker {
  /** remainingTimeMs 0: the SDK suspends at every wait instead of long-polling in real time. */
  private readonly inProcess = new InProcessInvoker(() => 0);
  private readonly byArn = new Map<string, DeploymentEndpoint>();

  /** Serves `endpoint` as the Lambda version `arn`. */
  add(arn: string, endpoint: Endpoint): void {
    this.byArn.set(arn, this.inProcess.add(arn, endpoint));
  }

  private route(endpoint: DeploymentEndpoint): DeploymentEndpoint {
    const routed = endpoint.kind === "lambda" ? this.byArn.get(endpoint.arn) : undefined;
    return routed ?? endpoint; // unknown: the in-process invoker answers INVOKE_NOT_FOUND
  }

  invoke(
    endpoint: InvokeArgs[0],
    request: InvokeArgs[1],
    signal: InvokeArgs[2],
  ): ReturnType<Invoker["invoke"]> {
    return this.inProcess.invoke(this.route(endpoint), request, signal);
  }

  discover(
    endpoint: DiscoverArgs[0],
    request: DiscoverArgs[1],
    signal: DiscoverArgs[2],
  ): ReturnType<Invoker["discover"]> {
    return this.inProcess.discover(this.route(endpoint), request, signal);
  }
}
