/**
 * The synchronous read side of a partition's state: point lookups by key, plus the few bounded scans
 * `apply` needs (recover, outbox-delivered, removing a workflow's promises). `apply` reads only
 * through this interface (via StateTx), so the state may live in memory (MemoryStateStore) or on disk
 * behind a cache, and `apply` cannot tell.
 *
 * Values returned are owned by the reader's caller for the batch: StateTx hands each invocation out
 * once per batch and writes back every invocation it handed out (see state-tx.ts).
 */
import type { Completion, InvocationId, Payload } from "@capstan/sdk/protocol";
import type { EntryRef, Invocation, OutboxEntry, Timer } from "./state";
import type { WriteSet } from "./write-set";

export interface PartitionStateReader {
  readonly partition: number;
  /** Partition count of the cluster: fixed, needed to derive child invocation ids. */
  readonly partitions: number;
  /** LSN of the last record applied. */
  appliedLsn(): number;
  /** Next outbox sequence number to hand out (per producer, shared by all destinations). */
  nextOutboxSeq(): number;
  /** Highest outbox seq applied from producer `partition` (0: none). */
  inboundSeq(partition: number): number;
  invocation(id: InvocationId): Invocation | undefined;
  /** `idempotencyTableKey(target, key)` → invocation. */
  idempotency(key: string): InvocationId | undefined;
  /** `service/workflowId` → the workflow's `run` invocation. */
  workflow(key: string): InvocationId | undefined;
  /** `service/key` → that object's K/V state (undefined when it has none). */
  objectState(key: string): ReadonlyMap<string, Payload> | undefined;
  /** `service/key` → invocation holding the exclusive lock. */
  lock(key: string): InvocationId | undefined;
  /** `service/key` → exclusive invocations waiting, in arrival order. */
  inbox(key: string): readonly InvocationId[] | undefined;
  timer(id: string): Timer | undefined;
  /** `promiseKey(target, name)` → completion. */
  promise(key: string): Completion | undefined;
  /** Keys of the completed promises starting with `prefix` (one workflow's promises). */
  promiseKeysWithPrefix(prefix: string): string[];
  /** Entries waiting on `promiseGet` of that promise. */
  promiseWaiters(key: string): readonly EntryRef[] | undefined;
  /** Undelivered outbox entries, in seq order (recover re-sends them all). */
  outbox(): OutboxEntry[];
  /** Undelivered outbox entries for `toPartition` with seq ≤ `upToSeq`. */
  outboxUpTo(toPartition: number, upToSeq: number): OutboxEntry[];
  /** Invocations with status `running` (recover restarts them). */
  runningInvocations(): Invocation[];
  /** Every timer (recover re-arms them). */
  timers(): Timer[];
}

/**
 * Port: a partition's state with its write side. `commit` applies one batch's write set atomically,
 * together with the write set's applied LSN; implementations: MemoryStateStore (core, tests and the
 * simulation) and the SQLite store (storage/).
 */
export interface PartitionStateStore extends PartitionStateReader {
  commit(writes: WriteSet): void;
}
