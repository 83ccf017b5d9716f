/**
 * Partition state in DynamoDB mode (ADR 0013, addendum): each partition a SQLite file on this node's
 * disk (`<dataDir>/shipped-state/<log>/p<N>.db`; on Fargate, the task's ephemeral storage), shipped
 * to the SnapshotStore (S3) as the partition's snapshot (ShippedSqliteStateStore.persist).
 *
 * Opening a partition follows the local-file rule: the log is immutable and a state commit follows
 * its log commit, so a local file is a valid prefix of the partition's history, whichever leadership
 * of this node wrote it. It is used when its applied LSN is at or beyond the newest snapshot's (the
 * processor replays the log after it); otherwise — no file, an older one, a node that never led the
 * partition, a file SQLite cannot open — the newest snapshot is downloaded into place: streamed to a
 * temporary file, fsync'd, then renamed over the old file (whose write-ahead log is removed first),
 * so a crash never leaves a torn or mixed file. Files are per log (`<log>`: the DynamoDB table's name, and the table's identity
 * recorded in LOG_ID_FILE: a table deleted and created again under the same name has a new history,
 * so the files of the old one are removed), so a data directory that served another table never
 * lends it state; the directory is locked like the embedded data directory, as two processes writing
 * one SQLite file would corrupt it.
 *
 * A snapshot written before state files were shipped is gzipped JSON (DynamoDbPartitionStore's
 * format): it is recognized by its first bytes and loaded into a new file, in memory as it was made.
 */
import fs from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { deserializeState } from "../core/snapshot";
import { writeSetOfState } from "../core/write-set";
import { lockDataDir, type DataDirLock } from "./data-dir-lock";
import { fsyncFile, replaceFile } from "./durable-file";
import type { PartitionStateStores } from "./partition-state-store";
import {
  SNAPSHOT_COPY_SUFFIX,
  ShippedSqliteStateStore,
  type ShippedStateShipping,
} from "./shipped-sqlite-state-store";
import { SnapshotMissingError, type SnapshotRef } from "./snapshot-store";
import { StoreOpenError } from "./sqlite-database";
import { SqliteStateStore } from "./sqlite-state-store";
import { StoreClosedError } from "./store-errors";

/** Directory of the shipped state files under the data directory, one subdirectory per log. */
export const SHIPPED_STATE_DIR_NAME = "shipped-state";
/**
 * Times an open re-reads the pointer when the snapshot it named was replaced during the download
 * (only while another node still writes snapshots of the partition; each retry names a newer one).
 */
export const MAX_DOWNLOAD_ATTEMPTS = 3;
/** Suffix of a snapshot being downloaded (`p<N>.<attempt>.download`), removed at the next open. */
export const DOWNLOAD_SUFFIX = ".download";
/** The file in the state directory naming the log (table) incarnation its files follow. */
export const LOG_ID_FILE = "log-id";
/** The first 16 bytes of every SQLite file. */
const SQLITE_HEADER = Buffer.from("SQLite format 3\0", "latin1");

export interface ShippedSqliteStateStoresOptions extends ShippedStateShipping {
  dataDir: string;
  /** The log the files follow (e.g. the DynamoDB table's name): a directory name. */
  logName: string;
  /**
   * The identity of this incarnation of the log (e.g. the table's id or creation time): files that
   * followed another incarnation are removed at the first open. Absent: not checked.
   */
  logId?: string;
}

/** The directory of the state files that follow log `logName`. */
export function shippedStateDir(dataDir: string, logName: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(logName) || /^\.+$/.test(logName)) {
    throw new RangeError(`log name ${JSON.stringify(logName)} cannot name a directory`);
  }
  return path.join(dataDir, SHIPPED_STATE_DIR_NAME, logName);
}

/**
 * @example
 * const stateStores = new ShippedSqliteStateStores({ dataDir: "/data", logName: "capstan", snapshots,
 *   epochOf: (p) => logStore.heldEpoch(p) });
 * const state = await stateStores.open(3, 16); // local file or newest snapshot; replay after appliedLsn()
 * stateStores.close(); // at shutdown, after every partition's state is closed
 */
export class ShippedSqliteStateStores implements PartitionStateStores {
  readonly dir: string;
  private lock: DataDirLock | undefined;
  private closed = false;

  constructor(private readonly options: ShippedSqliteStateStoresOptions) {
    this.dir = shippedStateDir(options.dataDir, options.logName);
  }

  /** The state file of `partition`. */
  fileOf(partition: number): string {
    return path.join(this.dir, `p${partition}.db`);
  }

  async open(partition: number, partitions: number): Promise<ShippedSqliteStateStore> {
    if (this.closed) throw new StoreClosedError(`state files in ${this.dir}`);
    if (this.lock === undefined) {
      this.lock = lockDataDir(this.dir);
      await this.checkLogId();
    }
    await this.removeLeftovers(partition);
    let local = await this.openLocal(partition, partitions);
    let newest: SnapshotRef | undefined;
    try {
      [newest] = await this.options.snapshots.list(partition);
    } catch (e) {
      local?.close();
      throw e;
    }
    if (newest !== undefined && (local === undefined || local.appliedLsn() < newest.lsn)) {
      // Closed before its file is replaced: closing later would remove the new file's write-ahead log.
      local?.close();
      local = await this.download(partition, partitions, newest);
    }
    return new ShippedSqliteStateStore(
      local ?? (await this.createFresh(partition, partitions)),
      this.options,
    );
  }

  /**
   * The local file, if there is one SQLite can open. One it cannot (torn by a failing disk, not a
   * database) is removed: a local file is never the only copy of anything, since the log is trimmed
   * only below a snapshot in the SnapshotStore, so the snapshot and the log rebuild it.
   */
  private async openLocal(partition: number, partitions: number): Promise<SqliteStateStore | undefined> {
    const file = this.fileOf(partition);
    if (!fs.existsSync(file)) return undefined;
    try {
      return SqliteStateStore.open(file, partition, partitions);
    } catch (e) {
      if (!(e instanceof StoreOpenError)) throw e;
      await removeSqliteFiles(file);
      return undefined;
    }
  }

  /** Lets another process use the directory. Call it once the partitions' states are closed. */
  close(): void {
    this.closed = true;
    this.lock?.release();
    this.lock = undefined;
  }

  /**
   * Downloads snapshot `ref` into place and opens it. When newer snapshots replaced it meanwhile, the
   * newest is read again (each one newer than the last, so newer than the local file too).
   */
  private async download(partition: number, partitions: number, ref: SnapshotRef): Promise<SqliteStateStore> {
    for (let attempt = 1; ; attempt++) {
      const download = path.join(this.dir, `p${partition}.${attempt}${DOWNLOAD_SUFFIX}`);
      try {
        await this.options.snapshots.download(ref, download);
      } catch (e) {
        await fs.promises.rm(download, { force: true });
        if (!(e instanceof SnapshotMissingError) || attempt >= MAX_DOWNLOAD_ATTEMPTS) throw e;
        const [newest] = await this.options.snapshots.list(partition);
        if (newest === undefined) throw e;
        ref = newest;
        continue;
      }
      return this.install(download, ref, partition, partitions);
    }
  }

  /** Moves a downloaded snapshot over the partition's file and opens it; checks it is what the ref says. */
  private async install(
    download: string,
    ref: SnapshotRef,
    partition: number,
    partitions: number,
  ): Promise<SqliteStateStore> {
    const file = this.fileOf(partition);
    try {
      if (!(await startsWith(download, SQLITE_HEADER)))
        await this.convertLegacy(download, ref, partition, partitions);
      await replaceFile(download, file, [`${file}-wal`, `${file}-shm`]);
    } finally {
      await fs.promises.rm(download, { force: true });
    }
    const store = SqliteStateStore.open(file, partition, partitions);
    if (store.appliedLsn() !== ref.lsn) {
      store.close();
      throw new Error(
        `snapshot ${ref.key} of partition ${partition} holds lsn ${store.appliedLsn()}, not ${ref.lsn}`,
      );
    }
    return store;
  }

  /** Rewrites a gzipped JSON snapshot (written before state files were shipped) as a state file. */
  private async convertLegacy(
    download: string,
    ref: SnapshotRef,
    partition: number,
    partitions: number,
  ): Promise<void> {
    const state = deserializeState(
      JSON.parse(gunzipSync(await fs.promises.readFile(download)).toString("utf8")),
    );
    state.appliedLsn = ref.lsn;
    const converted = `${download}.db`;
    await removeSqliteFiles(converted);
    const store = SqliteStateStore.open(converted, partition, partitions);
    try {
      store.commit(writeSetOfState(state));
      await store.persist();
    } finally {
      store.close();
    }
    await removeSqliteFiles(download);
    await fs.promises.rename(converted, download);
  }

  /** A new, empty file; a write-ahead log left by a file removed in a crash must not meet it. */
  private async createFresh(partition: number, partitions: number): Promise<SqliteStateStore> {
    await removeSqliteFiles(this.fileOf(partition));
    return SqliteStateStore.open(this.fileOf(partition), partition, partitions);
  }

  /** Removes every state file when the directory followed another incarnation of the log. */
  private async checkLogId(): Promise<void> {
    const logId = this.options.logId;
    if (logId === undefined) return;
    const idFile = path.join(this.dir, LOG_ID_FILE);
    const recorded = fs.existsSync(idFile) ? fs.readFileSync(idFile, "utf8") : undefined;
    if (recorded === logId) return;
    if (recorded !== undefined) {
      for (const name of await fs.promises.readdir(this.dir)) {
        if (/^p\d+\./.test(name)) await fs.promises.rm(path.join(this.dir, name), { force: true });
      }
    }
    const temp = `${idFile}.new`;
    await fs.promises.writeFile(temp, logId, { mode: 0o600 });
    await fsyncFile(temp);
    await replaceFile(temp, idFile);
  }

  /** Downloads and snapshot copies of the partition left by a process that died meanwhile. */
  private async removeLeftovers(partition: number): Promise<void> {
    let names: string[];
    try {
      names = await fs.promises.readdir(this.dir);
    } catch {
      return;
    }
    const prefix = `p${partition}.`;
    for (const name of names) {
      if (!name.startsWith(prefix) || name === `p${partition}.db` || name.startsWith(`p${partition}.db-`))
        continue;
      if (name.includes(DOWNLOAD_SUFFIX) || name.includes(SNAPSHOT_COPY_SUFFIX)) {
        await fs.promises.rm(path.join(this.dir, name), { force: true });
      }
    }
  }
}

async function removeSqliteFiles(file: string): Promise<void> {
  for (const f of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`])
    await fs.promises.rm(f, { force: true });
}

async function startsWith(file: string, header: Buffer): Promise<boolean> {
  const handle = await fs.promises.open(file, "r");
  try {
    const buffer = Buffer.alloc(header.length);
    const { bytesRead } = await handle.read(buffer, 0, header.length, 0);
    return bytesRead === header.length && buffer.equals(header);
  } finally {
    await handle.close();
  }
}
