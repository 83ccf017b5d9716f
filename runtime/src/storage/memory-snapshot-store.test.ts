import { MemorySnapshotData, MemorySnapshotStore } from "./memory-snapshot-store";
import { describeSnapshotStoreContract } from "./snapshot-store.contract";

describeSnapshotStoreContract("MemorySnapshotStore", async () => {
  const data = new MemorySnapshotData();
  return {
    store: new MemorySnapshotStore(data),
    openAnother: async () => new MemorySnapshotStore(data),
    objectCount: async (partition) => data.objectCount(partition),
    cleanup: async () => undefined,
  };
});
