import {
  type EnvironmentOutcome,
  type EnvironmentRequest,
  ExecutionEnvironment,
} from "./execution-environment";
import type { FunctionVersion } from "./function-registry";
import type { LogMessage } from "./worker-protocol";
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
  /** Where the lines invocations print go (the endpoint's HandlerLogBuffer); default: nowhere. */
  readonly onLog?: (message: LogMessage) => void;
}

/** A point-in-time view for tests and the CLI. */
export interface WorkerPoolStats {
  readonly environments: number;
  readonly busy: number;
  /** Invocations running (more than `busy` when environments run several at once). */
  readonly running: number;
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
 * `maxWorkers` exist, else — for a function on managed instances, whose worker threads each run
 * several invocations — joins the least busy thread with room, else waits in a queue of at most
 * `maxQueued`; one more is throttled, as Lambda throttles beyond a function's reserved concurrency
 * (or a managed-instances environment beyond its maximum concurrency). The queue wait is bounded too.
 *
 * @example
 * const outcome = await registry.poolFor(version).invoke({ requestId, payloadJson: "{}", invokedFunctionArn, functionVersion: "1", clientContext: undefined });
 * if (outcome.kind === "throttled") // the endpoint answers 429 TooManyRequestsException
 */
export class WorkerPool {
  /** Every environment and the invocations it runs now. */
  private readonly all = new Map<ExecutionEnvironment, number>();
  /** Environments running nothing, most recently used last. */
  private readonly idle: ExecutionEnvironment[] = [];
  private running = 0;
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
      running: this.running,
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
    const exits = [...this.all.keys()].map(
      (env) => new Promise<void>((resolve) => this.exitWaiters.set(env, resolve)),
    );
    for (const env of this.all.keys()) env.end();
    await Promise.all(exits);
  }

  private acquire(): Promise<ExecutionEnvironment | Refusal> {
    const env = this.running < this.version.maxConcurrency ? this.pick() : undefined;
    if (env !== undefined) return Promise.resolve(this.take(env));
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

  /** An idle environment, else a new one, else the least busy one with room; undefined when full. */
  private pick(): ExecutionEnvironment | undefined {
    // An idle environment may be ending (its idle timer fired) until its exit arrives.
    let warm: ExecutionEnvironment | undefined;
    while ((warm = this.idle.pop()) !== undefined) {
      clearTimeout(this.idleTimers.get(warm));
      this.idleTimers.delete(warm);
      if (warm.usable) return warm;
    }
    if (this.all.size < this.version.maxWorkers) return this.spawn();
    let best: ExecutionEnvironment | undefined;
    let bestLoad = this.version.perWorkerConcurrency;
    for (const [env, load] of this.all) {
      if (env.usable && load < bestLoad) {
        best = env;
        bestLoad = load;
      }
    }
    return best;
  }

  private take(env: ExecutionEnvironment): ExecutionEnvironment {
    this.all.set(env, (this.all.get(env) ?? 0) + 1);
    this.running += 1;
    return env;
  }

  private spawn(): ExecutionEnvironment {
    this.started += 1;
    const env = new ExecutionEnvironment(
      this.version,
      this.script,
      this.options.baseEnvironment,
      (ended) => this.onEnvironmentExit(ended),
      this.options.onLog,
    );
    this.all.set(env, 0);
    return env;
  }

  /** Hands a finished invocation's slot to the next waiter, or parks its environment warm when idle. */
  private release(env: ExecutionEnvironment): void {
    const load = this.all.get(env);
    if (load !== undefined) this.all.set(env, load - 1);
    this.running -= 1;
    if (!env.usable || this.closed) {
      env.end();
      // Its slot is free even if the environment is gone: a crash may have ended several at once.
      this.serveQueue();
      return;
    }
    const waiter = this.queue.shift();
    if (waiter !== undefined) {
      clearTimeout(waiter.timer);
      waiter.settle(this.take(env));
      return;
    }
    if (load !== 1) return;
    this.idle.push(env);
    const timer = setTimeout(() => env.end(), this.options.idleMs);
    timer.unref();
    this.idleTimers.set(env, timer);
  }

  /** An ended environment frees its slots: waiters get room elsewhere or a fresh environment. */
  private onEnvironmentExit(env: ExecutionEnvironment): void {
    this.all.delete(env);
    const idleIndex = this.idle.indexOf(env);
    if (idleIndex >= 0) this.idle.splice(idleIndex, 1);
    clearTimeout(this.idleTimers.get(env));
    this.idleTimers.delete(env);
    this.exitWaiters.get(env)?.();
    this.exitWaiters.delete(env);
    this.serveQueue();
  }

  /** Gives queued requests whatever room there is now. */
  private serveQueue(): void {
    while (!this.closed && this.queue.length > 0 && this.running < this.version.maxConcurrency) {
      const env = this.pick();
      if (env === undefined) return;
      const waiter = this.queue.shift()!;
      clearTimeout(waiter.timer);
      waiter.settle(this.take(env));
    }
  }
}
