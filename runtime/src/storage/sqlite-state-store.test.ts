import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describePartitionStateStoresContract } from "./partition-state-store.contract";
import { SqliteStateStores, stateFileOf } from "./sqlite-state-store";

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "capstan-state-"));
}

describePartitionStateStoresContract("SqliteStateStores", async () => {
  const dir = tempDir();
  return {
    stores: new SqliteStateStores(dir),
    cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
});

describe("SqliteStateStores", () => {
  it("keeps one file per partition and refuses a file of another partition count", async () => {
    const dir = tempDir();
    try {
      const stores = new SqliteStateStores(dir);
      (await stores.open(0, 4)).close();
      (await stores.open(3, 4)).close();
      expect(fs.existsSync(stateFileOf(dir, 0))).toBe(true);
      expect(fs.existsSync(stateFileOf(dir, 3))).toBe(true);
      await expect(stores.open(3, 8)).rejects.toThrow(/holds partition 3 of 4, not 3 of 8/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
