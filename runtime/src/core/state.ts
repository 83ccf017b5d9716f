/**
 * The state of one partition, as maintained by `apply`. Held in memory by the partition processor,
 * snapshotted to the PartitionStore and rebuilt on recovery by replaying the log after the snapshot.
 * Only `apply` (and the files it delegates to) mutate it.
 */
import type {
  Completion,
  FailedEntryRef,
  HandlerKind,
  InvocationId,
  JournalEntry,
  Payload,
  ServiceKind,
  Target,
} from "@capstan/sdk/protocol";

export type InvocationStatus =
  /** Delayed send waiting for its timer. */
  | "scheduled"
  /** Exclusive object handler waiting for its key's lock. */
  | "inboxed"
  /** An attempt is in flight. */
  | "running"
  /** Waiting on completions (`awaiting`); no attempt in flight. */
  | "suspended"
  /** The last attempt failed retryably; a retry timer is set. */
  | "backing-off"
  /** Retries exhausted or paused by admin; resumed only by admin. */
  | "paused"
  /** Terminal: `result` holds the output or the failure. */
  | "completed";

/** A fully resolved retry policy (defaults applied when the invocation was created). */
export interface ResolvedRetryPolicy {
  initialIntervalMs: number;
  factor: number;
  maxIntervalMs: number;
  /** Total attempts, the first included; undefined = unbounded. */
  maxAttempts: number | undefined;
  maxDurationMs: number | undefined;
  onMaxAttempts: "pause" | "fail";
}

/**
 * The trace an invocation's spans belong to (docs/observability.md), kept with the invocation so a
 * resume, a retry or another node continues it. Ids are W3C hex; `core/trace-ids.ts` derives the rest.
 */
export interface InvocationTrace {
  traceId: string;
  /** Parent of the invocation's `invocation-start` span: the ingress span or the caller's attempt. */
  parentSpanId?: string;
  sampled: boolean;
  /** A one-way send starts its own trace, linked to the sender's attempt span. */
  link?: { traceId: string; spanId: string };
}

/** Why the last attempt failed, for `describe` and the console. */
export interface LastFailure {
  message: string;
  atMs: number;
  attempt: number;
  /** The error's stack as the handler reported it (bounded by MAX_FAILURE_MESSAGE_LENGTH). */
  stack?: string;
  /** The journal entry whose step failed (e.g. the `ctx.run` that threw). */
  entry?: FailedEntryRef;
  /** When the retry timer fires; absent when the invocation was paused or failed instead. */
  nextRetryAtMs?: number;
}

/** Where a call's result must be delivered: a journal entry of another invocation. */
export interface EntryRef {
  invocationId: InvocationId;
  entryIndex: number;
}

export interface Invocation {
  id: InvocationId;
  target: Target;
  serviceKind: ServiceKind;
  handlerKind: HandlerKind;
  deploymentId: string;
  headers: Record<string, string>;
  idempotencyKey: string | undefined;
  /** Entry 0 is the input. */
  journal: JournalEntry[];
  /** Per journal entry: when it was recorded and when it got its result (null: pending / none). For timelines. */
  entryTimes: Array<[recordedAtMs: number, completedAtMs: number | null]>;
  /** Results recorded so far: the last `completionOrder` stamped on an entry of this journal. */
  completionCount: number;
  status: InvocationStatus;
  /** Attempts started so far; the current attempt's number when running. */
  attempt: number;
  /** Attempts since an entry was last recorded (resets on progress); drives retry backoff. */
  attemptsSinceLastEntry: number;
  firstFailureAtMs: number | undefined;
  /** Entry indexes awaited while suspended. */
  awaiting: number[];
  retryPolicy: ResolvedRetryPolicy;
  abortTimeoutMs: number;
  /** How long the invocation is kept after completion (idempotency / workflow / journal retention). */
  retentionMs: number;
  lastFailure: LastFailure | undefined;
  /** The caller's call entry to complete with our result. */
  caller: EntryRef | undefined;
  /** Other invocations attached to us (ctx.attach), completed with our result. */
  attachedBy: EntryRef[];
  /** A cancel arrived while nothing was pending: the next completable entry fails with CANCELLED. */
  cancelPending: boolean;
  result: Completion | undefined;
  createdAtMs: number;
  modifiedAtMs: number;
  completedAtMs: number | undefined;
  /** Requests sent to the handler (attempts), for metrics and the bench's invocations-per-workflow. */
  handlerInvocations: number;
  /** Absent for invocations created before traces were kept. */
  trace: InvocationTrace | undefined;
}

export type TimerKind =
  | { kind: "sleep"; invocationId: InvocationId; entryIndex: number }
  | { kind: "retry"; invocationId: InvocationId; attempt: number }
  | { kind: "delayed-invoke"; invocationId: InvocationId }
  | { kind: "expire"; invocationId: InvocationId };

export type Timer = TimerKind & { id: string; fireAtMs: number };

/** A message for another partition, kept until that partition confirms it applied it. */
export interface OutboxEntry {
  seq: number;
  toPartition: number;
  message: OutboxMessage;
}

/** Records another partition must apply; `origin` is added on delivery for deduplication. */
export type OutboxMessage =
  | { kind: "invoke"; invocation: NewInvocation }
  /**
   * A call or one-way send made by a handler. `apply` cannot read the service registry, so the
   * registry-derived fields of NewInvocation are missing: the processor of the receiving partition
   * resolves the target and appends an `invoke` record (or `invoke-refused` when the target is unknown),
   * keeping the message's `origin` for deduplication.
   */
  | { kind: "invoke-request"; request: InvocationRequest }
  | {
      kind: "complete-entry";
      invocationId: InvocationId;
      entryIndex: number;
      result: Completion;
      /** Set for awakeable resolutions: only an `awakeable` entry may be completed by them. */
      awakeableOnly?: true;
    }
  | { kind: "attach"; invocationId: InvocationId; waiter: EntryRef }
  | { kind: "cancel"; invocationId: InvocationId }
  | { kind: "kill"; invocationId: InvocationId };

/**
 * An invocation as a handler asked for it (call/send), before the registry is consulted: the
 * processor completes it into a NewInvocation (serviceKind, handlerKind, deploymentId, retryPolicy,
 * abortTimeoutMs, retentionMs) when it delivers it.
 */
export interface InvocationRequest {
  /** Deterministic: `childInvocationId(parent, entryIndex, ...)`. */
  id: InvocationId;
  target: Target;
  input: Payload;
  headers: Record<string, string>;
  idempotencyKey?: string;
  notBeforeMs?: number;
  /** Set for calls (the result goes back to this entry); absent for one-way sends. */
  caller?: EntryRef;
  trace?: InvocationTrace;
}

/** Everything needed to create an invocation; stamped by the processor from the registry. */
export interface NewInvocation {
  id: InvocationId;
  target: Target;
  serviceKind: ServiceKind;
  handlerKind: HandlerKind;
  deploymentId: string;
  input: Payload;
  headers: Record<string, string>;
  idempotencyKey?: string;
  /** Start no earlier than this (delayed send). */
  notBeforeMs?: number;
  caller?: EntryRef;
  trace?: InvocationTrace;
  retryPolicy: ResolvedRetryPolicy;
  abortTimeoutMs: number;
  retentionMs: number;
}

export interface PartitionState {
  partition: number;
  /** Partition count of the cluster: fixed, needed to derive child invocation ids. */
  partitions: number;
  /** LSN of the last record applied. */
  appliedLsn: number;
  invocations: Map<InvocationId, Invocation>;
  /** `idempotencyTableKey(target, key)` → invocation. */
  idempotency: Map<string, InvocationId>;
  /** `service/workflowId` → the workflow's `run` invocation. */
  workflows: Map<string, InvocationId>;
  /** `service/key` → state key → value. */
  objectState: Map<string, Map<string, Payload>>;
  /** `service/key` → invocation holding the exclusive lock. */
  locks: Map<string, InvocationId>;
  /** `service/key` → exclusive invocations waiting, in arrival order. */
  inboxes: Map<string, InvocationId[]>;
  timers: Map<string, Timer>;
  /** `service/workflowId/promiseName` → completion. */
  promises: Map<string, Completion>;
  /** Same key → entries waiting on `promiseGet`. */
  promiseWaiters: Map<string, EntryRef[]>;
  outbox: OutboxEntry[];
  nextOutboxSeq: number;
  /** Producer partition → highest outbox seq applied from it (dedup of cross-partition messages). */
  inboundSeq: Map<number, number>;
}

export function emptyPartitionState(partition: number, partitions: number): PartitionState {
  return {
    partition,
    partitions,
    appliedLsn: 0,
    invocations: new Map(),
    idempotency: new Map(),
    workflows: new Map(),
    objectState: new Map(),
    locks: new Map(),
    inboxes: new Map(),
    timers: new Map(),
    promises: new Map(),
    promiseWaiters: new Map(),
    outbox: [],
    nextOutboxSeq: 1,
    inboundSeq: new Map(),
  };
}

/** Key of an object's/workflow's state, lock and inbox. */
export function objectKey(service: string, key: string): string {
  return `${service}/${key}`;
}
