/**
 * PartitionStateStores that play a partition moving to another node at every open: each open is on
 * new ShippedSqliteStateStores over an empty data directory, so only the shipped snapshot (and the
 * log after it) can carry the state. For the PartitionStateStores contract runs of the shipped stores.
 */
import type { PartitionStateStores } from "../partition-state-store";
import { ShippedSqliteStateStores } from "../shipped-sqlite-state-stores";
import type { SnapshotStore } from "../snapshot-store";

export function movingNodeStores(
  snapshots: () => SnapshotStore,
  newDataDir: () => string,
  logName: string,
): PartitionStateStores & { closeAll(): void } {
  const opened: ShippedSqliteStateStores[] = [];
  return {
    async open(partition, partitions) {
      const stores = new ShippedSqliteStateStores({
        dataDir: newDataDir(),
        logName,
        snapshots: snapshots(),
        epochOf: () => 1,
      });
      opened.push(stores);
      return stores.open(partition, partitions);
    },
    closeAll: () => opened.forEach((s) => s.close()),
  };
}
