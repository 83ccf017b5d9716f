import { SqliteDatabase } from "./sqlite-database";
import { SqliteLogStore } from "./sqlite-log-store";
import type { SqliteLogStoreOptions } from "./sqlite-log-store";
import { SqlitePartitionStore } from "./sqlite-partition-store";

export interface SqliteStores {
  logStore: SqliteLogStore;
  partitionStore: SqlitePartitionStore;
  /** Commits pending appends, then closes both stores and the file. */
  close(): Promise<void>;
}

/**
 * The embedded backend: both ports on one `<dataDir>/capstan.db`.
 *
 * @example
 * const stores = openSqliteStores(config.dataDir);
 * const processor = new PartitionProcessor({ log: stores.logStore, store: stores.partitionStore, ... });
 * process.on("SIGTERM", () => void stores.close());
 */
export function openSqliteStores(
  dataDir: string,
  options: Omit<SqliteLogStoreOptions, "ownsDatabase"> = {},
): SqliteStores {
  const database = SqliteDatabase.open(dataDir);
  const logStore = new SqliteLogStore(database, options);
  const partitionStore = new SqlitePartitionStore(database);
  return {
    logStore,
    partitionStore,
    async close() {
      try {
        await logStore.close();
        await partitionStore.close();
      } finally {
        database.close();
      }
    },
  };
}
