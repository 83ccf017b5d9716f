/**
 * Port: snapshots of partition state (so recovery replays only the log after them) and the cluster's
 * metadata (registered deployments). Implementations: SqlitePartitionStore; later an S3/DynamoDB one.
 */
export interface Snapshot {
  lsn: number;
  /** Serialized PartitionState (see core/snapshot.ts). */
  state: unknown;
}

export interface PartitionStore {
  loadSnapshot(partition: number): Promise<Snapshot | undefined>;
  /** Durable on resolve. A snapshot never goes backwards: an older lsn than the stored one is ignored. */
  saveSnapshot(partition: number, snapshot: Snapshot): Promise<void>;
  /** Metadata documents (deployments, ...) by key; durable on resolve. */
  getMeta(key: string): Promise<unknown>;
  putMeta(key: string, value: unknown): Promise<void>;
  listMeta(prefix: string): Promise<Array<{ key: string; value: unknown }>>;
  deleteMeta(key: string): Promise<void>;
  close(): Promise<void>;
}
