/**
 * Snapshots: PartitionState as plain JSON (Maps become entry arrays) and back. `serializeState`
 * returns an independent copy, so the processor may write it asynchronously while `apply` goes on.
 */
import type { Completion, InvocationId, Payload } from "@capstan/sdk/protocol";
import { invariant } from "./invariant";
import { copyRetryPolicy } from "./retry";
import type { EntryRef, Invocation, OutboxEntry, PartitionState, Timer } from "./state";

/** Bump on any incompatible change of the layout below, with a migration in `deserializeState`. */
export const SNAPSHOT_VERSION = 1;

interface SerializedState {
  version: typeof SNAPSHOT_VERSION;
  partition: number;
  partitions: number;
  appliedLsn: number;
  invocations: Invocation[];
  idempotency: Array<[string, InvocationId]>;
  workflows: Array<[string, InvocationId]>;
  objectState: Array<[string, Array<[string, Payload]>]>;
  locks: Array<[string, InvocationId]>;
  inboxes: Array<[string, InvocationId[]]>;
  timers: Timer[];
  promises: Array<[string, Completion]>;
  promiseWaiters: Array<[string, EntryRef[]]>;
  outbox: OutboxEntry[];
  nextOutboxSeq: number;
  inboundSeq: Array<[number, number]>;
}

/**
 * @example
 * await partitionStore.saveSnapshot(p, { lsn: state.appliedLsn, state: serializeState(state) });
 */
export function serializeState(state: PartitionState): unknown {
  const serialized: SerializedState = {
    version: SNAPSHOT_VERSION,
    partition: state.partition,
    partitions: state.partitions,
    appliedLsn: state.appliedLsn,
    invocations: [...state.invocations.values()],
    idempotency: [...state.idempotency],
    workflows: [...state.workflows],
    objectState: [...state.objectState].map(([key, values]) => [key, [...values]]),
    locks: [...state.locks],
    inboxes: [...state.inboxes],
    timers: [...state.timers.values()],
    promises: [...state.promises],
    promiseWaiters: [...state.promiseWaiters],
    outbox: state.outbox,
    nextOutboxSeq: state.nextOutboxSeq,
    inboundSeq: [...state.inboundSeq],
  };
  return structuredClone(serialized);
}

/**
 * The inverse of `serializeState` (also after a JSON round trip, which drops `undefined` fields:
 * they are restored so the state has the exact shape `apply` produces).
 *
 * @example
 * const snapshot = await partitionStore.loadSnapshot(p);
 * const state = snapshot ? deserializeState(snapshot.state) : emptyPartitionState(p, partitions);
 */
export function deserializeState(json: unknown): PartitionState {
  invariant(typeof json === "object" && json !== null, "snapshot is not an object");
  const s = structuredClone(json) as SerializedState;
  invariant(s.version === SNAPSHOT_VERSION, `unsupported snapshot version ${String(s.version)}`);
  return {
    partition: s.partition,
    partitions: s.partitions,
    appliedLsn: s.appliedLsn,
    invocations: new Map(s.invocations.map((inv) => [inv.id, restoreInvocation(inv)])),
    idempotency: new Map(s.idempotency),
    workflows: new Map(s.workflows),
    objectState: new Map(s.objectState.map(([key, values]) => [key, new Map(values)])),
    locks: new Map(s.locks),
    inboxes: new Map(s.inboxes),
    timers: new Map(s.timers.map((timer) => [timer.id, timer])),
    promises: new Map(s.promises),
    promiseWaiters: new Map(s.promiseWaiters),
    outbox: s.outbox,
    nextOutboxSeq: s.nextOutboxSeq,
    inboundSeq: new Map(s.inboundSeq),
  };
}

/**
 * An invocation read back from JSON (which drops `undefined` fields), field by field in
 * `createInvocation`'s order, so it serializes byte-identically to the original. Snapshots and the
 * SQLite state store both read invocations through it: a new field must be added here.
 */
export function restoreInvocation(inv: Invocation): Invocation {
  return {
    id: inv.id,
    target: inv.target,
    serviceKind: inv.serviceKind,
    handlerKind: inv.handlerKind,
    deploymentId: inv.deploymentId,
    headers: inv.headers,
    idempotencyKey: inv.idempotencyKey ?? undefined,
    journal: inv.journal,
    entryTimes: inv.entryTimes,
    completionCount: inv.completionCount ?? 0,
    status: inv.status,
    attempt: inv.attempt,
    attemptsSinceLastEntry: inv.attemptsSinceLastEntry,
    firstFailureAtMs: inv.firstFailureAtMs ?? undefined,
    awaiting: inv.awaiting,
    retryPolicy: copyRetryPolicy(inv.retryPolicy),
    abortTimeoutMs: inv.abortTimeoutMs,
    retentionMs: inv.retentionMs,
    lastFailure: inv.lastFailure ?? undefined,
    caller: inv.caller ?? undefined,
    attachedBy: inv.attachedBy,
    cancelPending: inv.cancelPending,
    result: inv.result ?? undefined,
    createdAtMs: inv.createdAtMs,
    modifiedAtMs: inv.modifiedAtMs,
    completedAtMs: inv.completedAtMs ?? undefined,
    handlerInvocations: inv.handlerInvocations,
    trace: inv.trace ?? undefined,
  };
}
