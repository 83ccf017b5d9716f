import { describePartitionStateStoresContract } from "./partition-state-store.contract";
import { JsonSnapshotStateStores } from "./json-snapshot-state-stores";
import { SqlitePartitionStore } from "./sqlite-partition-store";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

describePartitionStateStoresContract("JsonSnapshotStateStores", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "capstan-json-state-"));
  const snapshots = SqlitePartitionStore.open(dir);
  return {
    stores: new JsonSnapshotStateStores(snapshots),
    cleanup: async () => {
      await snapshots.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});
