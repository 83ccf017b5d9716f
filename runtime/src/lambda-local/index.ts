/**
 * A local stand-in for AWS Lambda: build handlers as they are deployed, publish them as immutable
 * versions, and serve Lambda's Invoke API on localhost so `@aws-sdk/client-lambda` runs unchanged.
 */
export { BuildCache } from "./build-cache";
export { buildFunction, codeSha256Of } from "./function-builder";
export type { BuildFunctionOptions, BuiltFunction } from "./function-builder";
export {
  discoverFunctions,
  parseFunctionJson,
  HANDLER_FILE,
  FUNCTION_CONFIG_FILE,
} from "./function-discovery";
export type { DiscoveredFunction } from "./function-discovery";
export { FunctionRegistry } from "./function-registry";
export type {
  FunctionBundle,
  FunctionConfig,
  FunctionRegistryOptions,
  FunctionVersion,
  PublishConfig,
} from "./function-registry";
export { LATEST_QUALIFIER, assertValidFunctionName, functionArn, parseFunctionRef } from "./function-name";
export type { FunctionRef } from "./function-name";
export { startLocalLambda } from "./lambda-endpoint";
export type { LocalLambda, LocalLambdaOptions } from "./lambda-endpoint";
export { LambdaApiError, isLambdaApiError } from "./lambda-errors";
export type { FunctionErrorPayload, LambdaApiErrorType } from "./lambda-errors";
export {
  DEFAULT_MAX_QUEUED_PER_FUNCTION,
  DEFAULT_MAX_WORKERS_PER_FUNCTION,
  DEFAULT_MEMORY_MB,
  DEFAULT_TIMEOUT_SECONDS,
  MAX_ASYNC_REQUEST_PAYLOAD_BYTES,
  MAX_SYNC_REQUEST_PAYLOAD_BYTES,
  MAX_SYNC_RESPONSE_PAYLOAD_BYTES,
  MAX_TIMEOUT_SECONDS,
} from "./lambda-limits";
export { WorkerPool } from "./worker-pool";
export type { InvokeOutcome, WorkerPoolStats } from "./worker-pool";
export { startLocalLambdaProcess } from "./local-lambda-process";
export type { LocalLambdaHandle } from "./local-lambda-process";
export type { LocalLambdaProcessOptions } from "./local-lambda-protocol";
