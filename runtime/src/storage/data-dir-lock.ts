/**
 * One runtime per data directory. Two runtimes on one `capstan.db` would both lead every partition:
 * the log's conditional append fences the second writer at its first conflicting append, but until
 * then both accept requests, and the fenced one stops partitions that callers were using. So a node
 * locks its data directory before it opens anything in it, as Restate's RocksDB does with its LOCK file.
 *
 * The lock is SQLite's exclusive lock on `<dataDir>/capstan.lock`, held by an open connection: the
 * kernel drops it when the process ends however it ends (SIGKILL too), so there is never a stale lock
 * to clean up, and a second connection of the same process is refused as well. These are POSIX
 * advisory locks, so two rules: nothing in the process may open `capstan.lock` other than through
 * SQLite (closing any other descriptor of the file drops the lock), and the directory must be on a
 * local filesystem (NFS may not honour them).
 */
import path from "node:path";
import Database from "better-sqlite3";
import { ensurePrivateDir, restrictIfExists, withOwnerOnlyUmask } from "../security/key-files";
import { StoreOpenError } from "./sqlite-database";

export const LOCK_FILE_NAME = "capstan.lock";

/**
 * The connections holding a lock. better-sqlite3 closes a connection that is garbage-collected, which
 * would release its lock behind the runtime's back: held here until released.
 */
const held = new Set<Database.Database>();

/**
 * Another runtime (another process, or another node of this one) holds the data directory.
 *
 * @example
 * try { lockDataDir(dir); } catch (e) { if (e instanceof DataDirInUseError) console.error(e.message); }
 */
export class DataDirInUseError extends Error {
  override readonly name = "DataDirInUseError";
  readonly code = "STORE_DATA_DIR_IN_USE";
  constructor(readonly dataDir: string) {
    super(
      `the data directory ${dataDir} is in use by another Capstan runtime: stop that one, or set ` +
        `CAPSTAN_DATA_DIR to another directory`,
    );
  }
}

export interface DataDirLock {
  /** Lets another runtime take the directory. Idempotent. */
  release(): void;
}

/**
 * Takes the directory (creating it) or throws DataDirInUseError at once, without waiting.
 *
 * @example
 * const lock = lockDataDir(".capstan");
 * try { ... } finally { lock.release(); }
 */
export function lockDataDir(dataDir: string): DataDirLock {
  ensurePrivateDir(dataDir);
  const file = path.join(dataDir, LOCK_FILE_NAME);
  restrictIfExists(file);
  let db: Database.Database;
  try {
    db = withOwnerOnlyUmask(() => new Database(file, { timeout: 0 }));
  } catch (e) {
    throw new StoreOpenError(file, e);
  }
  try {
    // EXCLUSIVE locking mode keeps the lock of the first write until the connection closes. That
    // write stores the holder's pid in the header (for whoever inspects the file once it is free);
    // the journal stays in memory, so a killed holder leaves no journal file behind.
    db.pragma("locking_mode = EXCLUSIVE");
    db.pragma("journal_mode = MEMORY");
    db.pragma(`user_version = ${process.pid}`);
  } catch (e) {
    db.close();
    if ((e as { code?: unknown }).code === "SQLITE_BUSY") throw new DataDirInUseError(dataDir);
    throw new StoreOpenError(file, e);
  }
  held.add(db);
  return {
    release() {
      held.delete(db);
      if (db.open) db.close();
    },
  };
}
