import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { MemorySnapshotData, MemorySnapshotStore } from "./memory-snapshot-store";
import { SnapshotTooLargeError } from "./snapshot-store";
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

describe("MemorySnapshotStore", () => {
  it("takes an object of exactly its limit and refuses one byte more, stored nothing", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "capstan-memory-snapshots-"));
    try {
      const data = new MemorySnapshotData();
      const store = new MemorySnapshotStore(data, 10);
      const file = path.join(dir, "state.db");
      fs.writeFileSync(file, Buffer.alloc(11));

      expect(await store.put(0, 1, 1, new Uint8Array(10))).toBe(true);
      await expect(store.put(0, 2, 1, new Uint8Array(11))).rejects.toBeInstanceOf(SnapshotTooLargeError);
      await expect(store.putFile(0, 3, 1, file)).rejects.toMatchObject({ code: "STORE_SNAPSHOT_TOO_LARGE" });
      expect((await store.list(0)).map((r) => r.lsn)).toEqual([1]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
