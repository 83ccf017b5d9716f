import { InMemoryPartitionStore, MemoryPartitionDisk } from "./in-memory-partition-store";
import { describePartitionStoreContract } from "./partition-store.contract";

describePartitionStoreContract("InMemoryPartitionStore", async () => {
  const disk = new MemoryPartitionDisk();
  const opened = [new InMemoryPartitionStore(disk)];
  return {
    store: opened[0]!,
    reopen: async () => {
      const store = new InMemoryPartitionStore(disk);
      opened.push(store);
      return store;
    },
    cleanup: async () => {
      for (const store of opened) await store.close();
    },
  };
});

describe("InMemoryPartitionStore", () => {
  it("keeps every resolved write across a crash and refuses calls after it", async () => {
    const disk = new MemoryPartitionDisk();
    const store = new InMemoryPartitionStore(disk);
    const state = { invocations: ["a"] };
    await store.saveSnapshot(0, { lsn: 4, state });
    state.invocations.push("changed after the save");

    store.crash();

    await expect(store.putMeta("k", 1)).rejects.toMatchObject({ code: "STORE_CLOSED" });
    const restarted = new InMemoryPartitionStore(disk);
    expect(await restarted.loadSnapshot(0)).toEqual({ lsn: 4, state: { invocations: ["a"] } });
  });
});
