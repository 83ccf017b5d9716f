import { InMemoryLogStore, MemoryLogDisk } from "./in-memory-log-store";
import { describeLogStoreContract } from "./log-store.contract";
import { MAX_RECORDS_PER_APPEND } from "./sqlite-log-store";

describeLogStoreContract("InMemoryLogStore", async () => {
  const disk = new MemoryLogDisk();
  const opened = [new InMemoryLogStore(disk)];
  return {
    store: opened[0]!,
    reopen: async () => {
      const store = new InMemoryLogStore(disk);
      opened.push(store);
      return store;
    },
    openAnother: async () => {
      const store = new InMemoryLogStore(disk);
      opened.push(store);
      return store;
    },
    cleanup: async () => {
      for (const store of opened) await store.close();
    },
  };
});

describe("InMemoryLogStore", () => {
  it("loses on a crash exactly the appends that had not resolved; the disk keeps the rest", async () => {
    const disk = new MemoryLogDisk();
    const store = new InMemoryLogStore(disk);
    await store.append(0, 1, [{ n: 1 }]);
    const inFlight = store.append(0, 2, [{ n: 2 }]);

    store.crash();

    await expect(inFlight).rejects.toMatchObject({ code: "STORE_CLOSED" });
    await expect(store.append(0, 2, [{ n: 2 }])).rejects.toMatchObject({ code: "STORE_CLOSED" });
    const restarted = new InMemoryLogStore(disk);
    expect(await restarted.read(0, 0, 10)).toEqual([{ lsn: 1, record: { n: 1 } }]);
    expect(await restarted.lastLsn(0)).toBe(1);
  });

  it("takes MAX_RECORDS_PER_APPEND records in one append and refuses one more", async () => {
    const store = new InMemoryLogStore();
    const records = Array.from({ length: MAX_RECORDS_PER_APPEND }, (_, i) => i);

    await store.append(0, 1, records);
    await expect(store.append(0, MAX_RECORDS_PER_APPEND + 1, [...records, 0])).rejects.toThrow(RangeError);

    expect(await store.lastLsn(0)).toBe(MAX_RECORDS_PER_APPEND);
  });
});
