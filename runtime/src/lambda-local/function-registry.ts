import { readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { resolve as resolvePath } from "node:path";
import { createHash } from "node:crypto";
import { LATEST_QUALIFIER, assertValidFunctionName } from "./function-name";
import {
  DEFAULT_MAX_QUEUED_PER_FUNCTION,
  DEFAULT_MAX_QUEUE_WAIT_MS,
  DEFAULT_MAX_WORKERS_PER_FUNCTION,
  DEFAULT_MEMORY_MB,
  DEFAULT_TIMEOUT_SECONDS,
  DEFAULT_WORKER_IDLE_MS,
  MAX_MEMORY_MB,
  MAX_NODEJS_WORKER_COUNT,
  MAX_PER_EXECUTION_ENVIRONMENT_CONCURRENCY,
  MAX_TIMEOUT_SECONDS,
  MIN_MEMORY_MB,
} from "./lambda-limits";
import { readPublishedVersions, writePublishedVersions } from "./published-versions-file";
import type { HandlerLogBuffer } from "./handler-log-buffer";
import { WorkerPool } from "./worker-pool";
import type { LogMessage } from "./worker-protocol";

/** A function's runtime settings, as `function.json` gives them (after defaults). */
export interface FunctionConfig {
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** Passed to the function as its own `process.env` (workers do not see the host's environment). */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * Set: the function runs as on Lambda Managed Instances, its execution environment taking up to
   * this many invocations at once (see docs/adr/0008). Unset: Lambda's default, one at a time.
   */
  readonly perExecutionEnvironmentMaxConcurrency?: number;
}

/** Settings for one publish; anything omitted takes the default. */
export interface PublishConfig extends Partial<FunctionConfig> {
  /** Execution environments for this version (like reserved concurrency). */
  readonly maxWorkers?: number;
  /** Requests allowed to wait for an environment before throttling. */
  readonly maxQueued?: number;
}

/** The code to publish: the output of `buildFunction`. */
export interface FunctionBundle {
  readonly bundlePath: string;
  readonly codeSha256: string;
}

/** One immutable published version. */
export interface FunctionVersion {
  readonly name: string;
  /** "1", "2", ... */
  readonly version: string;
  readonly bundlePath: string;
  readonly codeSha256: string;
  readonly codeSizeBytes: number;
  readonly config: FunctionConfig;
  /** Worker threads at most: environments (default), or one managed-instances environment's runtime workers. */
  readonly maxWorkers: number;
  /** Invocations one worker thread runs at once: 1 unless the function uses managed instances. */
  readonly perWorkerConcurrency: number;
  /** Invocations in flight at once across the version's workers; more wait in the queue. */
  readonly maxConcurrency: number;
  readonly maxQueued: number;
  readonly lastModifiedEpochMs: number;
}

export interface FunctionRegistryOptions {
  readonly defaultMaxWorkers?: number;
  readonly defaultMaxQueued?: number;
  readonly maxQueueWaitMs?: number;
  readonly workerIdleMs?: number;
  /**
   * Variables every function sees under its own `environment` (e.g. AWS_ENDPOINT_URL for local AWS).
   * The host's process.env is deliberately not inherited, as on Lambda.
   */
  readonly baseEnvironment?: Readonly<Record<string, string>>;
  /**
   * Where published versions are kept across restarts (published-versions-file.ts); read once here.
   * Absent: versions live as long as the registry.
   */
  readonly versionsFile?: string;
  /** Keeps what Capstan invocations print, for `capstan invocations logs`; absent: not kept. */
  readonly handlerLogs?: HandlerLogBuffer;
}

/**
 * Published function versions and their execution environments. Publishing never changes an existing
 * version: it appends "1", "2", ... and moves `$LATEST` to the newest, so a watcher can publish a
 * rebuilt function while in-flight invocations of the previous version finish on that version's own
 * workers. Idle workers of old versions are reclaimed after `workerIdleMs`. With `versionsFile`,
 * versions outlive the process, as published versions do on AWS.
 *
 * @example
 * const registry = new FunctionRegistry();
 * const v1 = await registry.publish("checkout", await buildFunction({ name: "checkout", entry, outDir }));
 * registry.resolve("checkout", "$LATEST")?.version; // "1"
 * await registry.close(); // terminates every worker
 */
export class FunctionRegistry {
  private readonly versionsByName = new Map<string, FunctionVersion[]>();
  private readonly pools = new Map<FunctionVersion, WorkerPool>();
  private closed = false;

  constructor(private readonly options: FunctionRegistryOptions = {}) {
    if (options.versionsFile === undefined) return;
    for (const v of readPublishedVersions(options.versionsFile)) {
      const versions = this.versionsByName.get(v.name) ?? [];
      if (v.version !== String(versions.length + 1))
        throw new Error(
          `${options.versionsFile}: ${v.name}:${v.version} follows ${versions.length} versions`,
        );
      this.versionsByName.set(v.name, [...versions, v]);
    }
  }

  /**
   * Publishes `bundle` as the next version of `name`. Like Lambda's PublishVersion, publishing code
   * and settings identical to the newest version returns that version instead of a new one. The
   * bundle file is hashed again here: a file changed since it was built is refused.
   */
  async publish(name: string, bundle: FunctionBundle, config: PublishConfig = {}): Promise<FunctionVersion> {
    assertValidFunctionName(name);
    const bundlePath = resolvePath(bundle.bundlePath);
    const code = await readFile(bundlePath);
    const codeSha256 = createHash("sha256").update(code).digest("base64");
    if (codeSha256 !== bundle.codeSha256) {
      throw new Error(
        `${bundlePath} changed since it was built (CodeSha256 ${codeSha256} != ${bundle.codeSha256})`,
      );
    }
    const resolved = this.resolveConfig(config);
    const versions = this.versionsByName.get(name) ?? [];
    const newest = versions.at(-1);
    if (newest !== undefined && newest.codeSha256 === codeSha256 && sameSettings(newest, resolved))
      return newest;
    const version: FunctionVersion = Object.freeze({
      name,
      version: String(versions.length + 1),
      bundlePath,
      codeSha256,
      codeSizeBytes: code.byteLength,
      config: Object.freeze({
        timeoutSeconds: resolved.timeoutSeconds,
        memoryMb: resolved.memoryMb,
        environment: resolved.environment,
        ...(resolved.perExecutionEnvironmentMaxConcurrency !== undefined && {
          perExecutionEnvironmentMaxConcurrency: resolved.perExecutionEnvironmentMaxConcurrency,
        }),
      }),
      maxWorkers: resolved.maxWorkers,
      perWorkerConcurrency: resolved.perWorkerConcurrency,
      maxConcurrency: resolved.maxConcurrency,
      maxQueued: resolved.maxQueued,
      lastModifiedEpochMs: Date.now(),
    });
    const next = new Map(this.versionsByName).set(name, [...versions, version]);
    if (this.options.versionsFile !== undefined)
      writePublishedVersions(this.options.versionsFile, [...next.values()].flat());
    this.versionsByName.set(name, next.get(name)!);
    return version;
  }

  /** The version a qualifier names: a number, `$LATEST`, or undefined (= `$LATEST`). */
  resolve(name: string, qualifier?: string): FunctionVersion | undefined {
    const versions = this.versionsByName.get(name);
    if (versions === undefined) return undefined;
    if (qualifier === undefined || qualifier === LATEST_QUALIFIER) return versions.at(-1);
    return /^[1-9][0-9]*$/.test(qualifier) ? versions[Number(qualifier) - 1] : undefined;
  }

  /** The newest version of every function, sorted by name. */
  latest(): FunctionVersion[] {
    return [...this.versionsByName.keys()]
      .sort()
      .map((name) => this.versionsByName.get(name)?.at(-1))
      .filter((v): v is FunctionVersion => v !== undefined);
  }

  /** Every published version of `name`, oldest first (empty when unknown). */
  versions(name: string): readonly FunctionVersion[] {
    return this.versionsByName.get(name) ?? [];
  }

  /** The execution environments of one version, started on first use. */
  poolFor(version: FunctionVersion): WorkerPool {
    if (this.closed) throw new Error("FunctionRegistry is closed");
    let pool = this.pools.get(version);
    if (pool === undefined) {
      pool = new WorkerPool(version, {
        maxQueueWaitMs: this.options.maxQueueWaitMs ?? DEFAULT_MAX_QUEUE_WAIT_MS,
        idleMs: this.options.workerIdleMs ?? DEFAULT_WORKER_IDLE_MS,
        baseEnvironment: this.options.baseEnvironment ?? {},
        ...(this.options.handlerLogs !== undefined && { onLog: logSink(this.options.handlerLogs) }),
      });
      this.pools.set(version, pool);
    }
    return pool;
  }

  /** Terminates every worker of every version; queued and running invocations end as shut down. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.pools.values()].map((pool) => pool.close()));
    this.pools.clear();
  }

  private resolveConfig(config: PublishConfig): ResolvedConfig {
    const timeoutSeconds = config.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
    const memoryMb = config.memoryMb ?? DEFAULT_MEMORY_MB;
    const maxQueued = config.maxQueued ?? this.options.defaultMaxQueued ?? DEFAULT_MAX_QUEUED_PER_FUNCTION;
    assertInteger("timeoutSeconds", timeoutSeconds, 1, MAX_TIMEOUT_SECONDS);
    assertInteger("memoryMb", memoryMb, MIN_MEMORY_MB, MAX_MEMORY_MB);
    assertInteger("maxQueued", maxQueued, 0, 100_000);
    const environment = Object.freeze({ ...(config.environment ?? {}) });
    const base = { timeoutSeconds, memoryMb, environment, maxQueued };
    const perEnvironment = config.perExecutionEnvironmentMaxConcurrency;
    if (perEnvironment === undefined) {
      const maxWorkers =
        config.maxWorkers ?? this.options.defaultMaxWorkers ?? DEFAULT_MAX_WORKERS_PER_FUNCTION;
      assertInteger("maxWorkers", maxWorkers, 1, 1000);
      return { ...base, maxWorkers, perWorkerConcurrency: 1, maxConcurrency: maxWorkers };
    }
    assertInteger(
      "perExecutionEnvironmentMaxConcurrency",
      perEnvironment,
      1,
      MAX_PER_EXECUTION_ENVIRONMENT_CONCURRENCY,
    );
    // As on AWS: one runtime worker thread per core unless AWS_LAMBDA_NODEJS_WORKER_COUNT says otherwise.
    const workerCount = environment.AWS_LAMBDA_NODEJS_WORKER_COUNT;
    const workers = workerCount === undefined ? availableParallelism() : Number(workerCount);
    assertInteger("AWS_LAMBDA_NODEJS_WORKER_COUNT", workers, 1, MAX_NODEJS_WORKER_COUNT);
    const maxWorkers = Math.min(workers, perEnvironment);
    return {
      ...base,
      perExecutionEnvironmentMaxConcurrency: perEnvironment,
      maxWorkers,
      perWorkerConcurrency: Math.ceil(perEnvironment / maxWorkers),
      maxConcurrency: perEnvironment,
    };
  }
}

type ResolvedConfig = FunctionConfig &
  Pick<FunctionVersion, "maxWorkers" | "perWorkerConcurrency" | "maxConcurrency" | "maxQueued">;

function sameSettings(v: FunctionVersion, c: ResolvedConfig): boolean {
  return (
    v.config.timeoutSeconds === c.timeoutSeconds &&
    v.config.memoryMb === c.memoryMb &&
    v.config.perExecutionEnvironmentMaxConcurrency === c.perExecutionEnvironmentMaxConcurrency &&
    v.maxWorkers === c.maxWorkers &&
    v.maxQueued === c.maxQueued &&
    JSON.stringify(v.config.environment) === JSON.stringify(c.environment)
  );
}

function assertInteger(key: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${key} must be an integer from ${min} to ${max}, got ${value}`);
  }
}

function logSink(buffer: HandlerLogBuffer): (message: LogMessage) => void {
  return ({ invocationId, attempt, stream, atMs, lines }) => {
    for (const text of lines) buffer.append(invocationId, { atMs, attempt, stream, text });
  };
}
