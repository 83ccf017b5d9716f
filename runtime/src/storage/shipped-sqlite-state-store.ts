/**
 * One partition's state in DynamoDB mode: its SQLite file on this node's disk (SqliteStateStore, read
 * and committed exactly as in the embedded mode), whose `persist()` ships the file to the snapshot
 * store instead of only fsyncing it.
 *
 * A snapshot is a consistent copy of the file at an applied LSN (SQLite's online backup, in steps
 * between which the event loop runs), streamed to the SnapshotStore under the epoch this node holds
 * for the partition and then deleted. `persist()` resolves with that LSN only once the pointer names
 * it (or a newer snapshot): the processor trims the log below that LSN, and the log below it is then
 * never needed again by any node. Nothing is fsync'd locally: the copy in S3 is what outlives this
 * node, and a local file is only ever used when it is at or beyond that copy.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Completion, InvocationId, Payload } from "@capstan/sdk/protocol";
import type { EntryRef, Invocation, InvocationStatus, OutboxEntry, Timer } from "../core/state";
import type { TimerKey } from "../core/timers";
import type { WriteSet } from "../core/write-set";
import type { InvocationListFilter, PartitionStateHandle } from "./partition-state-store";
import type { SnapshotStore } from "./snapshot-store";
import type { SqliteStateStore } from "./sqlite-state-store";

/** Suffix of the temporary copy a snapshot is uploaded from (`p<N>.<uuid>.snapshot`). */
export const SNAPSHOT_COPY_SUFFIX = ".snapshot";

export interface ShippedStateShipping {
  snapshots: SnapshotStore;
  /** The fence epoch this node holds for the partition: a snapshot by a lost leadership is refused. */
  epochOf(partition: number): number;
}

/**
 * @example
 * const state = await stores.open(3, 16); // a ShippedSqliteStateStore
 * const lsn = await state.persist(); // the file at lsn is in S3 and the pointer names it
 * await logStore.trim(3, lsn);
 */
export class ShippedSqliteStateStore implements PartitionStateHandle {
  /** The shipping in progress, if any: a persist during it waits for it and ships again. */
  private shipping: Promise<number> | undefined;

  constructor(
    private readonly store: SqliteStateStore,
    private readonly shippingTo: ShippedStateShipping,
  ) {}

  get partition(): number {
    return this.store.partition;
  }

  get partitions(): number {
    return this.store.partitions;
  }

  /** The local state file. */
  get file(): string {
    return this.store.file;
  }

  async persist(): Promise<number> {
    while (this.shipping !== undefined) await this.shipping.catch(() => undefined);
    const shipping = this.ship();
    this.shipping = shipping;
    try {
      return await shipping;
    } finally {
      if (this.shipping === shipping) this.shipping = undefined;
    }
  }

  private async ship(): Promise<number> {
    const copy = path.join(
      path.dirname(this.store.file),
      `p${this.partition}.${randomUUID()}${SNAPSHOT_COPY_SUFFIX}`,
    );
    try {
      const lsn = await this.store.copyTo(copy);
      if (lsn === 0) return 0; // nothing applied yet: nothing to ship, nothing to trim
      // `false`: the pointer is at lsn or beyond already, which covers the log up to lsn as well.
      await this.shippingTo.snapshots.putFile(
        this.partition,
        lsn,
        this.shippingTo.epochOf(this.partition),
        copy,
      );
      return lsn;
    } finally {
      // With what opening the copy to read its LSN may have left beside it.
      for (const f of [copy, `${copy}-wal`, `${copy}-shm`]) await fs.promises.rm(f, { force: true });
    }
  }

  flush(): void {
    this.store.flush();
  }

  close(): void {
    this.store.close();
  }

  // Everything else is the SQLite store's.

  commit(writes: WriteSet): void {
    this.store.commit(writes);
  }
  appliedLsn(): number {
    return this.store.appliedLsn();
  }
  nextOutboxSeq(): number {
    return this.store.nextOutboxSeq();
  }
  inboundSeq(partition: number): number {
    return this.store.inboundSeq(partition);
  }
  invocation(id: InvocationId): Invocation | undefined {
    return this.store.invocation(id);
  }
  idempotency(key: string): InvocationId | undefined {
    return this.store.idempotency(key);
  }
  workflow(key: string): InvocationId | undefined {
    return this.store.workflow(key);
  }
  objectState(key: string): ReadonlyMap<string, Payload> | undefined {
    return this.store.objectState(key);
  }
  lock(key: string): InvocationId | undefined {
    return this.store.lock(key);
  }
  inbox(key: string): readonly InvocationId[] | undefined {
    return this.store.inbox(key);
  }
  timer(id: string): Timer | undefined {
    return this.store.timer(id);
  }
  promise(key: string): Completion | undefined {
    return this.store.promise(key);
  }
  promiseKeysWithPrefix(prefix: string): string[] {
    return this.store.promiseKeysWithPrefix(prefix);
  }
  promiseWaiters(key: string): readonly EntryRef[] | undefined {
    return this.store.promiseWaiters(key);
  }
  outbox(): OutboxEntry[] {
    return this.store.outbox();
  }
  outboxUpTo(toPartition: number, upToSeq: number): OutboxEntry[] {
    return this.store.outboxUpTo(toPartition, upToSeq);
  }
  runningInvocations(): Invocation[] {
    return this.store.runningInvocations();
  }
  timers(): Timer[] {
    return this.store.timers();
  }
  listInvocations(filter: InvocationListFilter, limit: number): Invocation[] {
    return this.store.listInvocations(filter, limit);
  }
  countInvocationsByStatus(): Map<InvocationStatus, number> {
    return this.store.countInvocationsByStatus();
  }
  invocationsPage(afterId: InvocationId | undefined, limit: number): Invocation[] {
    return this.store.invocationsPage(afterId, limit);
  }
  objectStatesPage(afterKey: string | undefined, limit: number): Array<[string, Map<string, Payload>]> {
    return this.store.objectStatesPage(afterKey, limit);
  }
  timersPage(after: TimerKey | undefined, limit: number): Timer[] {
    return this.store.timersPage(after, limit);
  }
  timerCount(): number {
    return this.store.timerCount();
  }
}
