import { randomBytes } from "node:crypto";
import { dirname } from "node:path";
import { Worker } from "node:worker_threads";
import { type FunctionErrorPayload, errorToFunctionError, runtimeFunctionError } from "./lambda-errors";
import { INIT_TIMEOUT_MS, LOCAL_REGION } from "./lambda-limits";
import type { FunctionVersion } from "./function-registry";
import type { EnvironmentData, InvokeMessage, LogMessage, WorkerMessage } from "./worker-protocol";
import type { WorkerScript } from "./worker-script";

/** What one invocation produced inside an environment. */
export type EnvironmentOutcome =
  | { readonly kind: "success"; readonly payloadJson: string }
  | { readonly kind: "function-error"; readonly error: FunctionErrorPayload };

/** One invocation as the pool hands it to an environment. */
export type EnvironmentRequest = Omit<InvokeMessage, "type" | "deadlineEpochMs">;

interface Pending {
  readonly resolve: (outcome: EnvironmentOutcome) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * One Lambda execution environment: a worker thread that loads the bundle once and runs one
 * invocation at a time. Anything that leaves the environment in an unknown state — a timeout, an
 * uncaught exception, `process.exit`, running out of heap, a failed init — ends it for good; the
 * pool starts a fresh one for the next request, as Lambda resets a sandbox.
 *
 * For a function on Lambda Managed Instances the thread is one runtime worker of the environment
 * and runs up to `version.perWorkerConcurrency` invocations at once. As there, a timeout fails that
 * invocation alone (its code is not stopped), while a crash of the thread fails every invocation on
 * it.
 */
export class ExecutionEnvironment {
  private readonly worker: Worker;
  private readonly initialized: Promise<FunctionErrorPayload | undefined>;
  private settleInit: (error: FunctionErrorPayload | undefined) => void = () => undefined;
  /** Set once init ended: later invocations skip the wait (and its timer). */
  private initOutcome: { error: FunctionErrorPayload | undefined } | undefined;
  private readonly pending = new Map<string, Pending>();
  private crash: FunctionErrorPayload | undefined;
  private exited = false;
  /** False once the environment must not take another invocation. */
  usable = true;

  constructor(
    private readonly version: FunctionVersion,
    script: WorkerScript,
    baseEnvironment: Readonly<Record<string, string>>,
    private readonly onExit: (env: ExecutionEnvironment) => void,
    /** Lines a Capstan invocation printed (worker-entry.ts captures them). */
    private readonly onLog: (message: LogMessage) => void = () => undefined,
  ) {
    const { name, config } = version;
    const logStreamName = `${new Date().toISOString().slice(0, 10).replaceAll("-", "/")}/[${version.version}]${randomBytes(16).toString("hex")}`;
    const perEnvironment = config.perExecutionEnvironmentMaxConcurrency;
    const data: EnvironmentData = {
      concurrent: version.perWorkerConcurrency > 1,
      bundlePath: version.bundlePath,
      handlerExport: "handler",
      functionName: name,
      functionVersion: version.version,
      memoryLimitInMB: config.memoryMb,
      logGroupName: `/aws/lambda/${name}`,
      logStreamName,
    };
    this.initialized = new Promise((resolve) => {
      this.settleInit = (error) => {
        this.initOutcome ??= { error };
        resolve(error);
      };
    });
    this.worker = new Worker(script.filename, {
      eval: script.eval,
      workerData: data,
      // A copy: without `env`, worker threads share (and can mutate) the host's process.env.
      env: {
        ...baseEnvironment,
        ...config.environment,
        AWS_REGION: LOCAL_REGION,
        AWS_DEFAULT_REGION: LOCAL_REGION,
        AWS_EXECUTION_ENV: "AWS_Lambda_nodejs20.x",
        AWS_LAMBDA_FUNCTION_NAME: name,
        AWS_LAMBDA_FUNCTION_VERSION: version.version,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(config.memoryMb),
        AWS_LAMBDA_LOG_GROUP_NAME: data.logGroupName,
        AWS_LAMBDA_LOG_STREAM_NAME: logStreamName,
        LAMBDA_TASK_ROOT: dirname(version.bundlePath),
        _HANDLER: "index.handler",
        ...(perEnvironment !== undefined && { AWS_LAMBDA_MAX_CONCURRENCY: String(perEnvironment) }),
      },
      // Heap only, roughly Lambda's memory size; Buffers and native memory are not counted.
      resourceLimits: {
        maxOldGenerationSizeMb: config.memoryMb,
        maxYoungGenerationSizeMb: Math.min(64, Math.max(8, Math.floor(config.memoryMb / 8))),
      },
    });
    this.worker.on("message", (message: WorkerMessage) => this.onMessage(message));
    this.worker.on("error", (error: Error & { code?: string }) => {
      this.crash =
        error.code === "ERR_WORKER_OUT_OF_MEMORY"
          ? { ...errorToFunctionError(error), errorType: "Runtime.OutOfMemory" }
          : errorToFunctionError(error);
    });
    this.worker.on("exit", (code) => this.onWorkerExit(code));
  }

  /** Runs one invocation; resolves (never rejects) with the outcome. */
  async run(request: EnvironmentRequest): Promise<EnvironmentOutcome> {
    if (this.pending.size >= this.version.perWorkerConcurrency)
      throw new Error(
        `an execution environment runs ${this.version.perWorkerConcurrency} invocation(s) at a time`,
      );
    const initError = await this.waitForInit();
    if (initError !== undefined) {
      this.end();
      return { kind: "function-error", error: initError };
    }
    if (this.exited) return { kind: "function-error", error: this.exitError(request.requestId, 0) };
    const timeoutMs = this.version.config.timeoutSeconds * 1000;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const seconds = this.version.config.timeoutSeconds.toFixed(2);
        this.finish(request.requestId, {
          kind: "function-error",
          error: runtimeFunctionError(
            "Sandbox.Timedout",
            request.requestId,
            `Task timed out after ${seconds} seconds`,
          ),
        });
        // A thread running one invocation at a time is reset, as Lambda resets a sandbox; one shared
        // by several (managed instances) keeps going, and the timed-out code with it, as on AWS.
        if (this.version.perWorkerConcurrency === 1) this.end();
      }, timeoutMs);
      this.pending.set(request.requestId, { resolve, timer });
      const message: InvokeMessage = { ...request, type: "invoke", deadlineEpochMs: Date.now() + timeoutMs };
      this.worker.postMessage(message);
    });
  }

  /** Ends the environment; an invocation still running gets whatever ended it (or an exit error). */
  end(): void {
    this.usable = false;
    if (!this.exited) void this.worker.terminate();
  }

  private async waitForInit(): Promise<FunctionErrorPayload | undefined> {
    if (this.initOutcome !== undefined) return this.initOutcome.error;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<FunctionErrorPayload>((resolve) => {
      timer = setTimeout(
        () =>
          resolve(
            runtimeFunctionError(
              "Sandbox.Timedout",
              "init",
              `Init timed out after ${INIT_TIMEOUT_MS / 1000} seconds`,
            ),
          ),
        INIT_TIMEOUT_MS,
      );
    });
    try {
      return await Promise.race([this.initialized, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private onMessage(message: WorkerMessage): void {
    switch (message.type) {
      case "ready":
        this.settleInit(undefined);
        return;
      case "init-error":
        this.settleInit(message.error);
        return;
      case "result":
        this.finish(message.requestId, { kind: "success", payloadJson: message.payloadJson });
        return;
      case "error":
        this.finish(message.requestId, { kind: "function-error", error: message.error });
        return;
      case "log":
        this.onLog(message);
        return;
      default: {
        const unexpected: never = message;
        throw new Error(`unexpected worker message ${JSON.stringify(unexpected)}`);
      }
    }
  }

  private onWorkerExit(code: number): void {
    this.exited = true;
    this.usable = false;
    this.settleInit(this.crash ?? this.exitError("init", code));
    for (const requestId of [...this.pending.keys()])
      this.finish(requestId, {
        kind: "function-error",
        error: this.crash ?? this.exitError(requestId, code),
      });
    this.onExit(this);
  }

  private exitError(requestId: string, code: number): FunctionErrorPayload {
    return runtimeFunctionError(
      "Runtime.ExitError",
      requestId,
      `Runtime exited with error: exit status ${code}`,
    );
  }

  private finish(requestId: string, outcome: EnvironmentOutcome): void {
    const pending = this.pending.get(requestId);
    if (pending === undefined) return;
    this.pending.delete(requestId);
    clearTimeout(pending.timer);
    pending.resolve(outcome);
  }
}
