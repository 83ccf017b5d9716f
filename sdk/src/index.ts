/**
 * @capstan/sdk: durable services, virtual objects and workflows. Adapters live in subpaths:
 * `@capstan/sdk/lambda`, `@capstan/sdk/http`, `@capstan/sdk/client`, `@capstan/sdk/protocol`.
 */
export { service, object, workflow } from "./definitions/define";
export { shared, handlers } from "./definitions/handlers";
export type {
  ServiceDefinition,
  ObjectDefinition,
  WorkflowDefinition,
  Definition,
  HandlerConfig,
  Client,
  SendClient,
  HandlerInput,
  HandlerOutput,
  ClientArgs,
} from "./definitions/definition";
export type {
  Context,
  ObjectContext,
  ObjectSharedContext,
  WorkflowContext,
  WorkflowSharedContext,
  Request,
  Rand,
  DateApi,
  Logger,
  RunOptions,
  CallOptions,
  SendOptions,
  InvocationHandle,
  Awakeable,
  DurablePromise,
} from "./context/context-types";
export { CapstanPromise } from "./engine/capstan-promise";
export type { Duration } from "./duration";
export { durationToMs } from "./duration";
export { jsonSerde } from "./serde/serde";
export type { Serde } from "./serde/serde";
export { TerminalError, isTerminalError } from "./errors/terminal-error";
export type { TerminalErrorOptions } from "./errors/terminal-error";
export { RetryableError, isRetryableError } from "./errors/retryable-error";
export { CancelledError, isCancelledError } from "./errors/cancelled-error";
export { TimeoutError, isTimeoutError } from "./errors/timeout-error";
export { NonDeterminismError, isNonDeterminismError } from "./errors/non-determinism-error";
export { AttemptSupersededError, isAttemptSupersededError } from "./errors/attempt-superseded-error";
export type { SdkErrorCode } from "./errors/sdk-error-codes";
export { ProtocolError, isProtocolError } from "./protocol";
export { createEndpoint } from "./endpoint/endpoint";
export type { Endpoint, HandleOptions } from "./endpoint/endpoint";
export type { EndpointOptions } from "./endpoint/endpoint-options";
