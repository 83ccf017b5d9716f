import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describePartitionStoreContract } from "./partition-store.contract";
import { StoreClosedError } from "./sqlite-database";
import { MAX_META_KEY_LENGTH, SqlitePartitionStore } from "./sqlite-partition-store";
import { openSqliteStores } from "./sqlite-stores";

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "capstan-partition-"));
}

describePartitionStoreContract("SqlitePartitionStore", async () => {
  const dir = tempDir();
  const opened: SqlitePartitionStore[] = [SqlitePartitionStore.open(dir)];
  return {
    store: opened[0]!,
    reopen: async () => {
      const store = SqlitePartitionStore.open(dir);
      opened.push(store);
      return store;
    },
    cleanup: async () => {
      for (const store of opened) await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe("SqlitePartitionStore", () => {
  it("shares one file with the log store and bounds meta keys", async () => {
    const dir = tempDir();
    const stores = openSqliteStores(dir);
    await stores.logStore.append(0, 1, ["r"]);
    await stores.partitionStore.saveSnapshot(0, { lsn: 1, state: { applied: 1 } });

    await stores.partitionStore.putMeta("k".repeat(MAX_META_KEY_LENGTH), true);
    await expect(stores.partitionStore.putMeta("k".repeat(MAX_META_KEY_LENGTH + 1), true)).rejects.toThrow(
      RangeError,
    );
    await expect(stores.partitionStore.putMeta("", true)).rejects.toThrow(RangeError);
    await expect(stores.partitionStore.putMeta("undef", undefined)).rejects.toThrow(TypeError);
    await expect(stores.partitionStore.saveSnapshot(0, { lsn: -1, state: {} })).rejects.toThrow(RangeError);
    await stores.close();
    await expect(stores.partitionStore.getMeta("x")).rejects.toBeInstanceOf(StoreClosedError);

    expect(fs.readdirSync(dir).filter((f) => !f.endsWith("-wal") && !f.endsWith("-shm"))).toEqual([
      "capstan.db",
    ]);
    const reopened = openSqliteStores(dir);
    expect(await reopened.partitionStore.loadSnapshot(0)).toEqual({ lsn: 1, state: { applied: 1 } });
    expect(await reopened.logStore.lastLsn(0)).toBe(1);
    expect(await reopened.partitionStore.getMeta("k".repeat(MAX_META_KEY_LENGTH))).toBe(true);
    await reopened.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
