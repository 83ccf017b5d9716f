/**
 * The runtime of one node, wired: the partition router over the node's stores, the timer service, the
 * attempt driver, cross-partition delivery, effect dispatch, and the RuntimeApi the HTTP servers call
 * (ingress, checkpoint channel and admin, each in api/). Everything outside a partition reaches it
 * through the router.
 *
 * One node (the default) claims and leads every partition at start. A node of a cluster (`cluster`
 * set: CAPSTAN_STORE=dynamodb) joins the membership instead and leads the partitions its leases give
 * it (cluster/cluster-member.ts); it answers only for those — ForwardingRuntimeApi sends the rest on.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { restartRequest } from "./invocation/restart-as-new";
import type { PartitionsElsewhere } from "./invocation/query-views";
import type { LedSqlRowsPage, SqlPageRequest } from "./cluster/sql-rows-page";
import { ReadinessGates, type ReadinessInfo } from "./readiness";
import type { Log } from "./log";
import { claimPartitionCount } from "./partition/partition-count";
import {
  CHECKPOINT_PATH,
  type CheckpointAck,
  type CheckpointRequest,
  type Completion,
  type Target,
} from "@capstan/sdk/protocol";
import type { Clock } from "./core/clock";
import type { InvocationId } from "@capstan/sdk/protocol";
import { AdminApi } from "./api/admin-api";
import { CheckpointChannel } from "./api/checkpoint-channel";
import { IngressApi } from "./api/ingress-api";
import { PartitionAccess } from "./api/partition-access";
import { dispatchEffects } from "./effect-dispatcher";
import { resolveChildInvocation } from "./invocation/target-resolution";
import { Waiters } from "./invocation/waiters";
import { appendInternal } from "./partition/internal-append";
import { OutboxDelivery } from "./partition/outbox-delivery";
import { AttemptDriver } from "./invocation/attempt-driver";
import type { DeploymentEndpoint, Invoker } from "./invoker/invoker";
import { Metrics } from "./metrics/metrics";
import { Telemetry } from "./telemetry/telemetry";
import { noopTracing } from "./telemetry/tracing";
import { LocalPartitionRouter } from "./partition/local-partition-router";
import { TimerService } from "./partition/timer-service";
import { PARTITION_UNAVAILABLE_RETRY_AFTER_MS } from "./partition/partition-errors";
import { ClusterMember } from "./cluster/cluster-member";
import type { ChangeNotice } from "./cluster/lease-coordinator";
import { ClusterDeliveryRouter, type RemoteAppend } from "./cluster/cluster-delivery-router";
import type { MembershipStore, NodeInfo } from "./cluster/membership-store";
import { RuntimeError } from "./runtime-error";
import type { RecordInput } from "./partition/partition-processor";
import type { PeerTarget } from "./server/peer-server";
import { AttemptCredentials } from "./security/attempt-credentials";
import type { VerifiedAttempt } from "./security/checkpoint-authentication";
import { DeploymentRegistry } from "./registry/deployment-registry";
import type {
  ClusterInfo,
  ClusterPartitionInfo,
  DeploymentInfo,
  HealthInfo,
  InvocationAction,
  InvocationDetail,
  InvocationLogs,
  InvocationLogsQuery,
  InvocationFilter,
  InvocationSummary,
  LedInvocationPage,
  OutputState,
  ServiceInfo,
  StatePatch,
  ResumeOptions,
  ResumeResult,
  SubmitRequest,
  SubmitResult,
  CallResult,
} from "./server/runtime-api";
import { submitThenAwait } from "./server/runtime-api";
import type { LogStore } from "./storage/log-store";
import type { PartitionStore } from "./storage/partition-store";
import { JsonSnapshotStateStores } from "./storage/json-snapshot-state-stores";
import type { PartitionStateStores } from "./storage/partition-state-store";

export const RUNTIME_VERSION = "0.1.0";
export { DISCOVERY_TIMEOUT_MS } from "./api/admin-api";

export interface RuntimeOptions {
  partitions: number;
  logStore: LogStore;
  partitionStore: PartitionStore;
  /** Where partition state lives; default: in memory, snapshotted as JSON into `partitionStore`. */
  stateStores?: PartitionStateStores;
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
  /** Ignored when `telemetry` is given (it has its own log). */
  log?: Log;
  /** Spans, logs and counters; default: tracing off, `log`, fresh counters. */
  telemetry?: Telemetry;
  /** Timers read per page into the timer service's window (default TIMER_PAGE_SIZE; tests go small). */
  timerPageSize?: number;
  /** This node's name as the owner of the partitions it claims; default: a random one per start. */
  nodeId?: string;
  /** Cluster mode: lead only the partitions the leases give this node (default: one node, all). */
  cluster?: RuntimeClusterOptions;
}

export interface RuntimeClusterOptions {
  /** This node as the others see it (its id must be `nodeId`'s, when that is given). */
  node: NodeInfo;
  membership: MembershipStore;
  leaseDurationMs: number;
  /**
   * Where records for partitions led by other nodes go (outbox deliveries): appends them on the
   * partition's leader (peer-client.ts). Absent: such deliveries wait until this node leads them.
   */
  remoteAppend?: RemoteAppend;
  /**
   * Tells the other live nodes (their peer addresses) that this node changed the cluster, so they
   * tick now (peer-client.ts `changed`). Absent: they notice at their next lease tick.
   */
  announce?: (addresses: string[], notice: ChangeNotice) => Promise<void>;
}

export class Runtime implements PeerTarget {
  readonly router: LocalPartitionRouter;
  /** Cluster mode only: the membership and leases. */
  readonly cluster: ClusterMember | undefined;
  readonly timers: TimerService;
  readonly registry: DeploymentRegistry;
  readonly telemetry: Telemetry;
  readonly driver: AttemptDriver;
  private checkpointBaseUrl: string | undefined;
  private status: HealthInfo["status"] = "starting";
  private readonly outbox: OutboxDelivery;
  private readonly ingress: IngressApi;
  private readonly checkpoints: CheckpointChannel;
  private readonly admin: AdminApi;
  private readonly log: Log;
  /** Reasons outside the runtime not to be ready (capstan dev: functions still registering). */
  readonly readinessGates = new ReadinessGates();

  constructor(private readonly options: RuntimeOptions) {
    this.telemetry =
      options.telemetry ??
      new Telemetry(noopTracing, options.log ?? (() => undefined), new Metrics(), () =>
        options.clock.nowMs(),
      );
    this.log = this.telemetry.log;
    this.checkpointBaseUrl = options.checkpointBaseUrl;
    const completedRetentionMs = options.completedRetentionMs ?? 0;
    const attemptCredentials = options.attemptCredentials ?? new AttemptCredentials(randomBytes(32));
    const resultWaiters = new Waiters<Completion>();
    const completionWaiters = new Waiters<void>();
    const nodeId = options.cluster?.node.nodeId ?? options.nodeId ?? `node-${randomUUID()}`;
    this.nodeId = nodeId;
    this.router = new LocalPartitionRouter(
      options.partitions,
      options.logStore,
      options.stateStores ?? new JsonSnapshotStateStores(options.partitionStore),
      options.clock,
      {
        onEffects: (p, effects) =>
          dispatchEffects(
            {
              driver: this.driver,
              timers: this.timers,
              outbox: this.outbox,
              resultWaiters,
              completionWaiters,
              reports: {
                started: (id) => void this.reportStarted(p, id),
                finished: (id, result) => void this.reportFinished(p, id, result),
              },
            },
            p,
            effects,
          ),
        onFenced: (p, reason) => this.partitionStopped(p, reason),
        onWarning: (p, message) => this.log(`partition ${p}: ${message}`, "warn"),
        onCommit: (ms) => this.telemetry.metrics.observeCommit(ms),
      },
      options.cluster === undefined ? "all" : "acquired",
    );
    this.timers = new TimerService(
      options.clock,
      (p, timerId) => void appendInternal(this.router, p, { kind: "timer-fired", timerId }, this.log),
      options.realTimers ?? true,
      {
        source: (p, after, limit) => this.router.view(p).timersPage(after, limit),
        ...(options.timerPageSize !== undefined && { pageSize: options.timerPageSize }),
      },
    );
    this.registry = new DeploymentRegistry(options.partitionStore);
    this.outbox = new OutboxDelivery(
      options.cluster?.remoteAppend === undefined
        ? this.router
        : new ClusterDeliveryRouter(this.router, options.cluster.remoteAppend),
      (request) => resolveChildInvocation(this.registry, request, completedRetentionMs),
      this.log,
    );
    this.driver = new AttemptDriver(
      this.router,
      this.registry,
      options.invoker,
      options.clock,
      this.telemetry,
      () => (this.checkpointBaseUrl ? this.checkpointBaseUrl + CHECKPOINT_PATH : undefined),
      attemptCredentials,
    );
    if (options.cluster !== undefined) {
      this.cluster = new ClusterMember({
        node: options.cluster.node,
        partitions: options.partitions,
        leaseDurationMs: options.cluster.leaseDurationMs,
        membership: options.cluster.membership,
        fences: options.logStore,
        log: this.log,
        ...(options.cluster.announce !== undefined && { announce: options.cluster.announce }),
        leader: {
          // One line per move, with its duration: where a failover's time goes (bench/README.md).
          onAcquired: async (p, epoch) => {
            const startedAt = performance.now();
            await this.router.acquire(p, epoch);
            this.log(`partition ${p}: leading at epoch ${epoch} (loaded in ${sinceMs(startedAt)} ms)`);
          },
          onReleasing: async (p) => {
            const startedAt = performance.now();
            this.timers.dropPartition(p);
            await this.router.release(p);
            this.forgetPartition(p);
            this.log(`partition ${p}: handed over (persisted in ${sinceMs(startedAt)} ms)`);
          },
          onLost: async (p) => {
            this.log(`partition ${p} was taken over by another node while this one was away`, "warn");
            this.timers.dropPartition(p);
            await this.router.drop(p);
            this.forgetPartition(p);
          },
        },
      });
    }
    const access = new PartitionAccess(this.router, () => this.status);
    this.ingress = new IngressApi(
      access,
      this.registry,
      options.clock,
      resultWaiters,
      completedRetentionMs,
      this.telemetry,
      options.cluster === undefined ? undefined : () => this.anyLedPartition(),
      this.partitionMoves,
    );
    this.checkpoints = new CheckpointChannel(
      access,
      completionWaiters,
      attemptCredentials,
      options.clock,
      (id, attempt, entries) => this.driver.checkpointed(id, attempt, entries),
    );
    this.admin = new AdminApi(
      access,
      this.registry,
      options.invoker,
      options.clock,
      this.telemetry,
      {
        commit: () => this.router.commitStats(),
        queueDepths: () => this.router.queueDepths(),
        inFlightAttempts: () => this.driver.inFlightCount,
        timersInMemory: () => this.timers.size,
      },
      RUNTIME_VERSION,
    );
  }

  /** A new invocation was recorded: its `invocation-start` span (read after the fact, off the commit path). */
  private async reportStarted(partition: number, id: InvocationId): Promise<void> {
    const inv = await this.router.view(partition).invocation(id);
    if (inv !== undefined) this.telemetry.invocationStarted(inv);
  }

  /** An invocation removed in the same batch (retention 0) has no end span or latency. */
  private async reportFinished(partition: number, id: InvocationId, result: Completion): Promise<void> {
    const inv = await this.router.view(partition).invocation(id);
    if (inv !== undefined) this.telemetry.invocationEnded(inv, result);
  }

  /** This node's name: the owner of the partitions it claims. */
  readonly nodeId: string;
  /** Waits for results in a partition, ended when it moves to another node (cluster mode). */
  private readonly partitionMoves = new Waiters<void>();

  /**
   * One node: recovers every partition (snapshot + log replay) and restarts what was in flight. A node
   * of a cluster joins instead: its first lease tick takes over the partitions due to it (each
   * recovered the same way), later ticks follow the membership.
   */
  async start(): Promise<void> {
    await claimPartitionCount(this.options.partitionStore, this.options.partitions);
    await this.registry.load();
    if (this.cluster !== undefined) {
      await this.cluster.join();
      this.status = "ok";
      return;
    }
    // Claimed before loading: from here on a runtime that led these partitions before cannot append,
    // so the log read next is the whole log. Each claim's epoch is its partition's `recover` epoch.
    const epochs = await Promise.all(
      Array.from({ length: this.options.partitions }, (_, p) => this.options.logStore.claim(p, this.nodeId)),
    );
    await this.router.start(epochs);
    this.status = "ok";
  }

  /**
   * Graceful stop of a node of a cluster (SIGTERM): stops taking requests, hands every partition over
   * (finish the batch in flight, snapshot, release the claim, so the successor needs no lease to
   * expire), leaves the membership, then stops. One node: the same as `stop`.
   */
  async leave(): Promise<void> {
    this.status = "stopping";
    const startedAt = performance.now();
    try {
      await this.cluster?.leave();
      if (this.cluster !== undefined) this.log(`left the cluster in ${sinceMs(startedAt)} ms`);
    } finally {
      await this.stop();
    }
  }

  /** A processor stopped leading on its own (fenced by another writer, a failed store or apply). */
  private partitionStopped(p: number, reason: string): void {
    if (this.cluster === undefined) {
      this.log(`partition ${p} stopped: ${reason}`, "error");
      return;
    }
    // In a cluster another node leads it now (or will, once the claim is given up): follow.
    this.log(`partition ${p} stopped leading here: ${reason}`, "warn");
    const cluster = this.cluster;
    this.timers.dropPartition(p);
    void this.router
      .drop(p)
      .then(() => {
        // Led here again by now (the drop waited for the batch in flight; a tick may have taken the
        // partition back meanwhile): what runs belongs to that leadership and must not be forgotten.
        if (this.router.health(p).state === "leading") return undefined;
        this.forgetPartition(p);
        return cluster.lost(p);
      })
      .catch((e: unknown) => this.log(`partition ${p}: giving up its claim failed: ${String(e)}`, "warn"));
  }

  /** What a partition that moved away leaves on this node: its successor's `recover` re-creates it. */
  private forgetPartition(p: number): void {
    this.partitionMoves.wake(String(p), undefined);
    this.timers.dropPartition(p);
    this.outbox.dropPartition(p);
    this.driver.abortPartition(p);
  }

  /** A keyless submit's partition in a cluster: any this node leads. */
  private anyLedPartition(): number {
    const led = this.router.leading();
    if (led.length === 0)
      throw new RuntimeError("RUNTIME_PARTITION_UNAVAILABLE", "this node leads no partition yet", {
        retryAfterMs: PARTITION_UNAVAILABLE_RETRY_AFTER_MS,
      });
    return led[Math.floor(Math.random() * led.length)]!;
  }

  setCheckpointBaseUrl(url: string): void {
    this.checkpointBaseUrl = url;
  }

  /** Stops at once: in a cluster, without handing over (to the others it looks dead after the lease). */
  async stop(): Promise<void> {
    this.status = "stopping";
    this.cluster?.stop();
    this.timers.stop();
    this.outbox.stop();
    this.driver.abortAll();
    await this.router.stop();
  }

  // ---- RuntimeApi: each call goes to the API part that serves it --------------------------------

  call(
    request: SubmitRequest,
    signal: AbortSignal,
    onAccepted?: (invocationId: string) => void,
  ): Promise<CallResult> {
    return submitThenAwait(this, request, signal, onAccepted);
  }
  submit(request: SubmitRequest): Promise<SubmitResult> {
    return this.ingress.submit(request);
  }
  awaitResult(invocationId: string, signal: AbortSignal): Promise<Completion> {
    return this.ingress.awaitResult(invocationId, signal);
  }
  output(invocationId: string): Promise<OutputState> {
    return this.ingress.output(invocationId);
  }
  workflowInvocation(service: string, workflowId: string): Promise<string | undefined> {
    return this.ingress.workflowInvocation(service, workflowId);
  }
  idempotentInvocation(target: Target, idempotencyKey: string): Promise<string | undefined> {
    return this.ingress.idempotentInvocation(target, idempotencyKey);
  }
  completeAwakeable(awakeableId: string, completion: Completion): Promise<void> {
    return this.ingress.completeAwakeable(awakeableId, completion);
  }
  authenticateCheckpoint(invocationId: unknown, attemptToken: unknown): VerifiedAttempt {
    return this.checkpoints.authenticate(invocationId, attemptToken);
  }
  checkpoint(
    request: CheckpointRequest,
    verified: VerifiedAttempt,
    signal?: AbortSignal,
  ): Promise<CheckpointAck> {
    return this.checkpoints.checkpoint(request, verified, signal);
  }
  registerDeployment(endpoint: DeploymentEndpoint, options: { force: boolean }): Promise<DeploymentInfo> {
    return this.admin.registerDeployment(endpoint, options);
  }
  listDeployments(): Promise<DeploymentInfo[]> {
    return this.admin.listDeployments();
  }
  removeDeployment(id: string): Promise<void> {
    return this.admin.removeDeployment(id);
  }
  listServices(): Promise<ServiceInfo[]> {
    return this.admin.listServices();
  }
  listInvocations(filter: InvocationFilter): Promise<InvocationSummary[]> {
    return this.admin.listInvocations(filter);
  }
  /** This node's part of a cluster-wide list, with the partitions it covers. */
  listLedInvocations(filter: InvocationFilter): Promise<LedInvocationPage> {
    return this.admin.listLedInvocations(filter);
  }
  describeInvocation(invocationId: string): Promise<InvocationDetail | undefined> {
    return this.admin.describeInvocation(invocationId);
  }
  invocationLogs(invocationId: string, query: InvocationLogsQuery): Promise<InvocationLogs> {
    return this.admin.invocationLogs(invocationId, query);
  }
  invocationAction(invocationId: string, action: InvocationAction): Promise<void> {
    return this.admin.invocationAction(invocationId, action);
  }
  getState(service: string, key: string): Promise<Record<string, string>> {
    return this.admin.getState(service, key);
  }
  patchState(service: string, key: string, patch: StatePatch): Promise<void> {
    return this.admin.patchState(service, key, patch);
  }
  resumeInvocation(invocationId: string, options: ResumeOptions = {}): Promise<ResumeResult> {
    return this.admin.resumeInvocation(invocationId, options);
  }
  async restartAsNew(invocationId: string): Promise<SubmitResult> {
    return this.submit(await this.restartRequest(invocationId));
  }
  /** What restart-as-new submits for a completed invocation of a partition this node leads. */
  async restartRequest(invocationId: string): Promise<SubmitRequest> {
    return restartRequest(await this.admin.invocation(invocationId));
  }
  /** Another node changed the cluster (peer listener): this node's lease tick runs now. */
  clusterChanged(notice: ChangeNotice): void {
    this.cluster?.tickSoon(notice);
  }
  /** An outbox record from another node for a partition this node leads (peer listener). */
  async appendDelivery(partition: number, record: RecordInput): Promise<void> {
    if (!Number.isInteger(partition) || partition < 0 || partition >= this.options.partitions)
      throw new RuntimeError("RUNTIME_PARTITION_UNAVAILABLE", `there is no partition ${partition}`);
    await this.router.append(partition, record, "internal").catch((e: unknown) => {
      const code = (e as { code?: string }).code;
      throw new RuntimeError(
        "RUNTIME_PARTITION_UNAVAILABLE",
        `partition ${partition}: ${code ?? ""} ${(e as Error).message}`,
        { cause: e, retryAfterMs: PARTITION_UNAVAILABLE_RETRY_AFTER_MS },
      );
    });
  }
  /**
   * SQL over every partition: those this node leads read here, `elsewhere`'s rows (partitions other
   * nodes lead, in a cluster: cluster/remote-sql-rows.ts) streamed in. Any partition neither covers
   * is refused (503), never silently left out.
   */
  query(sql: string, elsewhere?: PartitionsElsewhere): Promise<string> {
    return this.admin.query(sql, elsewhere);
  }
  /** A page of a table's rows of a partition this node leads (peer listener). */
  sqlRowsPage(request: SqlPageRequest): Promise<LedSqlRowsPage> {
    return this.admin.sqlRowsPage(request);
  }
  health(): HealthInfo {
    // In a cluster a partition that stopped here moves to another node: not a failure of this node.
    if (this.cluster !== undefined)
      return { status: this.status, partitions: this.options.partitions, version: RUNTIME_VERSION };
    return this.admin.health(this.status);
  }
  readiness(): ReadinessInfo {
    const health = this.health();
    if (health.status === "ok" && this.cluster !== undefined) {
      const reason = this.cluster.notReadyReason((p) => this.router.health(p));
      if (reason !== undefined) return { ready: false, status: health.status, reason };
    }
    return this.readinessGates.of(health);
  }
  metrics(): Promise<string> {
    return this.admin.metrics(this.nodeId);
  }
  async clusterInfo(): Promise<ClusterInfo> {
    if (this.cluster !== undefined) return this.cluster.info((p) => this.router.health(p));
    const partitions: ClusterPartitionInfo[] = [];
    for (let p = 0; p < this.options.partitions; p++) {
      const h = this.router.health(p);
      partitions.push(
        h.state === "leading"
          ? { partition: p, leader: this.nodeId, epoch: h.epoch, state: "leading" }
          : { partition: p, state: "stopped" },
      );
    }
    return {
      nodeId: this.nodeId,
      mode: "single",
      leaseDurationMs: 0,
      nodes: [{ nodeId: this.nodeId, address: "", pid: process.pid, live: true, self: true }],
      partitions,
    };
  }
}

/** Whole milliseconds since a `performance.now()` reading. */
function sinceMs(startedAt: number): number {
  return Math.round(performance.now() - startedAt);
}
