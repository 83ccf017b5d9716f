/**
 * What one batch of records changed in a partition's state, as data: per table, key → new value, or
 * `null` for a deletion. `apply` (through StateTx) produces it; a PartitionStateStore commits it in
 * one atomic step with `appliedLsn`. Values are owned by the write set (never shared with a record or
 * another batch), so a store may keep them as they are.
 *
 * Adding a table: a field here, a read in PartitionStateReader, an overlay in StateTx, and a case in
 * each store's commit.
 */
import type { Completion, InvocationId, Payload } from "@capstan/sdk/protocol";
import type { EntryRef, Invocation, OutboxEntry, PartitionState, Timer } from "./state";

export interface WriteSet {
  /** LSN of the batch's last record: the store's applied LSN once committed. */
  appliedLsn: number;
  nextOutboxSeq: number;
  /** Producer partition → highest outbox seq applied from it. */
  inboundSeq: Map<number, number>;
  invocations: Map<InvocationId, Invocation | null>;
  idempotency: Map<string, InvocationId | null>;
  workflows: Map<string, InvocationId | null>;
  /** Whole object state per `service/key` (replaced as a whole; null: the object has no state left). */
  objectState: Map<string, Map<string, Payload> | null>;
  locks: Map<string, InvocationId | null>;
  inboxes: Map<string, InvocationId[] | null>;
  timers: Map<string, Timer | null>;
  promises: Map<string, Completion | null>;
  promiseWaiters: Map<string, EntryRef[] | null>;
  /** Outbox entries by seq. */
  outbox: Map<number, OutboxEntry | null>;
}

/** Nothing changed yet; applied LSN and outbox seq as the store had them. */
export function emptyWriteSet(appliedLsn: number, nextOutboxSeq: number): WriteSet {
  return {
    appliedLsn,
    nextOutboxSeq,
    inboundSeq: new Map(),
    invocations: new Map(),
    idempotency: new Map(),
    workflows: new Map(),
    objectState: new Map(),
    locks: new Map(),
    inboxes: new Map(),
    timers: new Map(),
    promises: new Map(),
    promiseWaiters: new Map(),
    outbox: new Map(),
  };
}

/**
 * The write set that turns an empty store into `state` (importing a JSON snapshot into a store).
 *
 * @example
 * store.commit(writeSetOfState(deserializeState(snapshot.state))); // store now reads like the snapshot
 */
export function writeSetOfState(state: PartitionState): WriteSet {
  const writes = emptyWriteSet(state.appliedLsn, state.nextOutboxSeq);
  for (const [producer, seq] of state.inboundSeq) writes.inboundSeq.set(producer, seq);
  for (const [id, inv] of state.invocations) writes.invocations.set(id, inv);
  for (const [key, id] of state.idempotency) writes.idempotency.set(key, id);
  for (const [key, id] of state.workflows) writes.workflows.set(key, id);
  for (const [key, values] of state.objectState) writes.objectState.set(key, new Map(values));
  for (const [key, id] of state.locks) writes.locks.set(key, id);
  for (const [key, ids] of state.inboxes) writes.inboxes.set(key, [...ids]);
  for (const [id, timer] of state.timers) writes.timers.set(id, timer);
  for (const [key, completion] of state.promises) writes.promises.set(key, completion);
  for (const [key, waiters] of state.promiseWaiters) writes.promiseWaiters.set(key, [...waiters]);
  for (const entry of state.outbox) writes.outbox.set(entry.seq, entry);
  return writes;
}

/**
 * Lays `later` (the write set of a batch after `into`'s) over `into`: `into` then holds what both
 * batches wrote, as one batch would have. Every value replaces a key's whole value, so the later
 * one wins. `later`'s values move into `into` (write sets own their values).
 *
 * @example
 * mergeWriteSets(pending, batchWrites); // pending.appliedLsn is now batchWrites.appliedLsn
 */
export function mergeWriteSets(into: WriteSet, later: WriteSet): void {
  into.appliedLsn = later.appliedLsn;
  into.nextOutboxSeq = later.nextOutboxSeq;
  for (const table of KEYED_TABLES) {
    const target = into[table] as Map<unknown, unknown>;
    for (const [key, value] of later[table] as Map<unknown, unknown>) target.set(key, value);
  }
}

/** How many keys a write set writes or deletes, over all tables. */
export function writeSetSize(writes: WriteSet): number {
  let size = 0;
  for (const table of KEYED_TABLES) size += writes[table].size;
  return size;
}

/** The write set's tables (every field but the two counters). */
const KEYED_TABLES = [
  "inboundSeq",
  "invocations",
  "idempotency",
  "workflows",
  "objectState",
  "locks",
  "inboxes",
  "timers",
  "promises",
  "promiseWaiters",
  "outbox",
] as const satisfies ReadonlyArray<Exclude<keyof WriteSet, "appliedLsn" | "nextOutboxSeq">>;
/** A table added to WriteSet but not to KEYED_TABLES fails to compile here. */
const EVERY_TABLE_MERGED: [
  Exclude<keyof WriteSet, "appliedLsn" | "nextOutboxSeq" | (typeof KEYED_TABLES)[number]>,
] extends [never]
  ? true
  : never = true;
void EVERY_TABLE_MERGED;
