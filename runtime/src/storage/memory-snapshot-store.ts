/**
 * The SnapshotStore in memory, for unit tests and the simulation. Several instances share one
 * `MemorySnapshotData` to play several nodes over one bucket and table.
 */
import { randomUUID } from "node:crypto";
import {
  SNAPSHOTS_KEPT,
  SnapshotFencedError,
  checkSnapshotArgs,
  snapshotObjectKey,
  type SnapshotRef,
  type SnapshotStore,
} from "./snapshot-store";

/** What an S3 bucket and the pointer items would hold. */
export class MemorySnapshotData {
  readonly objects = new Map<string, Uint8Array>();
  /** Per partition, the kept snapshots, newest first (the first is the pointer). */
  readonly pointers = new Map<number, SnapshotRef[]>();

  objectCount(partition: number): number {
    return [...this.objects.keys()].filter((k) => k.startsWith(`snap/${partition}/`)).length;
  }
}

/**
 * @example
 * const data = new MemorySnapshotData();
 * const store = new MemorySnapshotStore(data);
 * await store.put(0, 120, 3, bytes); // the pointer of partition 0 moves to lsn 120
 */
export class MemorySnapshotStore implements SnapshotStore {
  constructor(readonly data: MemorySnapshotData = new MemorySnapshotData()) {}

  async put(partition: number, lsn: number, epoch: number, bytes: Uint8Array): Promise<boolean> {
    checkSnapshotArgs(partition, lsn, epoch);
    const kept = this.data.pointers.get(partition) ?? [];
    const newest = kept[0];
    if (newest !== undefined && newest.epoch > epoch) {
      throw new SnapshotFencedError(partition, epoch, newest.epoch);
    }
    if (newest !== undefined && newest.lsn >= lsn) return false;
    const key = snapshotObjectKey(partition, lsn, epoch, randomUUID());
    this.data.objects.set(key, Uint8Array.from(bytes));
    const next = [{ lsn, epoch, key }, ...kept];
    this.data.pointers.set(partition, next.slice(0, SNAPSHOTS_KEPT));
    for (const dropped of next.slice(SNAPSHOTS_KEPT)) this.data.objects.delete(dropped.key);
    return true;
  }

  async latest(partition: number): Promise<(SnapshotRef & { bytes: Uint8Array }) | undefined> {
    const newest = this.data.pointers.get(partition)?.[0];
    if (newest === undefined) return undefined;
    return { ...newest, bytes: Uint8Array.from(this.data.objects.get(newest.key)!) };
  }

  async list(partition: number): Promise<SnapshotRef[]> {
    return (this.data.pointers.get(partition) ?? []).map((r) => ({ ...r }));
  }

  async close(): Promise<void> {}
}
