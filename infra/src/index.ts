/**
 * @capstan/infra: CDK constructs that deploy Capstan into your AWS account.
 *
 * @example
 * const app = new App();
 * const stack = new Stack(app, "Capstan");
 * const runtime = new CapstanRuntime(stack, "Runtime");
 * new DurableFunction(stack, "Greeter", { runtime, entry: "src/greeter/handler.ts" });
 * addCapstanChecks(app); // cdk-nag AwsSolutions: synth fails on any unacknowledged finding
 */
export { CapstanRuntime } from "./runtime/capstan-runtime";
export type { CapstanRuntimeProps } from "./runtime/capstan-runtime";
export { CapstanRuntimeImage } from "./runtime/runtime-image";
export type { PackagedImageOptions } from "./runtime/runtime-image";
export {
  ADMIN_PORT,
  CHECKPOINT_PORT,
  DEFAULT_LEASE_MS,
  INGRESS_PORT,
  LOAD_BALANCER_IDLE_TIMEOUT_SECONDS,
  PEER_PORT,
  STOP_TIMEOUT_SECONDS,
} from "./runtime/runtime-limits";
export { DurableFunction } from "./function/durable-function";
export type { DurableFunctionProps } from "./function/durable-function";
export { Registrar } from "./registration/registrar";
export { addCapstanChecks } from "./nag/capstan-checks";
