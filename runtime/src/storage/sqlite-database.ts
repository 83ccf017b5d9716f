/**
 * The embedded store's one SQLite file: `<dataDir>/capstan.db`, shared by the log and the partition
 * store so that (later) appending a batch and applying it can commit in one transaction.
 */
import path from "node:path";
import Database from "better-sqlite3";
import { ensurePrivateDir, restrictIfExists, withOwnerOnlyUmask } from "../security/key-files";

export const DB_FILE_NAME = "capstan.db";
/**
 * The schema this build writes, kept in `PRAGMA user_version`.
 * Version history (one line per version, never reuse a number):
 * - 1: log, log_trim, snapshot, meta.
 * - 2: log_fence (each partition's claim: epoch and owner).
 */
export const SCHEMA_VERSION = 2;
/** How long a statement waits for another connection's write lock before failing with SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5_000;

const SCHEMA_V1 = `
  CREATE TABLE IF NOT EXISTS log (
    partition INTEGER NOT NULL,
    lsn INTEGER NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (partition, lsn)
  ) WITHOUT ROWID;
  -- Highest trimmed lsn per partition, so lastLsn survives trimming every record.
  CREATE TABLE IF NOT EXISTS log_trim (
    partition INTEGER PRIMARY KEY,
    up_to_lsn INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS snapshot (
    partition INTEGER PRIMARY KEY,
    lsn INTEGER NOT NULL,
    state TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) WITHOUT ROWID;
`;

/** Added in version 2; a version 1 file gains it on open. */
const SCHEMA_V2 = `
  CREATE TABLE IF NOT EXISTS log_fence (
    partition INTEGER PRIMARY KEY,
    epoch INTEGER NOT NULL,
    owner TEXT
  );
`;

/** The file was written by a newer Capstan: refuse to touch it rather than corrupt it. */
export class StoreSchemaError extends Error {
  override readonly name = "StoreSchemaError";
  readonly code = "STORE_SCHEMA_VERSION";
  constructor(
    readonly file: string,
    readonly foundVersion: number,
  ) {
    super(
      `${file} has schema version ${foundVersion}, newer than ${SCHEMA_VERSION} which this build knows; ` +
        `upgrade Capstan or point it at another data directory`,
    );
  }
}

export { StoreClosedError } from "./store-errors";

/** A file of the data directory (`capstan.db`, `capstan.lock`) could not be opened with SQLite. */
export class StoreOpenError extends Error {
  override readonly name = "StoreOpenError";
  readonly code = "STORE_OPEN_FAILED";
  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    super(`cannot open ${file}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

/**
 * An open `capstan.db`: WAL journal (readers never block the writer), `synchronous=FULL` (a commit is
 * fsync'd before it returns, which is what "durable on resolve" needs), schema created or checked.
 *
 * @example
 * const db = SqliteDatabase.open("/var/lib/capstan");
 * const log = new SqliteLogStore(db);
 * // ... on shutdown: await log.close(); db.close();
 */
export class SqliteDatabase {
  readonly file: string;
  readonly db: Database.Database;

  private constructor(file: string, db: Database.Database) {
    this.file = file;
    this.db = db;
  }

  static open(dataDir: string): SqliteDatabase {
    ensurePrivateDir(dataDir);
    const file = path.join(dataDir, DB_FILE_NAME);
    // Owner-only, older files included: SQLite gives the WAL and SHM files the database file's mode.
    for (const suffix of ["", "-wal", "-shm"]) restrictIfExists(file + suffix);
    let db: Database.Database;
    try {
      db = withOwnerOnlyUmask(() => new Database(file));
    } catch (e) {
      throw new StoreOpenError(file, e);
    }
    try {
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = FULL");
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      migrate(db, file);
    } catch (e) {
      db.close();
      throw e instanceof StoreSchemaError ? e : new StoreOpenError(file, e);
    }
    return new SqliteDatabase(file, db);
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function migrate(db: Database.Database, file: string): void {
  const found = db.pragma("user_version", { simple: true }) as number;
  if (found > SCHEMA_VERSION) throw new StoreSchemaError(file, found);
  if (found === SCHEMA_VERSION) return;
  db.transaction(() => {
    db.exec(SCHEMA_V1);
    db.exec(SCHEMA_V2);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
