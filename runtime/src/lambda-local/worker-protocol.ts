import type { FunctionErrorPayload } from "./lambda-errors";

/**
 * Messages between a WorkerPool (main thread) and worker-entry (one execution environment). Payloads
 * travel as JSON text so the handler always receives a fresh, plain object and the size check on the
 * response is made on exactly the bytes Lambda would send.
 */

/** Fixed for the life of one environment: passed as `workerData`. */
export interface EnvironmentData {
  /** Several invocations run at once (Lambda Managed Instances): log lines find theirs by async context. */
  readonly concurrent: boolean;
  readonly bundlePath: string;
  readonly handlerExport: string;
  readonly functionName: string;
  readonly functionVersion: string;
  readonly memoryLimitInMB: number;
  readonly logGroupName: string;
  readonly logStreamName: string;
}

export interface InvokeMessage {
  readonly type: "invoke";
  readonly requestId: string;
  readonly payloadJson: string;
  readonly deadlineEpochMs: number;
  readonly invokedFunctionArn: string;
  /** The version as invoked: a number or `$LATEST` (what `context.functionVersion` reports). */
  readonly functionVersion: string;
  readonly clientContext: unknown;
}

export type ParentMessage = InvokeMessage;

export type WorkerMessage =
  | { readonly type: "ready" }
  | { readonly type: "init-error"; readonly error: FunctionErrorPayload }
  | { readonly type: "result"; readonly requestId: string; readonly payloadJson: string }
  | { readonly type: "error"; readonly requestId: string; readonly error: FunctionErrorPayload }
  | LogMessage;

/**
 * Lines a Capstan invocation's handler printed (console or stdout/stderr), tagged with the invocation
 * id and attempt read from its event; lines of other events are not captured.
 */
export interface LogMessage {
  readonly type: "log";
  readonly invocationId: string;
  readonly attempt: number;
  readonly stream: "stdout" | "stderr";
  readonly atMs: number;
  readonly lines: readonly string[];
}
