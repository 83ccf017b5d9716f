/**
 * The in-memory PartitionStateStore: today's maps (PartitionState), for unit tests, the simulation
 * and snapshots as JSON (core/snapshot.ts). Reads return the maps' own objects: StateTx writes back
 * every invocation it hands out, and every other value is replaced rather than changed in place, so
 * sharing is safe as long as a batch whose `apply` threw is never committed (the processor stops).
 */
import type { Completion, InvocationId, Payload } from "@capstan/sdk/protocol";
import type { PartitionStateStore } from "./state-reader";
import type { EntryRef, Invocation, OutboxEntry, PartitionState, Timer } from "./state";
import type { WriteSet } from "./write-set";

/**
 * @example
 * const store = new MemoryStateStore(emptyPartitionState(0, 16));
 * applyBatch(store, 1, records); // commits the batch's writes into store.state
 */
export class MemoryStateStore implements PartitionStateStore {
  constructor(readonly state: PartitionState) {}

  get partition(): number {
    return this.state.partition;
  }

  get partitions(): number {
    return this.state.partitions;
  }

  appliedLsn(): number {
    return this.state.appliedLsn;
  }

  nextOutboxSeq(): number {
    return this.state.nextOutboxSeq;
  }

  inboundSeq(partition: number): number {
    return this.state.inboundSeq.get(partition) ?? 0;
  }

  invocation(id: InvocationId): Invocation | undefined {
    return this.state.invocations.get(id);
  }

  idempotency(key: string): InvocationId | undefined {
    return this.state.idempotency.get(key);
  }

  workflow(key: string): InvocationId | undefined {
    return this.state.workflows.get(key);
  }

  objectState(key: string): ReadonlyMap<string, Payload> | undefined {
    return this.state.objectState.get(key);
  }

  lock(key: string): InvocationId | undefined {
    return this.state.locks.get(key);
  }

  inbox(key: string): readonly InvocationId[] | undefined {
    return this.state.inboxes.get(key);
  }

  timer(id: string): Timer | undefined {
    return this.state.timers.get(id);
  }

  promise(key: string): Completion | undefined {
    return this.state.promises.get(key);
  }

  promiseKeysWithPrefix(prefix: string): string[] {
    return [...this.state.promises.keys()].filter((key) => key.startsWith(prefix));
  }

  promiseWaiters(key: string): readonly EntryRef[] | undefined {
    return this.state.promiseWaiters.get(key);
  }

  outbox(): OutboxEntry[] {
    return [...this.state.outbox];
  }

  outboxUpTo(toPartition: number, upToSeq: number): OutboxEntry[] {
    return this.state.outbox.filter((entry) => entry.toPartition === toPartition && entry.seq <= upToSeq);
  }

  runningInvocations(): Invocation[] {
    return [...this.state.invocations.values()].filter((inv) => inv.status === "running");
  }

  timers(): Timer[] {
    return [...this.state.timers.values()];
  }

  commit(writes: WriteSet): void {
    const { state } = this;
    state.appliedLsn = writes.appliedLsn;
    state.nextOutboxSeq = writes.nextOutboxSeq;
    for (const [partition, seq] of writes.inboundSeq) state.inboundSeq.set(partition, seq);
    put(state.invocations, writes.invocations);
    put(state.idempotency, writes.idempotency);
    put(state.workflows, writes.workflows);
    put(state.objectState, writes.objectState);
    put(state.locks, writes.locks);
    put(state.inboxes, writes.inboxes);
    put(state.timers, writes.timers);
    put(state.promises, writes.promises);
    put(state.promiseWaiters, writes.promiseWaiters);
    if (writes.outbox.size > 0) {
      const outbox = state.outbox.filter((entry) => !writes.outbox.has(entry.seq));
      for (const entry of writes.outbox.values()) if (entry !== null) outbox.push(entry);
      state.outbox = outbox.sort((a, b) => a.seq - b.seq);
    }
  }
}

function put<K, V>(table: Map<K, V>, writes: Map<K, V | null>): void {
  for (const [key, value] of writes) {
    if (value === null) table.delete(key);
    else table.set(key, value);
  }
}
