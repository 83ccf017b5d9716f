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

  /**
   * A remote append resolves with no effects: they are the receiver's, dispatched on its node.
   *
   * Records of one producer for one receiver arrive in seq order, or not at all: the receiver drops
   * any seq at or below the last it applied, so a later seq landing first would lose the earlier ones.
   * A local partition keeps order by its queue; remote appends are sent one after the other per
   * (producer, receiver) pair, each after the previous one of the pair succeeded (a failure fails the
   * rest of the burst unsent, and delivery retries from the first), and a local append waits for a
   * remote one before it.
   */
  append(partition: number, record: RecordInput, source: AppendSource): Promise<Effect[]> {
    const pair = `${record.origin?.partition ?? "-"}:${partition}`;
    const previous = this.tails.get(pair);
    const local = this.local.health(partition).state !== "elsewhere";
    let sent: Promise<Effect[]>;
    if (local) {
      sent =
        previous?.remote === true
          ? previous.done.then(() => this.local.append(partition, record, source))
          : this.local.append(partition, record, source);
    } else {
      const send = async (): Promise<Effect[]> => {
        await this.remote(partition, record);
        return [];
      };
      sent = previous === undefined ? send() : previous.done.then(send);
    }
    const tail = { done: sent, remote: !local };
    this.tails.set(pair, tail);
    const clear = (): void => {
      if (this.tails.get(pair) === tail) this.tails.delete(pair);
    };
    sent.then(clear, clear);
    return sent;
  }

  /** The last append per (producer, receiver) pair still in flight. */
  private readonly tails = new Map<string, { done: Promise<unknown>; remote: boolean }>();

  view(partition: number): PartitionView {
    return this.local.view(partition);
  }

  health(partition: number): PartitionHealth {
    return this.local.health(partition);
  }
}
