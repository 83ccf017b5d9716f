/**
 * The embedded PartitionStore: snapshots and metadata documents in capstan.db. Each write is one
 * autocommit statement, fsync'd before it returns (`synchronous=FULL`), so every method is durable
 * on resolve.
 */
import type { Statement } from "better-sqlite3";
import type { PartitionStore, Snapshot } from "./partition-store";
import { SqliteDatabase, StoreClosedError } from "./sqlite-database";

/** Metadata keys (deployment ids and the like). */
export const MAX_META_KEY_LENGTH = 1_024;
/** Documents returned by one listMeta(); metadata is small by design (deployments, settings). */
export const MAX_META_LIST = 10_000;

export interface SqlitePartitionStoreOptions {
  /** Close the database when the store closes (the store opened it). */
  ownsDatabase?: boolean;
}

interface Statements {
  loadSnapshot: Statement<[number], { lsn: number; state: string }>;
  saveSnapshot: Statement<[number, number, string]>;
  getMeta: Statement<[string], { value: string }>;
  putMeta: Statement<[string, string]>;
  listMetaFrom: Statement<[string], { key: string; value: string }>;
  deleteMeta: Statement<[string]>;
}

/**
 * @example
 * const store = SqlitePartitionStore.open("/var/lib/capstan");
 * await store.saveSnapshot(3, { lsn: 1200, state: serialize(state) });
 * const snap = await store.loadSnapshot(3); // recovery replays the log after snap.lsn
 */
export class SqlitePartitionStore implements PartitionStore {
  private readonly stmts: Statements;
  private readonly ownsDatabase: boolean;
  private closed = false;

  constructor(
    private readonly database: SqliteDatabase,
    options: SqlitePartitionStoreOptions = {},
  ) {
    this.ownsDatabase = options.ownsDatabase ?? false;
    const db = database.db;
    this.stmts = {
      loadSnapshot: db.prepare("SELECT lsn, state FROM snapshot WHERE partition = ?"),
      // The WHERE makes "never backwards" one atomic statement: an older snapshot changes nothing.
      saveSnapshot: db.prepare(
        "INSERT INTO snapshot (partition, lsn, state) VALUES (?, ?, ?) " +
          "ON CONFLICT (partition) DO UPDATE SET lsn = excluded.lsn, state = excluded.state " +
          "WHERE excluded.lsn >= snapshot.lsn",
      ),
      getMeta: db.prepare("SELECT value FROM meta WHERE key = ?"),
      putMeta: db.prepare(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      ),
      // Keys with a given prefix are contiguous in the index's byte order, starting at the prefix.
      listMetaFrom: db.prepare("SELECT key, value FROM meta WHERE key >= ? ORDER BY key"),
      deleteMeta: db.prepare("DELETE FROM meta WHERE key = ?"),
    };
  }

  /** Opens `<dataDir>/capstan.db` for this store alone; close() closes the file. */
  static open(dataDir: string): SqlitePartitionStore {
    return new SqlitePartitionStore(SqliteDatabase.open(dataDir), { ownsDatabase: true });
  }

  async loadSnapshot(partition: number): Promise<Snapshot | undefined> {
    this.checkOpen();
    const row = this.stmts.loadSnapshot.get(partition);
    return row === undefined ? undefined : { lsn: row.lsn, state: JSON.parse(row.state) };
  }

  async saveSnapshot(partition: number, snapshot: Snapshot): Promise<void> {
    this.checkOpen();
    if (!Number.isSafeInteger(snapshot.lsn) || snapshot.lsn < 0) {
      throw new RangeError(`snapshot lsn must be an integer ≥ 0, got ${snapshot.lsn}`);
    }
    this.stmts.saveSnapshot.run(partition, snapshot.lsn, toJson(snapshot.state, "snapshot state"));
  }

  async getMeta(key: string): Promise<unknown> {
    this.checkOpen();
    checkKey(key);
    const row = this.stmts.getMeta.get(key);
    return row === undefined ? undefined : JSON.parse(row.value);
  }

  async putMeta(key: string, value: unknown): Promise<void> {
    this.checkOpen();
    checkKey(key);
    this.stmts.putMeta.run(key, toJson(value, `meta ${key}`));
  }

  /** In key order; at most MAX_META_LIST documents. */
  async listMeta(prefix: string): Promise<Array<{ key: string; value: unknown }>> {
    this.checkOpen();
    const out: Array<{ key: string; value: unknown }> = [];
    for (const row of this.stmts.listMetaFrom.iterate(prefix)) {
      if (!row.key.startsWith(prefix) || out.length >= MAX_META_LIST) break;
      out.push({ key: row.key, value: JSON.parse(row.value) });
    }
    return out;
  }

  async deleteMeta(key: string): Promise<void> {
    this.checkOpen();
    this.stmts.deleteMeta.run(key);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsDatabase) this.database.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new StoreClosedError("SqlitePartitionStore");
  }
}

function checkKey(key: string): void {
  if (key.length === 0 || key.length > MAX_META_KEY_LENGTH) {
    throw new RangeError(`meta key must have 1 to ${MAX_META_KEY_LENGTH} characters, got ${key.length}`);
  }
}

function toJson(value: unknown, what: string): string {
  const text = JSON.stringify(value) as string | undefined;
  if (text === undefined) throw new TypeError(`${what} is not JSON-serializable`);
  return text;
}
