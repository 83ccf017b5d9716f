/**
 * The partition router outbox delivery uses on a node of a cluster: records for a partition this node
 * leads are appended locally; records for a partition led elsewhere are appended on its leader over
 * the peer listener (`RemoteAppend`). Exactly-once is unchanged: each record carries its `origin`
 * (producer partition, seq) and the receiver drops any seq it already applied, wherever it runs, so a
 * remote append retried after a lost answer is harmless. Reads and health stay local (delivery needs
 * neither for a remote partition).
 */
import type { Effect } from "../core/effects";
import type { LocalPartitionRouter } from "../partition/local-partition-router";
import type { AppendSource, RecordInput } from "../partition/partition-processor";
import type { PartitionHealth, PartitionRouter, PartitionView } from "../partition/partition-router";

/**
 * Appends a record on the node that leads `partition`; rejects with PartitionUnavailableError when no
 * leader is known or it refused (the caller retries later).
 */
export type RemoteAppend = (partition: number, record: RecordInput) => Promise<void>;

export class ClusterDeliveryRouter implements PartitionRouter {
  constructor(
    private readonly local: LocalPartitionRouter,
    private readonly remote: RemoteAppend,
  ) {}

  get partitions(): number {
    return this.local.partitions;
  }

  /** A remote append resolves with no effects: they are the receiver's, dispatched on its node. */
  async append(partition: number, record: RecordInput, source: AppendSource): Promise<Effect[]> {
    if (this.local.health(partition).state !== "elsewhere")
      return this.local.append(partition, record, source);
    await this.remote(partition, record);
    return [];
  }

  view(partition: number): PartitionView {
    return this.local.view(partition);
  }

  health(partition: number): PartitionHealth {
    return this.local.health(partition);
  }
}
