/**
 * @capstan/runtime: the server that owns the log, state, timers and messages and drives handlers.
 *
 * @example
 * const node = await startRuntimeNode({ dataDir: ".capstan", partitions: 16, host: "127.0.0.1",
 *   ingressPort: 8080, adminPort: 9070, checkpointPort: 9071, invoker: new HttpInvoker() });
 */
export { Runtime, RUNTIME_VERSION } from "./runtime";
export type { RuntimeOptions } from "./runtime";
export { startRuntimeNode } from "./node";
export type { RuntimeNode, RuntimeNodeOptions } from "./node";
export { loadConfig, ConfigError } from "./config/config";
export type { RuntimeConfig } from "./config/config";
export { LambdaInvoker } from "./invoker/lambda-invoker";
export { HttpInvoker } from "./invoker/http-invoker";
export { RoutingInvoker } from "./invoker/routing-invoker";
export { InvokeError } from "./invoker/invoker";
export type { Invoker, DeploymentEndpoint, InvokeErrorCode } from "./invoker/invoker";
export { openSqliteStores } from "./storage/sqlite-stores";
export { lockDataDir, DataDirInUseError } from "./storage/data-dir-lock";
export type { DataDirLock } from "./storage/data-dir-lock";
export type { LogStore } from "./storage/log-store";
export type { PartitionStore } from "./storage/partition-store";
export { startDevPlatform } from "./dev/dev-platform";
export type { DevPlatform } from "./dev/dev-platform";
export { ApiError } from "./server/api-error";
export { RuntimeError, isRuntimeError } from "./runtime-error";
export { ATTEMPT_CREDENTIAL_TTL_MS } from "./security/attempt-credentials";
export { loadNodeCredentials } from "./security/node-credentials";
export type { NodeCredentials } from "./security/node-credentials";
export { Telemetry } from "./telemetry/telemetry";
export type { AttemptTelemetry, AttemptEnd, IngressTelemetry } from "./telemetry/telemetry";
export { OtelTracing } from "./telemetry/otel-tracing";
export type { OtelTracingOptions } from "./telemetry/otel-tracing";
export { noopTracing } from "./telemetry/tracing";
export type { Tracing, OpenSpan, SpanSpec, SpanAttributes } from "./telemetry/tracing";
export { createTelemetry } from "./telemetry/create-telemetry";
export { Metrics } from "./metrics/metrics";
export { stderrLog, jsonLog, createLog } from "./log";
export type { Log, LogFields, LogLevel, LogFormat } from "./log";
export type { RuntimeApi } from "./server/runtime-api";
