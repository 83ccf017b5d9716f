/**
 * A PartitionStore in this process's memory, for unit tests and the seeded simulation. Its durable
 * part is a `MemoryPartitionDisk` that outlives the store (a new store over it is a restart). Every
 * write is durable when it resolves, as the port requires; values are kept as JSON text, so callers
 * never share objects with the store.
 */
import type { PartitionStore, Snapshot } from "./partition-store";
import { StoreClosedError } from "./store-errors";

/** The durable part: what survives a crash of the store's process. */
export class MemoryPartitionDisk {
  readonly snapshots = new Map<number, { lsn: number; state: string }>();
  readonly meta = new Map<string, string>();
}

export class InMemoryPartitionStore implements PartitionStore {
  private open = true;

  constructor(readonly disk: MemoryPartitionDisk = new MemoryPartitionDisk()) {}

  async loadSnapshot(partition: number): Promise<Snapshot | undefined> {
    this.assertOpen();
    const s = this.disk.snapshots.get(partition);
    return s === undefined ? undefined : { lsn: s.lsn, state: JSON.parse(s.state) as unknown };
  }

  async saveSnapshot(partition: number, snapshot: Snapshot): Promise<void> {
    this.assertOpen();
    const current = this.disk.snapshots.get(partition);
    if (current !== undefined && current.lsn > snapshot.lsn) return;
    this.disk.snapshots.set(partition, { lsn: snapshot.lsn, state: JSON.stringify(snapshot.state) });
  }

  async getMeta(key: string): Promise<unknown> {
    this.assertOpen();
    const text = this.disk.meta.get(key);
    return text === undefined ? undefined : (JSON.parse(text) as unknown);
  }

  async putMeta(key: string, value: unknown): Promise<void> {
    this.assertOpen();
    this.disk.meta.set(key, JSON.stringify(value));
  }

  async listMeta(prefix: string): Promise<Array<{ key: string; value: unknown }>> {
    this.assertOpen();
    return [...this.disk.meta]
      .filter(([key]) => key.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, text]) => ({ key, value: JSON.parse(text) as unknown }));
  }

  async deleteMeta(key: string): Promise<void> {
    this.assertOpen();
    this.disk.meta.delete(key);
  }

  async close(): Promise<void> {
    this.open = false;
  }

  /** The process died: this store refuses every further call; the disk keeps every resolved write. */
  crash(): void {
    this.open = false;
  }

  private assertOpen(): void {
    if (!this.open) throw new StoreClosedError("InMemoryPartitionStore");
  }
}
