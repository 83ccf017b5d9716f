/**
 * The runtime of one node: P partition processors over one store, the timer service, the attempt
 * driver, cross-partition delivery, and the RuntimeApi the HTTP servers call.
 */
import type { Log } from "./log";
import { claimPartitionCount } from "./partition/partition-count";
import {
  CHECKPOINT_PATH,
  PROTOCOL_VERSION,
  isProtocolError,
  parseAwakeableId,
  parseInvocationId,
  partitionOfInvocationId,
  type CheckpointAck,
  type CheckpointRequest,
  type Completion,
  type EntryCompletion,
  type InvocationId,
  type Target,
  type JournalEntry,
} from "@capstan/sdk/protocol";
import type { Clock } from "./core/clock";
import type { Effect } from "./core/effects";
import { idempotencyTableKey } from "./core/keys";
import { formatNewInvocationId, partitionOfTarget } from "./core/partitioning";
import { objectKey, type Invocation, type PartitionState } from "./core/state";
import { resolveChildInvocation, resolveTarget, toNewInvocation } from "./invocation/target-resolution";
import { Waiters } from "./invocation/waiters";
import { randomHex, randomUint16 } from "./invocation/random-pool";
import { appendInternal } from "./partition/internal-append";
import { OutboxDelivery } from "./partition/outbox-delivery";
import { AttemptDriver } from "./invocation/attempt-driver";
import { randomBytes } from "node:crypto";
import { AttemptCredentials } from "./security/attempt-credentials";
import { authenticateAttempt, type VerifiedAttempt } from "./security/checkpoint-authentication";
import type { DeploymentEndpoint, Invoker } from "./invoker/invoker";
import { Metrics } from "./metrics/metrics";
import { PartitionProcessor, type RecordInput } from "./partition/partition-processor";
import { TimerService } from "./partition/timer-service";
import { DeploymentRegistry, toDeploymentInfo } from "./registry/deployment-registry";
import { ApiError } from "./server/api-error";
import type {
  DeploymentInfo,
  HealthInfo,
  InvocationAction,
  InvocationDetail,
  InvocationFilter,
  InvocationSummary,
  OutputState,
  QueryResult,
  RuntimeApi,
  ServiceInfo,
  StatePatch,
  SubmitRequest,
  SubmitResult,
} from "./server/runtime-api";
import { runQueryInProcess } from "./server/sql-query-process";
import { buildQueryViews } from "./invocation/query-views";
import { summarize } from "./invocation/summarize";
import type { LogStore } from "./storage/log-store";
import type { PartitionStore } from "./storage/partition-store";

export const RUNTIME_VERSION = "0.1.0";
/** Discovery of a new deployment must answer within this. */
export const DISCOVERY_TIMEOUT_MS = 30_000;

export interface RuntimeOptions {
  partitions: number;
  logStore: LogStore;
  partitionStore: PartitionStore;
  invoker: Invoker;
  clock: Clock;
  /** Base URL of the checkpoint endpoint as the SDK must reach it (set once the admin server listens). */
  checkpointBaseUrl?: string;
  /** False with a manual clock: timers fire when the owner advances time. */
  realTimers?: boolean;
  /** How long completed invocations without idempotency key or workflow id are kept. */
  completedRetentionMs?: number;
  /** Issues and checks attempt credentials; default: a random key held in memory (tests). */
  attemptCredentials?: AttemptCredentials;
  log?: Log;
}

export class Runtime implements RuntimeApi {
  readonly processors: PartitionProcessor[];
  readonly timers: TimerService;
  readonly registry: DeploymentRegistry;
  readonly metricsRegistry = new Metrics();
  readonly driver: AttemptDriver;
  private checkpointBaseUrl: string | undefined;
  private status: HealthInfo["status"] = "starting";
  /** Ingress callers waiting for a result. */
  private readonly resultWaiters = new Waiters<Completion>();
  /** Checkpoint long-polls waiting for a completion of a running invocation. */
  private readonly completionWaiters = new Waiters<void>();
  private readonly outbox: OutboxDelivery;
  private readonly log: Log;
  private readonly attemptCredentials: AttemptCredentials;

  private get completedRetentionMs(): number {
    return this.options.completedRetentionMs ?? 0;
  }

  constructor(private readonly options: RuntimeOptions) {
    this.log = options.log ?? (() => undefined);
    this.checkpointBaseUrl = options.checkpointBaseUrl;
    this.attemptCredentials = options.attemptCredentials ?? new AttemptCredentials(randomBytes(32));
    const sink = {
      onEffects: (p: number, effects: Effect[]) => this.onEffects(p, effects),
      onFenced: (p: number, reason: string) => this.log(`partition ${p} stopped: ${reason}`, "error"),
      onWarning: (p: number, message: string) => this.log(`partition ${p}: ${message}`, "warn"),
    };
    this.processors = Array.from(
      { length: options.partitions },
      (_, p) =>
        new PartitionProcessor(
          p,
          options.partitions,
          options.logStore,
          options.partitionStore,
          options.clock,
          sink,
        ),
    );
    this.timers = new TimerService(
      options.clock,
      (p, timerId) => void appendInternal(this.processors[p]!, { kind: "timer-fired", timerId }, this.log),
      options.realTimers ?? true,
    );
    this.registry = new DeploymentRegistry(options.partitionStore);
    this.outbox = new OutboxDelivery(
      this.processors,
      (request) => resolveChildInvocation(this.registry, request, this.completedRetentionMs),
      this.log,
    );
    this.driver = new AttemptDriver(
      this.processors,
      this.registry,
      options.invoker,
      options.clock,
      this.metricsRegistry,
      () => (this.checkpointBaseUrl ? this.checkpointBaseUrl + CHECKPOINT_PATH : undefined),
      this.log,
      this.attemptCredentials,
    );
  }

  /** Recovers every partition (snapshot + log replay) and restarts what was in flight. */
  async start(): Promise<void> {
    await claimPartitionCount(this.options.partitionStore, this.options.partitions);
    await this.registry.load();
    const epoch = this.options.clock.nowMs();
    // Every partition is loaded before any starts leading: a `recover` record's effects (re-sent
    // outbox messages) append to other partitions, which must not be replaying their log meanwhile.
    await Promise.all(this.processors.map((p) => p.load()));
    await Promise.all(this.processors.map((p) => p.lead(epoch)));
    this.status = "ok";
  }

  setCheckpointBaseUrl(url: string): void {
    this.checkpointBaseUrl = url;
  }

  async stop(): Promise<void> {
    this.status = "stopping";
    this.timers.stop();
    this.outbox.stop();
    this.driver.abortAll();
    await Promise.all(this.processors.map((p) => p.stop()));
  }

  // ---- effects ---------------------------------------------------------------------------------

  private onEffects(partition: number, effects: Effect[]): void {
    for (const e of effects) {
      switch (e.kind) {
        case "invoke":
          this.driver.start(partition, e.invocationId, e.attempt);
          break;
        case "abort-attempt":
          this.driver.abort(e.invocationId, e.attempt);
          break;
        case "schedule-timer":
          this.timers.schedule(partition, e.timer);
          break;
        case "cancel-timer":
          this.timers.cancel(partition, e.timerId);
          break;
        case "send":
          this.outbox.deliver(partition, e.toPartition, e.seq, e.message);
          break;
        case "invocation-finished":
          this.completionWaiters.wake(e.invocationId, undefined);
          this.resultWaiters.wake(e.invocationId, e.result);
          break;
        case "completion-available":
          this.completionWaiters.wake(e.invocationId, undefined);
          break;
        case "invocation-accepted":
        case "entries-accepted":
        case "entries-rejected":
        case "request-rejected":
        case "invocation-removed":
          break; // answered through the promise of the record that caused them
        default: {
          const never: never = e;
          throw new Error(`unhandled effect ${JSON.stringify(never)}`);
        }
      }
    }
  }

  // ---- ingress ---------------------------------------------------------------------------------

  async submit(request: SubmitRequest): Promise<SubmitResult> {
    this.assertRunning();
    const resolved = resolveTarget(this.registry, request.target);
    const partitions = this.options.partitions;
    const partition =
      partitionOfTarget(request.target, request.idempotencyKey, partitions) ?? randomUint16() % partitions;
    const invocation = toNewInvocation(
      resolved,
      {
        id: formatNewInvocationId(partition, randomHex(12)),
        target: request.target,
        input: request.input,
        headers: request.headers,
        ...(request.idempotencyKey !== undefined && { idempotencyKey: request.idempotencyKey }),
        ...(request.delayMs !== undefined &&
          request.delayMs > 0 && { notBeforeMs: this.options.clock.nowMs() + request.delayMs }),
      },
      this.completedRetentionMs,
    );
    const effects = await this.appendOrOverloaded(partition, { kind: "invoke", invocation });
    const accepted = effects.find((e) => e.kind === "invocation-accepted");
    if (!accepted) throw new Error("invoke record produced no invocation-accepted effect");
    return { invocationId: accepted.invocationId, existing: accepted.existing };
  }

  async awaitResult(invocationId: string, signal: AbortSignal): Promise<Completion> {
    const { inv } = this.lookup(invocationId);
    if (inv.status === "completed" && inv.result) return inv.result;
    if (signal.aborted) throw new ApiError(499, "INGRESS_CLIENT_CLOSED", "client went away");
    return new Promise<Completion>((resolve, reject) => {
      const remove = this.resultWaiters.add(invocationId, (c) => {
        signal.removeEventListener("abort", onAbort);
        resolve(c);
      });
      const onAbort = (): void => {
        remove();
        reject(new ApiError(499, "INGRESS_CLIENT_CLOSED", "client went away"));
      };
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  async output(invocationId: string): Promise<OutputState> {
    const { inv } = this.lookup(invocationId);
    return inv.status === "completed" && inv.result ? { ready: true, result: inv.result } : { ready: false };
  }

  async workflowInvocation(service: string, workflowId: string): Promise<string | undefined> {
    const p = partitionOfTarget(
      { service, handler: "", key: workflowId },
      undefined,
      this.options.partitions,
    )!;
    return this.processors[p]!.state.workflows.get(objectKey(service, workflowId));
  }

  async idempotentInvocation(target: Target, idempotencyKey: string): Promise<string | undefined> {
    const p = partitionOfTarget(target, idempotencyKey, this.options.partitions)!;
    return this.processors[p]!.state.idempotency.get(idempotencyTableKey(target, idempotencyKey));
  }

  async completeAwakeable(awakeableId: string, completion: Completion): Promise<void> {
    let parsed: { invocationId: InvocationId; entryIndex: number };
    try {
      parsed = parseAwakeableId(awakeableId);
    } catch {
      throw new ApiError(400, "INGRESS_INVALID_AWAKEABLE_ID", `not an awakeable id: ${awakeableId}`);
    }
    const p = partitionOfInvocationId(parsed.invocationId);
    const inv = this.processors[p]?.state.invocations.get(parsed.invocationId);
    const entry = inv?.journal[parsed.entryIndex];
    if (!inv || !entry || entry.kind !== "awakeable") {
      throw new ApiError(
        404,
        "INGRESS_AWAKEABLE_NOT_FOUND",
        `awakeable ${awakeableId} does not exist (anymore)`,
      );
    }
    await this.appendOrOverloaded(p, {
      kind: "complete-entry",
      invocationId: parsed.invocationId,
      entryIndex: parsed.entryIndex,
      result: completion,
      awakeableOnly: true,
    });
  }

  // ---- checkpoint channel ------------------------------------------------------------------------

  authenticateCheckpoint(invocationId: unknown, attemptToken: unknown): VerifiedAttempt {
    return authenticateAttempt(
      this.attemptCredentials,
      (p) => this.processors[p]?.epoch,
      invocationId,
      attemptToken,
      this.options.clock.nowMs(),
    );
  }

  async checkpoint(
    request: CheckpointRequest,
    verified: VerifiedAttempt,
    signal?: AbortSignal,
  ): Promise<CheckpointAck> {
    // The credential binds the checkpoint to one invocation: it reads and writes that journal only.
    if (verified.invocationId !== request.invocationId)
      throw new ApiError(401, "CHECKPOINT_UNAUTHORIZED", "the credential names another invocation");
    const p = verified.partition;
    const attempt = verified.attempt;
    // A superseded credential is refused before it costs a log record; apply still decides for
    // the ones that pass (the attempt may be superseded while the record waits for its batch).
    const current = this.processors[p]!.state.invocations.get(verified.invocationId as InvocationId);
    if (current === undefined) throw new ApiError(404, "INVOKE_NOT_FOUND", "the invocation no longer exists");
    if (current.status !== "running" || current.attempt !== attempt)
      throw new ApiError(409, "INVOKE_STALE_ATTEMPT", `attempt ${attempt} is not the running attempt`);
    const effects = await this.appendOrOverloaded(p, {
      kind: "entries",
      invocationId: request.invocationId as InvocationId,
      attempt,
      entries: request.entries,
    });
    const rejected = effects.find((e) => e.kind === "entries-rejected");
    if (rejected) {
      const status =
        rejected.code === "INVOKE_STALE_ATTEMPT" ? 409 : rejected.code === "INVOKE_NOT_FOUND" ? 404 : 400;
      throw new ApiError(status, rejected.code, rejected.message);
    }
    let completions = this.completionsOf(p, request.invocationId, request.pending);
    if (completions.length === 0 && request.pending.length > 0 && (request.waitMs ?? 0) > 0) {
      await this.waitForCompletion(request.invocationId, attempt, p, request.waitMs!, signal);
      completions = this.completionsOf(p, request.invocationId, request.pending);
    }
    const inv = this.processors[p]!.state.invocations.get(request.invocationId as InvocationId);
    const recordedOrders = this.recordedOrdersOf(inv, request.entries);
    return {
      type: "checkpoint-ack",
      protocolVersion: PROTOCOL_VERSION,
      journalLength: inv?.journal.length ?? 0,
      completions,
      ...(recordedOrders.length > 0 && { recordedOrders }),
    };
  }

  /** The completions among `pending`, in the order the results were recorded (`completionOrder`). */
  private completionsOf(p: number, invocationId: string, pending: number[]): EntryCompletion[] {
    const inv = this.processors[p]!.state.invocations.get(invocationId as InvocationId);
    if (!inv) return [];
    const out: EntryCompletion[] = [];
    for (const index of new Set(pending)) {
      const entry = inv.journal[index];
      if (!entry || !("result" in entry) || entry.result === undefined || entry.kind === "output") continue;
      const c: EntryCompletion = { index, result: entry.result };
      if (entry.kind === "sleep" && entry.wakeUpAtMs !== undefined) c.wakeUpAtMs = entry.wakeUpAtMs;
      if (entry.kind === "call" && entry.invocationId !== undefined) c.invocationId = entry.invocationId;
      if (entry.completionOrder !== undefined) c.completionOrder = entry.completionOrder;
      out.push(c);
    }
    const rank = (c: EntryCompletion): number => c.completionOrder ?? Number.MAX_SAFE_INTEGER;
    return out.sort((a, b) => rank(a) - rank(b) || a.index - b.index);
  }

  /** The `completionOrder` stamped on the entries of a checkpoint that carried their result (run, getState). */
  private recordedOrdersOf(
    inv: Invocation | undefined,
    entries: readonly JournalEntry[],
  ): Array<{ index: number; completionOrder: number }> {
    const out: Array<{ index: number; completionOrder: number }> = [];
    if (!inv) return out;
    for (const sent of entries) {
      if (!("result" in sent) || sent.result === undefined || sent.kind === "output") continue;
      const entry = inv.journal[sent.index];
      if (
        entry &&
        entry.kind !== "output" &&
        "completionOrder" in entry &&
        entry.completionOrder !== undefined
      )
        out.push({ index: sent.index, completionOrder: entry.completionOrder });
    }
    return out;
  }

  /** Resolves when a completion arrives, `waitMs` passes, or the SDK goes away — whichever is first. */
  private waitForCompletion(
    invocationId: string,
    attempt: number,
    p: number,
    waitMs: number,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const inv = this.processors[p]!.state.invocations.get(invocationId as InvocationId);
    if (!inv || inv.status !== "running" || inv.attempt !== attempt || signal?.aborted)
      return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        remove();
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const remove = this.completionWaiters.add(invocationId, done);
      const timer = setTimeout(done, waitMs);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  // ---- admin -----------------------------------------------------------------------------------

  async registerDeployment(
    endpoint: DeploymentEndpoint,
    options: { force: boolean },
  ): Promise<DeploymentInfo> {
    const signal = AbortSignal.timeout(DISCOVERY_TIMEOUT_MS);
    let discovery;
    try {
      discovery = await this.options.invoker.discover(
        endpoint,
        { type: "discover", protocolVersion: PROTOCOL_VERSION },
        signal,
      );
    } catch (e) {
      const reason = isProtocolError(e) ? `${e.code}: ${e.message}` : String((e as Error)?.message ?? e);
      throw new ApiError(
        400,
        "ADMIN_DISCOVERY_FAILED",
        `discovery of ${describeEndpoint(endpoint)} failed: ${reason}`,
        { cause: e },
      );
    }
    const d = await this.registry.register(endpoint, discovery, this.options.clock.nowMs(), options.force);
    return toDeploymentInfo(d);
  }

  async listDeployments(): Promise<DeploymentInfo[]> {
    return this.registry.list().map(toDeploymentInfo);
  }

  async removeDeployment(id: string): Promise<void> {
    await this.registry.remove(id);
  }

  async listServices(): Promise<ServiceInfo[]> {
    return this.registry.listServices();
  }

  async listInvocations(filter: InvocationFilter): Promise<InvocationSummary[]> {
    const out: InvocationSummary[] = [];
    for (const proc of this.processors) {
      for (const inv of proc.state.invocations.values()) {
        if (filter.service !== undefined && inv.target.service !== filter.service) continue;
        if (filter.status !== undefined && inv.status !== filter.status) continue;
        if (filter.key !== undefined && inv.target.key !== filter.key) continue;
        out.push(summarize(inv, proc.state));
      }
    }
    out.sort((a, b) => b.createdAtMs - a.createdAtMs);
    return out.slice(0, filter.limit);
  }

  async describeInvocation(invocationId: string): Promise<InvocationDetail | undefined> {
    let found;
    try {
      found = this.lookup(invocationId);
    } catch {
      return undefined;
    }
    const inv = found.inv;
    return {
      ...summarize(inv, this.processors[found.p]!.state),
      journal: inv.journal,
      entryTimes: inv.entryTimes,
      ...(inv.result !== undefined && { result: inv.result }),
      awaiting: inv.awaiting,
      headers: inv.headers,
    };
  }

  async invocationAction(invocationId: string, action: InvocationAction): Promise<void> {
    const { p } = this.lookup(invocationId);
    const effects = await this.appendOrOverloaded(p, {
      kind: action,
      invocationId: invocationId as InvocationId,
    });
    const rejected = effects.find((e) => e.kind === "request-rejected");
    if (rejected)
      throw new ApiError(rejected.code.endsWith("NOT_FOUND") ? 404 : 409, rejected.code, rejected.message);
  }

  async getState(service: string, key: string): Promise<Record<string, string>> {
    this.assertKeyedService(service);
    const p = partitionOfTarget({ service, handler: "", key }, undefined, this.options.partitions)!;
    return Object.fromEntries(this.processors[p]!.state.objectState.get(objectKey(service, key)) ?? []);
  }

  async patchState(service: string, key: string, patch: StatePatch): Promise<void> {
    this.assertKeyedService(service);
    const p = partitionOfTarget({ service, handler: "", key }, undefined, this.options.partitions)!;
    await this.appendOrOverloaded(p, { kind: "patch-state", service, key, ...patch });
  }

  async query(sql: string): Promise<QueryResult> {
    return runQueryInProcess(sql, buildQueryViews(this.processors.map((p) => p.state)));
  }

  health(): HealthInfo {
    const fenced = this.processors.filter((p) => p.fencedReason !== undefined);
    if (fenced.length > 0 && this.status === "ok") {
      return {
        status: "failed",
        partitions: this.options.partitions,
        version: RUNTIME_VERSION,
        reason: `partitions ${fenced.map((p) => p.partition).join(", ")} stopped: ${fenced[0]!.fencedReason!}`,
      };
    }
    return { status: this.status, partitions: this.options.partitions, version: RUNTIME_VERSION };
  }

  metrics(): string {
    const byStatus = new Map<string, number>();
    for (const proc of this.processors) {
      for (const inv of proc.state.invocations.values())
        byStatus.set(inv.status, (byStatus.get(inv.status) ?? 0) + 1);
    }
    const commit = { batches: 0, records: 0, totalCommitMs: 0 };
    for (const proc of this.processors) {
      commit.batches += proc.commitStats.batches;
      commit.records += proc.commitStats.records;
      commit.totalCommitMs += proc.commitStats.totalCommitMs;
    }
    return this.metricsRegistry.render({
      invocationsByStatus: byStatus,
      commit,
      queueDepths: this.processors.map((p) => p.pendingRecords),
      inFlightAttempts: this.driver.inFlightCount,
      timers: this.timers.size,
    });
  }

  // ---- helpers ---------------------------------------------------------------------------------

  /** All partition states, for tests and the testing kit. */
  states(): PartitionState[] {
    return this.processors.map((p) => p.state);
  }

  private assertRunning(): void {
    if (this.status !== "ok") throw new ApiError(503, "RUNTIME_UNAVAILABLE", `runtime is ${this.status}`);
  }

  private assertKeyedService(service: string): void {
    const s = this.registry.listServices().find((x) => x.name === service);
    if (!s) throw new ApiError(404, "ADMIN_SERVICE_NOT_FOUND", `service ${service} is not registered`);
    if (s.kind === "service")
      throw new ApiError(400, "ADMIN_SERVICE_HAS_NO_STATE", `service ${service} is stateless`);
  }

  private locate(invocationId: string): { p: number; id: InvocationId } {
    let id: InvocationId;
    try {
      id = parseInvocationId(invocationId);
    } catch {
      throw new ApiError(400, "INVOCATION_INVALID_ID", `not an invocation id: ${invocationId}`);
    }
    const p = partitionOfInvocationId(id);
    if (p >= this.options.partitions)
      throw new ApiError(404, "INVOCATION_NOT_FOUND", `invocation ${invocationId} not found`);
    return { p, id };
  }

  private lookup(invocationId: string): { p: number; inv: Invocation } {
    const { p, id } = this.locate(invocationId);
    const inv = this.processors[p]!.state.invocations.get(id);
    if (!inv) throw new ApiError(404, "INVOCATION_NOT_FOUND", `invocation ${invocationId} not found`);
    return { p, inv };
  }

  private async appendOrOverloaded(p: number, record: RecordInput): Promise<Effect[]> {
    this.assertRunning();
    try {
      return await this.processors[p]!.append(record);
    } catch (e) {
      const code = (e as { code?: string })?.code;
      if (code === "RUNTIME_OVERLOADED" || code === "STORE_OVERLOADED") {
        throw new ApiError(503, "RUNTIME_OVERLOADED", (e as Error).message, { cause: e });
      }
      if (code?.startsWith("STORE_")) {
        // Nothing was recorded: the store refused (another leader, a failed writer). Retry elsewhere/later.
        throw new ApiError(503, "RUNTIME_UNAVAILABLE", `${code}: ${(e as Error).message}`, { cause: e });
      }
      throw e;
    }
  }
}

function describeEndpoint(e: DeploymentEndpoint): string {
  return e.kind === "lambda" ? `Lambda ${e.arn}` : e.url;
}
