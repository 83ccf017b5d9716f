/**
 * What the HTTP servers (ingress, admin, checkpoint) need from the runtime. Implemented by
 * `Runtime` (runtime/src/runtime.ts); the servers only translate HTTP to these calls and back.
 */
import type {
  CheckpointAck,
  CheckpointRequest,
  Completion,
  HandlerKind,
  JournalEntry,
  Payload,
  ServiceKind,
  Target,
} from "@capstan/sdk/protocol";
import type { DeploymentEndpoint } from "../invoker/invoker";
import type { InvocationStatus, LastFailure } from "../core/state";
import type { VerifiedAttempt } from "../security/checkpoint-authentication";
import type { ReadinessInfo } from "../readiness";
import type { HandlerLogLine } from "../telemetry/handler-logs";
import type { InvocationListPosition } from "../storage/partition-state-store";

export type { InvocationListPosition };

export interface SubmitRequest {
  target: Target;
  input: Payload;
  headers: Record<string, string>;
  idempotencyKey?: string;
  /** One-way send started no earlier than now + delayMs. */
  delayMs?: number;
}

export interface SubmitResult {
  invocationId: string;
  /** True when an idempotency key or workflow id mapped the request to an earlier invocation. */
  existing: boolean;
  /**
   * While the invocation waits for a delayed start: when it starts. For a repeated request, the first
   * request's schedule (not one recomputed from this request's delay).
   */
  scheduledAtMs?: number;
}

/** A request-response call's answer: the invocation it made (or found) and its result. */
export interface CallResult {
  invocationId: string;
  result: Completion;
}

/** `call` as submit, then waiting for the result (what a node does for a partition it leads). */
export async function submitThenAwait(
  api: Pick<RuntimeApi, "submit" | "awaitResult">,
  request: SubmitRequest,
  signal: AbortSignal,
  onAccepted?: (invocationId: string) => void,
): Promise<CallResult> {
  const { invocationId } = await api.submit(request);
  onAccepted?.(invocationId);
  return { invocationId, result: await api.awaitResult(invocationId, signal) };
}

export type OutputState = { ready: true; result: Completion } | { ready: false };

export interface DeploymentInfo {
  id: string;
  endpoint: DeploymentEndpoint;
  createdAtMs: number;
  services: Array<{ name: string; kind: ServiceKind; handlers: Array<{ name: string; kind: HandlerKind }> }>;
}

export interface ServiceInfo {
  name: string;
  kind: ServiceKind;
  deploymentId: string;
  /** The service's default: its handlers are callable only from other handlers. */
  ingressPrivate?: true;
  /** `ingressPrivate`: the ingress refuses it (403), other handlers may call it. */
  handlers: Array<{ name: string; kind: HandlerKind; ingressPrivate?: true }>;
}

export interface InvocationSummary {
  id: string;
  target: Target;
  status: InvocationStatus;
  /** For completed ones: "succeeded" or "failed". */
  outcome?: "succeeded" | "failed";
  attempt: number;
  handlerInvocations: number;
  deploymentId: string;
  idempotencyKey?: string;
  createdAtMs: number;
  /** For a scheduled (delayed) invocation: when it starts. */
  scheduledAtMs?: number;
  /** A cancel waits for the handler's next await of an entry the runtime completes. */
  cancelRequested?: boolean;
  modifiedAtMs: number;
  completedAtMs?: number;
  /**
   * Why the last attempt failed: `entry` is the step that threw; `nextRetryAtMs` is set while the
   * invocation backs off. Its `stack` is in the detail only (`describe`), never in lists.
   */
  lastFailure?: LastFailure;
}

export interface InvocationDetail extends InvocationSummary {
  journal: JournalEntry[];
  /** Per entry: when it was recorded and when it got its result (null while pending). */
  entryTimes: Array<[recordedAtMs: number, completedAtMs: number | null]>;
  result?: Completion;
  awaiting: number[];
  headers: Record<string, string>;
  /** The W3C trace id of the invocation's spans (docs/observability.md), to find it in a trace backend. */
  traceId?: string;
}

/**
 * A page of invocations, newest first: by `createdAtMs` descending, then id descending (a total,
 * stable order). `after` continues a list where its previous page ended (`nextCursor` of
 * `GET /invocations` is this position, encoded): one position valid for every partition and node, so
 * a list over several is each one's page after it, merged in that order and cut at `limit`.
 */
export interface InvocationFilter {
  service?: string;
  status?: InvocationStatus;
  /** With status "completed": only this outcome (`?status=failed` / `?status=succeeded`). */
  outcome?: "succeeded" | "failed";
  key?: string;
  /** Created at or after this (`?from=`). */
  createdFromMs?: number;
  /** Created before this (`?to=`). */
  createdToMs?: number;
  /** Only invocations after this position in the order (the last one of the previous page). */
  after?: InvocationListPosition;
  limit: number;
}

/** A page of what an invocation's handler printed (`GET /invocations/:id/logs`). */
export type InvocationLogs =
  | {
      invocationId: string;
      /** The runtime has the lines (locally, from the local Lambda endpoint that ran the handler). */
      source: "local";
      /** Oldest first, attempt by attempt; replayed steps do not print again. */
      lines: HandlerLogLine[];
      /** Older lines of this invocation dropped by the endpoint's bounds. */
      dropped: number;
      /** Set when more lines follow: ask again with `?after=` this. */
      nextAfter?: number;
    }
  | {
      invocationId: string;
      /** The runtime has none (AWS): `where` says where they are. */
      source: "elsewhere";
      where: string;
      /** For a Lambda deployment: its CloudWatch log group. */
      logGroup?: string;
    };

export interface InvocationLogsQuery {
  /** Lines after this `seq` (0: from the oldest kept). */
  afterSeq: number;
  limit: number;
}

/** A node's part of a cluster-wide list: its rows and the partitions they cover. */
export interface LedInvocationPage {
  invocations: InvocationSummary[];
  /** The partitions the rows were read from (led here before and after the read). */
  partitions: number[];
}

export interface StatePatch {
  set: Record<string, Payload>;
  clear: string[];
  clearAll: boolean;
}

export interface QueryResult {
  columns: string[];
  rows: unknown[][];
  truncated: boolean;
}

export type InvocationAction = "cancel" | "kill" | "pause" | "resume" | "purge";

export interface ResumeOptions {
  /** "latest" (the service's current deployment) or a deployment id; absent: stay where it is. */
  deployment?: string;
}

export interface ResumeResult {
  invocationId: string;
  /** The deployment the new attempt runs on. */
  deploymentId: string;
}

export interface HealthInfo {
  /** "failed": a partition stopped leading (another writer, a failed store); restart the runtime. */
  status: "ok" | "starting" | "stopping" | "failed";
  reason?: string;
  partitions: number;
  version: string;
}

/** One node as `GET /cluster` shows it. */
export interface ClusterNodeInfo {
  nodeId: string;
  /** Base URL of its peer listener (node-to-node traffic). */
  address: string;
  pid: number;
  /** Its heartbeat moved within the lease, as this node observed it. */
  live: boolean;
  /** The node that answered. */
  self: boolean;
  /** How long ago, on the answering node's clock, its heartbeat last moved. */
  heartbeatAgeMs?: number;
}

/** One partition as `GET /cluster` shows it. */
export interface ClusterPartitionInfo {
  partition: number;
  /** The node id holding its fence (the leader), if any. */
  leader?: string;
  epoch?: number;
  /** leading: by the answering node; elsewhere: by another node; stopped: failed here; unassigned: nobody. */
  state: "leading" | "elsewhere" | "stopped" | "unassigned";
}

/** `GET /cluster`: the membership, each partition's leader and epoch, and what the answering node leads. */
export interface ClusterInfo {
  nodeId: string;
  mode: "single" | "cluster";
  leaseDurationMs: number;
  nodes: ClusterNodeInfo[];
  partitions: ClusterPartitionInfo[];
}

/**
 * Every method throws a RuntimeError (runtime-error.ts) or an ApiError (server/api-error.ts) for a
 * request it refuses — the servers map a RuntimeError's code to its status (server/error-status.ts);
 * anything else is a bug and becomes a 500 without crashing the process.
 */
export interface RuntimeApi {
  // ingress
  submit(request: SubmitRequest): Promise<SubmitResult>;
  /**
   * A request-response call: submit, then the result, as one step — forwarded whole to the
   * partition's leader, so a result purged as soon as it is recorded (retention 0) is not missed
   * between a forwarded submit and a forwarded wait.
   */
  call(
    request: SubmitRequest,
    signal: AbortSignal,
    /**
     * Told the invocation's id once it is durable, when the call runs on this node (not when
     * forwarded): the ingress puts it on whatever answer follows, a drain's 503 included.
     */
    onAccepted?: (invocationId: string) => void,
  ): Promise<CallResult>;
  /** Resolves with the result once the invocation completes; rejects with INVOCATION_NOT_FOUND if unknown. */
  awaitResult(invocationId: string, signal: AbortSignal): Promise<Completion>;
  output(invocationId: string): Promise<OutputState>;
  /** The invocation of a workflow's `run` for this workflow id, if any. */
  workflowInvocation(service: string, workflowId: string): Promise<string | undefined>;
  /** The invocation an idempotency key maps to for this target, if any (within its retention). */
  idempotentInvocation(target: Target, idempotencyKey: string): Promise<string | undefined>;
  completeAwakeable(awakeableId: string, completion: Completion): Promise<void>;
  // checkpoint channel (SDK → runtime)
  /**
   * Checks a checkpoint's attempt credential (the raw fields, before the body is decoded further):
   * ApiError 401 CHECKPOINT_UNAUTHORIZED / CHECKPOINT_CREDENTIAL_EXPIRED, 409 INVOKE_STALE_ATTEMPT.
   */
  authenticateCheckpoint(invocationId: unknown, attemptToken: unknown): VerifiedAttempt;
  /** `verified` comes from authenticateCheckpoint; `signal` aborts a long-poll when the SDK disconnects. */
  checkpoint(
    request: CheckpointRequest,
    verified: VerifiedAttempt,
    signal?: AbortSignal,
  ): Promise<CheckpointAck>;
  // admin
  registerDeployment(endpoint: DeploymentEndpoint, options: { force: boolean }): Promise<DeploymentInfo>;
  listDeployments(): Promise<DeploymentInfo[]>;
  removeDeployment(id: string): Promise<void>;
  listServices(): Promise<ServiceInfo[]>;
  listInvocations(filter: InvocationFilter): Promise<InvocationSummary[]>;
  describeInvocation(invocationId: string): Promise<InvocationDetail | undefined>;
  /** What the handler printed; INVOCATION_NOT_FOUND for an unknown invocation. */
  invocationLogs(invocationId: string, query: InvocationLogsQuery): Promise<InvocationLogs>;
  invocationAction(invocationId: string, action: InvocationAction): Promise<void>;
  /** A paused or backing-off invocation's next attempt now, optionally on another deployment. */
  resumeInvocation(invocationId: string, options?: ResumeOptions): Promise<ResumeResult>;
  /** A new invocation with the target, input and headers of a completed one. */
  restartAsNew(invocationId: string): Promise<SubmitResult>;
  getState(service: string, key: string): Promise<Record<string, Payload>>;
  patchState(service: string, key: string, patch: StatePatch): Promise<void>;
  /** The QueryResult as JSON text, built and bounded in the query's own process. */
  query(sql: string): Promise<string>;
  health(): HealthInfo;
  /** Ready to serve requests: partitions lead and nothing outside the runtime holds it back. */
  readiness(): ReadinessInfo;
  /** Prometheus text exposition format. */
  metrics(): Promise<string>;
  /** The nodes and who leads which partition (`GET /cluster`). */
  clusterInfo(): Promise<ClusterInfo>;
}
