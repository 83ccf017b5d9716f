/**
 * What the HTTP servers of a node of a cluster call: the RuntimeApi, answered for every partition of
 * the cluster, whichever node the request reached (on AWS a load balancer spreads them). Each call
 * that names a partition — by invocation id, awakeable id, target key, idempotency key or workflow
 * id — runs on the local runtime when this node leads that partition, and is otherwise sent to its
 * leader over the peer listener (peer-client.ts), which runs it on its own partitions only. With no
 * live leader known (the partition is moving, its leader died) the answer is
 * RUNTIME_PARTITION_UNAVAILABLE: 503 with a retry hint. A submit with no key runs on a partition this
 * node leads (on another live node's when it leads none). Invocation lists merge the answers of every live node (all of them, or an error: never
 * silently partial). Deployments, health, readiness, metrics, SQL and `GET /cluster` are the local
 * node's (the registry is shared through the store; metrics are per node). SQL runs here, over the
 * partitions led here and pages of rows read from the leaders of the others.
 *
 * Forwarding at this seam (ADR 0014) keeps the HTTP layer's validation and limits where requests
 * enter, and makes a forwarded request fail exactly like a local one.
 */
import {
  isInvocationId,
  parseAwakeableId,
  parseInvocationId,
  partitionOfInvocationId,
  partitionOfTarget,
  type CheckpointAck,
  type CheckpointRequest,
  type Completion,
  type Target,
} from "@capstan/sdk/protocol";
import type { Clock } from "../core/clock";
import { PARTITION_UNAVAILABLE_RETRY_AFTER_MS } from "../partition/partition-errors";
import type { ReadinessInfo } from "../readiness";
import type { Runtime } from "../runtime";
import { RuntimeError } from "../runtime-error";
import type { AttemptCredentials } from "../security/attempt-credentials";
import {
  CHECKPOINT_UNAUTHORIZED,
  CHECKPOINT_CREDENTIAL_EXPIRED,
  type VerifiedAttempt,
} from "../security/checkpoint-authentication";
import type {
  ClusterInfo,
  DeploymentInfo,
  HealthInfo,
  InvocationAction,
  InvocationDetail,
  InvocationFilter,
  InvocationLogs,
  InvocationLogsQuery,
  InvocationSummary,
  CallResult,
  LedInvocationPage,
  OutputState,
  ResumeOptions,
  ResumeResult,
  RuntimeApi,
  ServiceInfo,
  StatePatch,
  SubmitRequest,
  SubmitResult,
} from "../server/runtime-api";
import type { DeploymentEndpoint } from "../invoker/invoker";
import { mergeInvocationPages } from "../api/invocation-list-order";
import type { ClusterMember } from "./cluster-member";
import type { PeerClient } from "./peer-client";
import type { PeerMethod } from "./peer-protocol";
import { remoteSqlRows, type RemotePartition } from "./remote-sql-rows";

export class ForwardingRuntimeApi implements RuntimeApi {
  /** Checkpoints of partitions led elsewhere: the raw credential, for the leader to check in full. */
  private readonly forwardedCredentials = new WeakMap<VerifiedAttempt, string>();

  constructor(
    private readonly local: Runtime,
    private readonly member: ClusterMember,
    private readonly peers: PeerClient,
    private readonly credentials: AttemptCredentials,
    private readonly clock: Clock,
  ) {}

  private get partitions(): number {
    return this.local.router.partitions;
  }

  /** Whether this node answers for `partition` itself (it leads it, or it stopped here). */
  private isLocal(partition: number | undefined): boolean {
    return (
      partition === undefined ||
      partition >= this.partitions ||
      this.local.router.health(partition).state !== "elsewhere"
    );
  }

  /** Runs `method` where `partition` is led: here, or on its leader. */
  private async on<T>(
    partition: number | undefined,
    method: PeerMethod,
    args: unknown[],
    here: () => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    if (this.isLocal(partition)) return here();
    const leader = this.member.leaderOf(partition!);
    if (leader === undefined) throw noLeader(partition!);
    return (await this.peers.call(leader.address, method, args, signal)) as T;
  }

  // ---- ingress ----------------------------------------------------------------------------------

  /** A keyed submit goes to its partition's leader; a keyless one stays here unless this node leads none. */
  submit(request: SubmitRequest): Promise<SubmitResult> {
    return this.onTarget(request, "submit", () => this.local.submit(request));
  }

  /** Where a new invocation goes: its key's partition; keyless, here, or any live peer if this node leads none. */
  private onTarget<T>(
    request: SubmitRequest,
    method: "submit" | "call",
    here: () => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    const p = partitionOfTarget(request.target, request.idempotencyKey, this.partitions);
    if (p === undefined && this.local.router.leading().length === 0) {
      const peers = this.member.peers();
      const peer = peers[Math.floor(Math.random() * peers.length)];
      if (peer !== undefined) return this.peers.call(peer.address, method, [request], signal) as Promise<T>;
    }
    return this.on(p, method, [request], here, signal);
  }
  /** Routed like `submit`, and forwarded whole: the leader submits and waits in one step. */
  call(
    request: SubmitRequest,
    signal: AbortSignal,
    onAccepted?: (invocationId: string) => void,
  ): Promise<CallResult> {
    return this.onTarget(request, "call", () => this.local.call(request, signal, onAccepted), signal);
  }
  awaitResult(invocationId: string, signal: AbortSignal): Promise<Completion> {
    return this.on(
      partitionOfId(invocationId),
      "awaitResult",
      [invocationId],
      () => this.local.awaitResult(invocationId, signal),
      signal,
    );
  }
  output(invocationId: string): Promise<OutputState> {
    return this.on(partitionOfId(invocationId), "output", [invocationId], () =>
      this.local.output(invocationId),
    );
  }
  workflowInvocation(service: string, workflowId: string): Promise<string | undefined> {
    const p = partitionOfTarget({ service, handler: "", key: workflowId }, undefined, this.partitions);
    return this.on(p, "workflowInvocation", [service, workflowId], () =>
      this.local.workflowInvocation(service, workflowId),
    );
  }
  idempotentInvocation(target: Target, idempotencyKey: string): Promise<string | undefined> {
    const p = partitionOfTarget(target, idempotencyKey, this.partitions);
    return this.on(p, "idempotentInvocation", [target, idempotencyKey], () =>
      this.local.idempotentInvocation(target, idempotencyKey),
    );
  }
  completeAwakeable(awakeableId: string, completion: Completion): Promise<void> {
    let p: number | undefined;
    try {
      p = partitionOfInvocationId(parseAwakeableId(awakeableId).invocationId);
    } catch {
      p = undefined; // malformed: the local call refuses it
    }
    return this.on(p, "completeAwakeable", [awakeableId, completion], () =>
      this.local.completeAwakeable(awakeableId, completion),
    );
  }

  // ---- checkpoint channel -----------------------------------------------------------------------

  /**
   * For a partition led here, the full check (key, expiry, this node's epoch, running attempt). For
   * one led elsewhere, the key and expiry only: the leader checks the rest when the checkpoint
   * reaches it with the raw credential.
   */
  authenticateCheckpoint(invocationId: unknown, attemptToken: unknown): VerifiedAttempt {
    const p = typeof invocationId === "string" ? partitionOfId(invocationId) : undefined;
    if (this.isLocal(p)) return this.local.authenticateCheckpoint(invocationId, attemptToken);
    const unauthorized = (): RuntimeError =>
      new RuntimeError(CHECKPOINT_UNAUTHORIZED, "not a valid attempt credential for this invocation");
    if (!isInvocationId(invocationId) || typeof attemptToken !== "string") throw unauthorized();
    const verified = this.credentials.verify(attemptToken, invocationId, this.clock.nowMs());
    if (verified === "expired")
      throw new RuntimeError(CHECKPOINT_CREDENTIAL_EXPIRED, "the attempt credential has expired");
    if (verified === "invalid" || verified.partition !== p) throw unauthorized();
    this.forwardedCredentials.set(verified, attemptToken);
    return verified;
  }
  checkpoint(
    request: CheckpointRequest,
    verified: VerifiedAttempt,
    signal?: AbortSignal,
  ): Promise<CheckpointAck> {
    const token = this.forwardedCredentials.get(verified);
    if (token === undefined) return this.local.checkpoint(request, verified, signal);
    const leader = this.member.leaderOf(verified.partition);
    if (leader === undefined) return Promise.reject(noLeader(verified.partition));
    // The body as the SDK sent it; the credential goes beside it, as in the listener's headers.
    const { invocationId: _id, attemptToken: _token, ...body } = request;
    return this.peers.call(
      leader.address,
      "checkpoint",
      [verified.invocationId, token, body],
      signal,
    ) as Promise<CheckpointAck>;
  }

  // ---- admin ------------------------------------------------------------------------------------

  registerDeployment(endpoint: DeploymentEndpoint, options: { force: boolean }): Promise<DeploymentInfo> {
    return this.local.registerDeployment(endpoint, options);
  }
  listDeployments(): Promise<DeploymentInfo[]> {
    return this.local.listDeployments();
  }
  removeDeployment(id: string): Promise<void> {
    return this.local.removeDeployment(id);
  }
  listServices(): Promise<ServiceInfo[]> {
    return this.local.listServices();
  }
  /** Every live node's newest `limit` matching invocations, merged; an unreachable node fails the list. */
  /**
   * Every live node's part, merged; refused (503, retry) unless the parts cover every partition —
   * one moving between nodes during the fan-out would otherwise be silently missing.
   */
  async listInvocations(filter: InvocationFilter): Promise<InvocationSummary[]> {
    const pages = await Promise.all([
      this.local.listLedInvocations(filter),
      ...this.member
        .peers()
        .map(
          (peer) =>
            this.peers.call(peer.address, "listLedInvocations", [filter]) as Promise<LedInvocationPage>,
        ),
    ]);
    const covered = new Set(pages.flatMap((page) => page.partitions));
    const missing = Array.from({ length: this.partitions }, (_, p) => p).filter((p) => !covered.has(p));
    if (missing.length > 0) {
      throw new RuntimeError(
        "RUNTIME_PARTITION_UNAVAILABLE",
        `partitions ${missing.join(", ")} have no leader that answered the list (moving between nodes)`,
        { retryAfterMs: PARTITION_UNAVAILABLE_RETRY_AFTER_MS },
      );
    }
    // A partition that moved during the fan-out may be in two parts: each invocation once.
    const seen = new Set<string>();
    const unique = pages.map((page) =>
      page.invocations.filter((s) => !seen.has(s.id) && (seen.add(s.id), true)),
    );
    return mergeInvocationPages(unique, filter.limit);
  }
  describeInvocation(invocationId: string): Promise<InvocationDetail | undefined> {
    return this.on(partitionOfId(invocationId), "describeInvocation", [invocationId], () =>
      this.local.describeInvocation(invocationId),
    );
  }
  /** The handler's lines as the partition's leader keeps them. */
  invocationLogs(invocationId: string, query: InvocationLogsQuery): Promise<InvocationLogs> {
    return this.on(partitionOfId(invocationId), "invocationLogs", [invocationId, query], () =>
      this.local.invocationLogs(invocationId, query),
    );
  }
  invocationAction(invocationId: string, action: InvocationAction): Promise<void> {
    return this.on(partitionOfId(invocationId), "invocationAction", [invocationId, action], () =>
      this.local.invocationAction(invocationId, action),
    );
  }
  resumeInvocation(invocationId: string, options: ResumeOptions = {}): Promise<ResumeResult> {
    return this.on(partitionOfId(invocationId), "resumeInvocation", [invocationId, options], () =>
      this.local.resumeInvocation(invocationId, options),
    );
  }
  /** The completed invocation's request is read where it lives; the new one goes where its key says. */
  async restartAsNew(invocationId: string): Promise<SubmitResult> {
    const request = await this.on(partitionOfId(invocationId), "restartRequest", [invocationId], () =>
      this.local.restartRequest(invocationId),
    );
    return this.submit(request);
  }
  getState(service: string, key: string): Promise<Record<string, string>> {
    const p = partitionOfTarget({ service, handler: "", key }, undefined, this.partitions);
    return this.on(p, "getState", [service, key], () => this.local.getState(service, key));
  }
  patchState(service: string, key: string, patch: StatePatch): Promise<void> {
    const p = partitionOfTarget({ service, handler: "", key }, undefined, this.partitions);
    return this.on(p, "patchState", [service, key, patch], () => this.local.patchState(service, key, patch));
  }
  /**
   * SQL over the whole cluster: the partitions this node leads read here, each other one paged from
   * its leader into the same query's process (remote-sql-rows.ts). A partition that moves or has no
   * live leader during the query refuses it (503, retry), never leaves it out.
   */
  query(sql: string): Promise<string> {
    const remote: RemotePartition[] = [];
    for (let p = 0; p < this.partitions; p++)
      if (!this.isLocal(p))
        remote.push({ partition: p, leaderAddress: () => this.member.leaderOf(p)?.address });
    if (remote.length === 0) return this.local.query(sql);
    return this.local.query(sql, {
      partitions: new Set(remote.map((r) => r.partition)),
      rows: (tables) => remoteSqlRows(this.peers, remote, tables),
    });
  }
  health(): HealthInfo {
    return this.local.health();
  }
  readiness(): ReadinessInfo {
    return this.local.readiness();
  }
  metrics(): Promise<string> {
    return this.local.metrics();
  }
  clusterInfo(): Promise<ClusterInfo> {
    return this.local.clusterInfo();
  }
}

/** The partition an invocation id names; undefined for a malformed id (the local call refuses it). */
function partitionOfId(invocationId: string): number | undefined {
  try {
    return partitionOfInvocationId(parseInvocationId(invocationId));
  } catch {
    return undefined;
  }
}

function noLeader(partition: number): RuntimeError {
  return new RuntimeError(
    "RUNTIME_PARTITION_UNAVAILABLE",
    `partition ${partition} has no live leader this node knows of (it is moving): retry`,
    { retryAfterMs: PARTITION_UNAVAILABLE_RETRY_AFTER_MS },
  );
}
