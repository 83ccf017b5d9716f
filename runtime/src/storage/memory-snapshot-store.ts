/**
 * The SnapshotStore in memory, for unit tests and the simulation. Several instances share one
 * `MemorySnapshotData` to play several nodes over one bucket and table.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import { Readable } from "node:stream";
import { streamToFile } from "./durable-file";
import {
  MAX_SNAPSHOT_BYTES,
  SNAPSHOTS_KEPT,
  SnapshotFencedError,
  SnapshotMissingError,
  SnapshotTooLargeError,
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
  constructor(
    readonly data: MemorySnapshotData = new MemorySnapshotData(),
    /** Largest object accepted (as S3's single PUT limit). */
    private readonly maxObjectBytes = MAX_SNAPSHOT_BYTES,
  ) {}

  async putFile(partition: number, lsn: number, epoch: number, file: string): Promise<boolean> {
    checkSnapshotArgs(partition, lsn, epoch);
    const { size } = await fs.promises.stat(file);
    if (size > this.maxObjectBytes) throw new SnapshotTooLargeError(partition, size, this.maxObjectBytes);
    // In memory by nature: this store holds its objects in the heap.
    return this.put(partition, lsn, epoch, await fs.promises.readFile(file));
  }

  async download(ref: SnapshotRef, file: string): Promise<void> {
    const bytes = this.data.objects.get(ref.key);
    if (bytes === undefined) throw new SnapshotMissingError(ref.key);
    await streamToFile(Readable.from([Buffer.from(bytes)]), file);
  }

  async put(partition: number, lsn: number, epoch: number, bytes: Uint8Array): Promise<boolean> {
    checkSnapshotArgs(partition, lsn, epoch);
    if (bytes.length > this.maxObjectBytes) {
      throw new SnapshotTooLargeError(partition, bytes.length, this.maxObjectBytes);
    }
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
