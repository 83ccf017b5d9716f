/**
 * Test builders for the partition state machine: records, journal entries, invocations, and a
 * harness that feeds records at increasing LSNs with a manual clock. Excluded from the build.
 */
import type { Completion, InvocationId, JournalEntry, Outcome, Payload, Target } from "@capstan/sdk/protocol";
import { formatInvocationId } from "@capstan/sdk/protocol";
import { applyBatch } from "../apply";
import type { Effect, EffectKind } from "../effects";
import type { RecordKind, RecordOf } from "../records";
import type { Invocation, NewInvocation, PartitionState, ResolvedRetryPolicy } from "../state";
import { MemoryStateStore } from "../memory-state-store";
import { emptyPartitionState } from "../state";

export const PARTITIONS = 4;

/** A valid invocation id on `partition`, distinct per `n`. */
export function invId(partition: number, n: number): InvocationId {
  return formatInvocationId(partition, `test${String(n).padStart(8, "0")}`);
}

export const retryPolicy: ResolvedRetryPolicy = {
  initialIntervalMs: 100,
  factor: 2,
  maxIntervalMs: 1_000,
  maxAttempts: undefined,
  maxDurationMs: undefined,
  onMaxAttempts: "pause",
};

export const svc = (handler = "run"): Target => ({ service: "Svc", handler });
export const obj = (key: string, handler = "add"): Target => ({ service: "Obj", handler, key });
export const wf = (key: string, handler = "run"): Target => ({ service: "Wf", handler, key });

/** A NewInvocation for a stateless service handler unless overridden. */
export function newInvocation(id: InvocationId, overrides: Partial<NewInvocation> = {}): NewInvocation {
  return {
    id,
    target: svc(),
    serviceKind: "service",
    handlerKind: "stateless",
    deploymentId: "dp_1",
    input: '"in"',
    headers: {},
    retryPolicy,
    abortTimeoutMs: 60_000,
    retentionMs: 86_400_000,
    ...overrides,
  };
}

export function exclusive(
  id: InvocationId,
  key: string,
  overrides: Partial<NewInvocation> = {},
): NewInvocation {
  return newInvocation(id, {
    target: obj(key),
    serviceKind: "object",
    handlerKind: "exclusive",
    ...overrides,
  });
}

export function workflowRun(
  id: InvocationId,
  key: string,
  overrides: Partial<NewInvocation> = {},
): NewInvocation {
  return newInvocation(id, {
    target: wf(key),
    serviceKind: "workflow",
    handlerKind: "workflow",
    ...overrides,
  });
}

type RecordInput = { [K in RecordKind]: Omit<RecordOf<K>, "atMs"> & { atMs?: number } }[RecordKind];

export const rec = {
  invoke: (invocation: NewInvocation): RecordInput => ({ kind: "invoke", invocation }),
  entries: (
    invocationId: InvocationId,
    attempt: number,
    entries: JournalEntry[],
    outcome?: Outcome,
  ): RecordInput =>
    outcome === undefined
      ? { kind: "entries", invocationId, attempt, entries }
      : { kind: "entries", invocationId, attempt, entries, outcome },
  attemptFailed: (
    invocationId: InvocationId,
    attempt: number,
    retryable = true,
    message = "boom",
  ): RecordInput => ({
    kind: "attempt-failed",
    invocationId,
    attempt,
    message,
    retryable,
  }),
  timerFired: (timerId: string): RecordInput => ({ kind: "timer-fired", timerId }),
  completeEntry: (invocationId: InvocationId, entryIndex: number, result: Completion): RecordInput => ({
    kind: "complete-entry",
    invocationId,
    entryIndex,
    result,
  }),
  attach: (invocationId: InvocationId, waiter: InvocationId, entryIndex: number): RecordInput => ({
    kind: "attach",
    invocationId,
    waiter: { invocationId: waiter, entryIndex },
  }),
  cancel: (invocationId: InvocationId): RecordInput => ({ kind: "cancel", invocationId }),
  kill: (invocationId: InvocationId): RecordInput => ({ kind: "kill", invocationId }),
  pause: (invocationId: InvocationId): RecordInput => ({ kind: "pause", invocationId }),
  resume: (invocationId: InvocationId, deploymentId?: string): RecordInput => ({
    kind: "resume",
    invocationId,
    ...(deploymentId !== undefined && { deploymentId }),
  }),
  purge: (invocationId: InvocationId): RecordInput => ({ kind: "purge", invocationId }),
  patchState: (
    service: string,
    key: string,
    patch: { set?: Record<string, Payload>; clear?: string[]; clearAll?: boolean },
  ): RecordInput => ({
    kind: "patch-state",
    service,
    key,
    set: patch.set ?? {},
    clear: patch.clear ?? [],
    clearAll: patch.clearAll ?? false,
  }),
  outboxDelivered: (toPartition: number, upToSeq: number): RecordInput => ({
    kind: "outbox-delivered",
    toPartition,
    upToSeq,
  }),
  recover: (epoch = 1): RecordInput => ({ kind: "recover", epoch }),
};

export const value = (v: unknown): Completion => ({ kind: "value", value: JSON.stringify(v) });
export const EMPTY: Completion = { kind: "empty" };

/** Journal entries, by kind. */
export const e = {
  run: (index: number, name: string, result?: Completion): JournalEntry =>
    result === undefined ? { index, kind: "run", name } : { index, kind: "run", name, result },
  sleep: (index: number, durationMs: number): JournalEntry => ({ index, kind: "sleep", durationMs }),
  call: (index: number, target: Target, parameter = '"p"', idempotencyKey?: string): JournalEntry => ({
    index,
    kind: "call",
    target,
    parameter,
    ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
  }),
  send: (index: number, target: Target, delayMs?: number): JournalEntry => ({
    index,
    kind: "send",
    target,
    parameter: '"p"',
    ...(delayMs === undefined ? {} : { delayMs }),
  }),
  getState: (index: number, key: string): JournalEntry => ({ index, kind: "getState", key }),
  setState: (index: number, key: string, v: Payload): JournalEntry => ({
    index,
    kind: "setState",
    key,
    value: v,
  }),
  clearState: (index: number, key: string): JournalEntry => ({ index, kind: "clearState", key }),
  clearAllState: (index: number): JournalEntry => ({ index, kind: "clearAllState" }),
  getStateKeys: (index: number): JournalEntry => ({ index, kind: "getStateKeys" }),
  awakeable: (index: number): JournalEntry => ({ index, kind: "awakeable" }),
  completeAwakeable: (index: number, awakeableId: string, completion: Completion): JournalEntry => ({
    index,
    kind: "completeAwakeable",
    awakeableId,
    completion,
  }),
  promiseGet: (index: number, name: string): JournalEntry => ({ index, kind: "promiseGet", name }),
  promisePeek: (index: number, name: string): JournalEntry => ({ index, kind: "promisePeek", name }),
  promiseComplete: (index: number, name: string, completion: Completion): JournalEntry => ({
    index,
    kind: "promiseComplete",
    name,
    completion,
  }),
  attach: (index: number, invocationId: string): JournalEntry => ({ index, kind: "attach", invocationId }),
  cancelInvocation: (index: number, invocationId: string): JournalEntry => ({
    index,
    kind: "cancelInvocation",
    invocationId,
  }),
};

export const outcome = {
  completed: (v: unknown): Outcome => ({ kind: "completed", value: JSON.stringify(v) }),
  failed: (message: string, code = 500): Outcome => ({ kind: "failed", failure: { code, message } }),
  retry: (message: string, retryAfterMs?: number): Outcome =>
    retryAfterMs === undefined
      ? { kind: "retry", error: { message } }
      : { kind: "retry", error: { message }, retryAfterMs },
  suspended: (...awaiting: number[]): Outcome => ({ kind: "suspended", awaiting }),
};

/** Feeds records to `apply` at increasing LSNs (one batch each), stamping `atMs` from a manual clock. */
export class Harness {
  readonly state: PartitionState;
  private readonly store: MemoryStateStore;
  lsn = 0;
  nowMs = 1_000_000;

  constructor(partition = 0, partitions = PARTITIONS) {
    this.state = emptyPartitionState(partition, partitions);
    this.store = new MemoryStateStore(this.state);
  }

  apply(record: RecordInput): Effect[] {
    const stamped = { atMs: this.nowMs, ...record };
    this.lsn += 1;
    return applyBatch(this.store, this.lsn, [stamped])[0]!;
  }

  advance(ms: number): this {
    this.nowMs += ms;
    return this;
  }

  inv(id: InvocationId): Invocation {
    const inv = this.state.invocations.get(id);
    if (inv === undefined) throw new Error(`no invocation ${id}`);
    return inv;
  }
}

export function kinds(effects: Effect[]): EffectKind[] {
  return effects.map((effect) => effect.kind);
}

export function ofKind<K extends EffectKind>(
  effects: Effect[],
  kind: K,
): Array<Extract<Effect, { kind: K }>> {
  return effects.filter((effect): effect is Extract<Effect, { kind: K }> => effect.kind === kind);
}
