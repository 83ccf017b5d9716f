import {
  type EnvironmentOutcome,
  type EnvironmentRequest,
  ExecutionEnvironment,
} from "./execution-environment";
import type { FunctionVersion } from "./function-registry";
import { type WorkerScript, resolveWorkerScript } from "./worker-script";

/** What an invocation through the pool ended as; `throttled` and `shut-down` never ran the handler. */
export type InvokeOutcome =
  | EnvironmentOutcome
  | { readonly kind: "throttled"; readonly reason: string }
  | { readonly kind: "shut-down" };

export interface WorkerPoolOptions {
  readonly maxQueueWaitMs: number;
  readonly idleMs: number;
  readonly baseEnvironment: Readonly<Record<string, string>>;
  readonly script?: WorkerScript;
}

/** A point-in-time view for tests and the CLI. */
export interface WorkerPoolStats {
  readonly environments: number;
  readonly busy: number;
  readonly queued: number;
  /** Environments ever started (a replaced crashed worker counts again). */
  readonly started: number;
}

type Refusal = Extract<InvokeOutcome, { kind: "throttled" | "shut-down" }>;

interface Waiter {
  readonly settle: (result: ExecutionEnvironment | Refusal) => void;
  readonly timer: NodeJS.Timeout;
}

const THROTTLED: Refusal = { kind: "throttled", reason: "ReservedFunctionConcurrentInvocationLimitExceeded" };

/**
 * The execution environments of one function version. A request takes a warm idle environment
 * (most recently used first, so the rest can idle out), else starts one while fewer than
 * `maxWorkers` exist, else waits in a queue of at most `maxQueued`; one more is throttled, as Lambda
 * throttles beyond a function's reserved concurrency. The queue wait is bounded too.
 *
 * @example
 * const outcome = await registry.poolFor(version).invoke({ requestId, payloadJson: "{}", invokedFunctionArn, functionVersion: "1", clientContext: undefined });
 * if (outcome.kind === "throttled") // the endpoint answers 429 TooManyRequestsException
 */
export class WorkerPool {
  private readonly all = new Set<ExecutionEnvironment>();
  private readonly idle: ExecutionEnvironment[] = [];
  private readonly idleTimers = new Map<ExecutionEnvironment, NodeJS.Timeout>();
  private readonly queue: Waiter[] = [];
  private readonly exitWaiters = new Map<ExecutionEnvironment, () => void>();
  private started = 0;
  private closed = false;
  private readonly script: WorkerScript;

  constructor(
    private readonly version: FunctionVersion,
    private readonly options: WorkerPoolOptions,
  ) {
    this.script = options.script ?? resolveWorkerScript();
  }

  async invoke(request: EnvironmentRequest): Promise<InvokeOutcome> {
    if (this.closed) return { kind: "shut-down" };
    const env = await this.acquire();
    if (!(env instanceof ExecutionEnvironment)) return env;
    try {
      return await env.run(request);
    } finally {
      this.release(env);
    }
  }

  stats(): WorkerPoolStats {
    return {
      environments: this.all.size,
      busy: this.all.size - this.idle.length,
      queued: this.queue.length,
      started: this.started,
    };
  }

  /** Ends every environment; waiting requests end as `shut-down`, running ones as exit errors. */
  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.queue.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.settle({ kind: "shut-down" });
    }
    for (const timer of this.idleTimers.values()) clearTimeout(timer);
    this.idleTimers.clear();
    const exits = [...this.all].map(
      (env) => new Promise<void>((resolve) => this.exitWaiters.set(env, resolve)),
    );
    for (const env of this.all) env.end();
    await Promise.all(exits);
  }

  private acquire(): Promise<ExecutionEnvironment | Refusal> {
    const warm = this.idle.pop();
    if (warm !== undefined) {
      clearTimeout(this.idleTimers.get(warm));
      this.idleTimers.delete(warm);
      return Promise.resolve(warm);
    }
    if (this.all.size < this.version.maxWorkers) return Promise.resolve(this.spawn());
    if (this.queue.length >= this.version.maxQueued) return Promise.resolve(THROTTLED);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        settle: resolve,
        timer: setTimeout(() => {
          const index = this.queue.indexOf(waiter);
          if (index >= 0) this.queue.splice(index, 1);
          resolve(THROTTLED);
        }, this.options.maxQueueWaitMs),
      };
      this.queue.push(waiter);
    });
  }

  private spawn(): ExecutionEnvironment {
    this.started += 1;
    const env = new ExecutionEnvironment(this.version, this.script, this.options.baseEnvironment, (ended) =>
      this.onEnvironmentExit(ended),
    );
    this.all.add(env);
    return env;
  }

  /** Hands a finished environment to the next waiter, or parks it warm. */
  private release(env: ExecutionEnvironment): void {
    if (!env.usable || this.closed) {
      env.end();
      return;
    }
    const waiter = this.queue.shift();
    if (waiter !== undefined) {
      clearTimeout(waiter.timer);
      waiter.settle(env);
      return;
    }
    this.idle.push(env);
    const timer = setTimeout(() => env.end(), this.options.idleMs);
    timer.unref();
    this.idleTimers.set(env, timer);
  }

  /** An ended environment frees a slot: a waiter gets a fresh one. */
  private onEnvironmentExit(env: ExecutionEnvironment): void {
    this.all.delete(env);
    const idleIndex = this.idle.indexOf(env);
    if (idleIndex >= 0) this.idle.splice(idleIndex, 1);
    clearTimeout(this.idleTimers.get(env));
    this.idleTimers.delete(env);
    this.exitWaiters.get(env)?.();
    this.exitWaiters.delete(env);
    if (this.closed) return;
    const waiter = this.queue.shift();
    if (waiter !== undefined) {
      clearTimeout(waiter.timer);
      waiter.settle(this.spawn());
    }
  }
}
