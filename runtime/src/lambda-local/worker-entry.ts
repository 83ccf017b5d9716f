/**
 * One execution environment, run in a worker thread: loads the bundle once (the init phase), then
 * answers each invoke message with the handler's result or error: one at a time, or several at once
 * for a function on managed instances (the pool decides; ADR 0008). Only async (or
 * value-returning) handlers are supported, as in the Node.js 24 Lambda runtime; callback-style
 * handlers are not. `callbackWaitsForEmptyEventLoop` is accepted but has no effect: the response is
 * sent when the handler's promise settles.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { parentPort, workerData } from "node:worker_threads";
import { setPriority } from "node:os";
import { format } from "node:util";
import { boundLogLine, MAX_HANDLER_LOG_LINES_PER_INVOCATION } from "./handler-log-buffer";
import { errorToFunctionError } from "./lambda-errors";
import { HANDLER_THREAD_NICE } from "./lambda-limits";
import type { EnvironmentData, InvokeMessage, WorkerMessage } from "./worker-protocol";

type Handler = (event: unknown, context: LambdaContext) => unknown;

interface LambdaContext {
  readonly awsRequestId: string;
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
  readonly clientContext: unknown;
  readonly identity: undefined;
  callbackWaitsForEmptyEventLoop: boolean;
  getRemainingTimeInMillis(): number;
}

const data = workerData as EnvironmentData;
const port = parentPort;
/** The invocation running now, for log lines; with concurrent invocations, each one's async context. */
let currentRequestId = "";
const concurrentRequestIds = data.concurrent ? new AsyncLocalStorage<string>() : undefined;
const requestIdForLogs = (): string => concurrentRequestIds?.getStore() ?? currentRequestId;
/** Request id → the Capstan invocation and attempt its event carries (only for such events). */
const invocationTags = new Map<string, { invocationId: string; attempt: number }>();

function send(message: WorkerMessage): void {
  port?.postMessage(message);
}

/** Lambda's Node.js runtime prefixes each console line with time, request id and level. */
function patchConsole(): void {
  const levels = [
    ["log", "INFO"],
    ["info", "INFO"],
    ["warn", "WARN"],
    ["error", "ERROR"],
    ["debug", "DEBUG"],
    ["trace", "TRACE"],
  ] as const;
  for (const [method, level] of levels) {
    const stream = level === "ERROR" || level === "WARN" ? process.stderr : process.stdout;
    console[method] = (...args: unknown[]) => {
      stream.write(
        `${new Date().toISOString()}\t${requestIdForLogs() || "undefined"}\t${level}\t${format(...args)}\n`,
      );
    };
  }
}

/** A Capstan invoke request's invocation id and attempt, when the event is one. */
function invocationTag(event: unknown): { invocationId: string; attempt: number } | undefined {
  if (typeof event !== "object" || event === null) return undefined;
  const { type, invocationId, attempt } = event as Record<string, unknown>;
  return type === "invoke" && typeof invocationId === "string" && typeof attempt === "number"
    ? { invocationId, attempt }
    : undefined;
}

/**
 * Everything written to stdout/stderr while a Capstan invocation runs (its console lines and direct
 * writes) is also sent to the pool, tagged, for `capstan invocations logs`; it still reaches the
 * terminal as before. A write is split into lines; a partial line counts as one.
 */
function captureOutput(): void {
  for (const stream of ["stdout", "stderr"] as const) {
    const target = process[stream];
    const write = target.write.bind(target) as (...args: unknown[]) => boolean;
    target.write = (chunk: unknown, ...rest: unknown[]): boolean => {
      const tag = invocationTags.get(requestIdForLogs());
      if (tag !== undefined) {
        const text = typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8");
        const lines = text.split("\n");
        if (lines[lines.length - 1] === "") lines.pop();
        // The buffer keeps no more of one invocation than this: the rest need not cross threads.
        const kept = lines.slice(-MAX_HANDLER_LOG_LINES_PER_INVOCATION).map(boundLogLine);
        if (kept.length > 0) send({ type: "log", ...tag, stream, atMs: Date.now(), lines: kept });
      }
      return write(chunk, ...rest);
    };
  }
}

function loadHandler(): Handler | WorkerMessage {
  let module: Record<string, unknown>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    module = require(data.bundlePath) as Record<string, unknown>;
  } catch (e) {
    const error = errorToFunctionError(e);
    return { type: "init-error", error: { ...error, errorType: `Runtime.ImportModuleError` } };
  }
  const handler = module[data.handlerExport];
  if (typeof handler !== "function") {
    const message = `index.${data.handlerExport} is undefined or not exported`;
    return {
      type: "init-error",
      error: { errorType: "Runtime.HandlerNotFound", errorMessage: message, trace: [], stackTrace: [] },
    };
  }
  return handler as Handler;
}

async function invoke(handler: Handler, message: InvokeMessage): Promise<WorkerMessage> {
  if (concurrentRequestIds === undefined) currentRequestId = message.requestId;
  const context: LambdaContext = {
    awsRequestId: message.requestId,
    functionName: data.functionName,
    functionVersion: message.functionVersion,
    invokedFunctionArn: message.invokedFunctionArn,
    memoryLimitInMB: String(data.memoryLimitInMB),
    logGroupName: data.logGroupName,
    logStreamName: data.logStreamName,
    clientContext: message.clientContext,
    identity: undefined,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, message.deadlineEpochMs - Date.now()),
  };
  try {
    const event: unknown = JSON.parse(message.payloadJson);
    const tag = invocationTag(event);
    if (tag !== undefined) invocationTags.set(message.requestId, tag);
    const result = await handler(event, context);
    let payloadJson: string;
    try {
      // Lambda answers `null` for a handler that returns undefined.
      payloadJson = JSON.stringify(result) ?? "null";
    } catch (e) {
      const error = errorToFunctionError(e);
      return {
        type: "error",
        requestId: message.requestId,
        error: { ...error, errorType: "Runtime.MarshalError" },
      };
    }
    return { type: "result", requestId: message.requestId, payloadJson };
  } catch (e) {
    return { type: "error", requestId: message.requestId, error: errorToFunctionError(e) };
  } finally {
    invocationTags.delete(message.requestId);
    if (concurrentRequestIds === undefined) currentRequestId = "";
  }
}

/** On Linux a nice value belongs to a thread: this lowers this environment's alone. */
function lowerPriority(): void {
  try {
    setPriority(HANDLER_THREAD_NICE);
  } catch {
    // Not permitted or not supported here: the handler then shares the runtime's priority.
  }
}

function main(): void {
  if (port === null) throw new Error("worker-entry must run in a worker thread");
  lowerPriority();
  patchConsole();
  captureOutput();
  const loaded = loadHandler();
  if (typeof loaded !== "function") {
    send(loaded);
    return;
  }
  port.on("message", (message: InvokeMessage) => {
    const running =
      concurrentRequestIds === undefined
        ? invoke(loaded, message)
        : concurrentRequestIds.run(message.requestId, () => invoke(loaded, message));
    void running.then(send);
  });
  send({ type: "ready" });
}

main();
