/**
 * One batch's view of a partition's state: reads go to the batch's own writes first, then to the
 * store, so a record sees the writes of the records before it in the same batch; writes only
 * accumulate in the write set, which the processor commits once for the batch.
 *
 * Invocations are mutable objects that the record handlers change in place (journal entries, status,
 * counters) all over core/. Rather than ask every such change to be reported, StateTx treats every
 * invocation it hands out as written ("read for update"): it caches the object for the batch (so two
 * reads return the same object) and puts it in the write set. A forgotten write cannot be lost that
 * way; the cost is a rewrite of an invocation a record only looked at. Every other table holds
 * values that are replaced, never changed in place (`ReadonlyMap`, `readonly` arrays, timers).
 */
import type { Completion, InvocationId, Payload } from "@capstan/sdk/protocol";
import type { PartitionStateReader } from "./state-reader";
import type { EntryRef, Invocation, OutboxEntry, Timer } from "./state";
import { emptyWriteSet, type WriteSet } from "./write-set";
import {
  outboxThrough,
  promiseKeysThrough,
  readThrough as read,
  runningThrough,
  timersThrough,
} from "./write-set-reads";

export class StateTx implements PartitionStateReader {
  private readonly writes: WriteSet;

  constructor(private readonly base: PartitionStateReader) {
    this.writes = emptyWriteSet(base.appliedLsn(), base.nextOutboxSeq());
  }

  get partition(): number {
    return this.base.partition;
  }

  get partitions(): number {
    return this.base.partitions;
  }

  /** The batch's writes so far, as data (commit them with `PartitionStateStore.commit`). */
  writeSet(): WriteSet {
    return this.writes;
  }

  appliedLsn(): number {
    return this.writes.appliedLsn;
  }

  setAppliedLsn(lsn: number): void {
    this.writes.appliedLsn = lsn;
  }

  nextOutboxSeq(): number {
    return this.writes.nextOutboxSeq;
  }

  /** Hands out the next outbox seq. */
  takeOutboxSeq(): number {
    return this.writes.nextOutboxSeq++;
  }

  inboundSeq(partition: number): number {
    return this.writes.inboundSeq.get(partition) ?? this.base.inboundSeq(partition);
  }

  setInboundSeq(partition: number, seq: number): void {
    this.writes.inboundSeq.set(partition, seq);
  }

  invocation(id: InvocationId): Invocation | undefined {
    const written = this.writes.invocations.get(id);
    if (written !== undefined) return written ?? undefined;
    const inv = this.base.invocation(id);
    if (inv !== undefined) this.writes.invocations.set(id, inv);
    return inv;
  }

  putInvocation(inv: Invocation): void {
    this.writes.invocations.set(inv.id, inv);
  }

  deleteInvocation(id: InvocationId): void {
    this.writes.invocations.set(id, null);
  }

  idempotency(key: string): InvocationId | undefined {
    return read(this.writes.idempotency, key, (k) => this.base.idempotency(k));
  }

  setIdempotency(key: string, id: InvocationId | undefined): void {
    this.writes.idempotency.set(key, id ?? null);
  }

  workflow(key: string): InvocationId | undefined {
    return read(this.writes.workflows, key, (k) => this.base.workflow(k));
  }

  setWorkflow(key: string, id: InvocationId | undefined): void {
    this.writes.workflows.set(key, id ?? null);
  }

  objectState(key: string): ReadonlyMap<string, Payload> | undefined {
    return read(this.writes.objectState, key, (k) => this.base.objectState(k));
  }

  /** Replaces the object's whole state; an empty map (or undefined) removes it. */
  setObjectState(key: string, state: Map<string, Payload> | undefined): void {
    this.writes.objectState.set(key, state === undefined || state.size === 0 ? null : state);
  }

  lock(key: string): InvocationId | undefined {
    return read(this.writes.locks, key, (k) => this.base.lock(k));
  }

  setLock(key: string, id: InvocationId | undefined): void {
    this.writes.locks.set(key, id ?? null);
  }

  inbox(key: string): readonly InvocationId[] | undefined {
    return read(this.writes.inboxes, key, (k) => this.base.inbox(k));
  }

  /** Replaces the key's inbox; an empty one (or undefined) removes it. */
  setInbox(key: string, ids: InvocationId[] | undefined): void {
    this.writes.inboxes.set(key, ids === undefined || ids.length === 0 ? null : ids);
  }

  timer(id: string): Timer | undefined {
    return read(this.writes.timers, id, (k) => this.base.timer(k));
  }

  putTimer(timer: Timer): void {
    this.writes.timers.set(timer.id, timer);
  }

  /** True when the timer existed. */
  deleteTimer(id: string): boolean {
    if (this.timer(id) === undefined) return false;
    this.writes.timers.set(id, null);
    return true;
  }

  promise(key: string): Completion | undefined {
    return read(this.writes.promises, key, (k) => this.base.promise(k));
  }

  setPromise(key: string, completion: Completion | undefined): void {
    this.writes.promises.set(key, completion ?? null);
  }

  promiseKeysWithPrefix(prefix: string): string[] {
    return promiseKeysThrough(this.base.promiseKeysWithPrefix(prefix), this.writes.promises, prefix);
  }

  promiseWaiters(key: string): readonly EntryRef[] | undefined {
    return read(this.writes.promiseWaiters, key, (k) => this.base.promiseWaiters(k));
  }

  /** Replaces the promise's waiters; an empty list (or undefined) removes them. */
  setPromiseWaiters(key: string, waiters: EntryRef[] | undefined): void {
    this.writes.promiseWaiters.set(key, waiters === undefined || waiters.length === 0 ? null : waiters);
  }

  outbox(): OutboxEntry[] {
    return outboxThrough(this.base.outbox(), this.writes.outbox, () => true);
  }

  outboxUpTo(toPartition: number, upToSeq: number): OutboxEntry[] {
    return outboxThrough(
      this.base.outboxUpTo(toPartition, upToSeq),
      this.writes.outbox,
      (entry) => entry.toPartition === toPartition && entry.seq <= upToSeq,
    );
  }

  putOutbox(entry: OutboxEntry): void {
    this.writes.outbox.set(entry.seq, entry);
  }

  deleteOutbox(seq: number): void {
    this.writes.outbox.set(seq, null);
  }

  /** In id order, whatever the store's order, so effects derived from it do not depend on the store. */
  runningInvocations(): Invocation[] {
    // Read for update, as every invocation handed out.
    for (const inv of this.base.runningInvocations()) {
      if (!this.writes.invocations.has(inv.id)) this.writes.invocations.set(inv.id, inv);
    }
    return runningThrough([], this.writes.invocations);
  }

  /** In id order (see runningInvocations). */
  timers(): Timer[] {
    return timersThrough(this.base.timers(), this.writes.timers);
  }
}
