import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { LogConflictError } from "./log-store";
import { describeLogStoreContract } from "./log-store.contract";
import {
  DB_FILE_NAME,
  SCHEMA_VERSION,
  StoreClosedError,
  StoreOpenError,
  StoreSchemaError,
} from "./sqlite-database";
import {
  MAX_READ_RECORDS,
  MAX_RECORD_BYTES,
  MAX_RECORDS_PER_APPEND,
  SqliteLogStore,
  StoreOverloadedError,
} from "./sqlite-log-store";
import { StoreWriterFailedError, ThreadLogWriter } from "./sqlite-log-writer-thread";
import { openSqliteStores } from "./sqlite-stores";

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "capstan-log-"));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

const WRITERS = ["thread", "inline"] as const;

for (const writer of WRITERS) {
  describeLogStoreContract(`SqliteLogStore (${writer} writer)`, async () => {
    const dir = tempDir();
    const opened: SqliteLogStore[] = [SqliteLogStore.open(dir, { writer })];
    return {
      store: opened[0]!,
      reopen: async () => {
        const store = SqliteLogStore.open(dir, { writer });
        opened.push(store);
        return store;
      },
      openAnother: async () => {
        const store = SqliteLogStore.open(dir, { writer });
        opened.push(store);
        return store;
      },
      cleanup: async () => {
        for (const store of opened) await store.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  });
}

describe.each(WRITERS)("SqliteLogStore group commit (%s writer)", (writer) => {
  it("commits 200 concurrent appends across 16 partitions in far fewer transactions", async () => {
    const store = SqliteLogStore.open(tempDir(), { writer });
    const appends: Array<Promise<void>> = [];
    for (let i = 0; i < 200; i++) {
      const partition = i % 16;
      appends.push(store.append(partition, Math.floor(i / 16) + 1, [{ i }]));
    }

    await Promise.all(appends);

    const stats = store.stats();
    expect(stats).toMatchObject({ appends: 200, records: 200, conflicts: 0 });
    expect(stats.commits).toBe(1);
    expect(await store.lastLsn(0)).toBe(13);
    expect(await store.lastLsn(15)).toBe(12);
    await store.close();
  });

  it("rejects only the conflicting appends of a batch and commits the rest in the same transaction", async () => {
    const store = SqliteLogStore.open(tempDir(), { writer });
    await store.append(1, 1, ["existing"]);

    const results = await Promise.allSettled([
      store.append(0, 1, ["a"]),
      store.append(0, 1, ["duplicate in batch"]),
      store.append(1, 1, ["duplicate on disk"]),
      store.append(2, 5, ["gap"]),
      store.append(0, 2, ["b", "c"]),
      store.append(3, 1, ["d"]),
    ]);

    expect(results.map((r) => r.status)).toEqual([
      "fulfilled",
      "rejected",
      "rejected",
      "rejected",
      "fulfilled",
      "fulfilled",
    ]);
    const gap = (results[3] as PromiseRejectedResult).reason as LogConflictError;
    expect(gap).toBeInstanceOf(LogConflictError);
    expect(gap).toMatchObject({ partition: 2, lsn: 5, expectedLsn: 1 });
    expect(gap.message).toContain("gap");
    expect(store.stats()).toMatchObject({ commits: 2, conflicts: 3, records: 5 });
    expect((await store.read(0, 0, 10)).map((r) => r.record)).toEqual(["a", "b", "c"]);
    expect((await store.read(1, 0, 10)).map((r) => r.record)).toEqual(["existing"]);
    expect(await store.lastLsn(2)).toBe(0);
    await store.close();
  });

  it("splits a long queue into commits of maxAppendsPerCommit and applies backpressure at maxPendingAppends", async () => {
    const store = SqliteLogStore.open(tempDir(), { writer, maxAppendsPerCommit: 3, maxPendingAppends: 7 });
    const accepted = Array.from({ length: 7 }, (_, i) => store.append(i, 1, [i]));

    await expect(store.append(7, 1, [7])).rejects.toBeInstanceOf(StoreOverloadedError);
    await Promise.all(accepted);

    expect(store.stats()).toMatchObject({ appends: 7, commits: 3 });
    await store.append(7, 1, [7]);
    await store.close();
  });

  it("orders a trim after the appends queued before it", async () => {
    const store = SqliteLogStore.open(tempDir(), { writer });
    const first = store.append(0, 1, ["a", "b"]);
    const trim = store.trim(0, 10);
    const next = store.append(0, 3, ["c"]);

    await Promise.all([first, trim, next]);

    expect(store.stats()).toMatchObject({ commits: 1, records: 3, conflicts: 0 });
    expect(await store.read(0, 0, 10)).toEqual([{ lsn: 3, record: "c" }]);
    expect(await store.lastLsn(0)).toBe(3);
    await store.close();
  });
});

describe("SqliteLogStore writer thread", () => {
  it("pipelines: 200 appends arriving while a commit is in flight share the next commit", async () => {
    const store = SqliteLogStore.open(tempDir(), { writer: "thread" });
    const first = store.append(16, 1, ["first"]);
    // The batch is sent on setImmediate; its reply cannot arrive before the next poll phase.
    await new Promise((resolve) => setImmediate(resolve));

    const appends = Array.from({ length: 200 }, (_, i) =>
      store.append(i % 16, Math.floor(i / 16) + 1, [{ i }]),
    );
    await Promise.all([first, ...appends]);

    const stats = store.stats();
    expect(stats).toMatchObject({ appends: 201, records: 201, conflicts: 0, commits: 2 });
    expect(stats.appends / stats.commits).toBeGreaterThan(100);
    expect(await store.lastLsn(0)).toBe(13);
    expect(await store.lastLsn(16)).toBe(1);
    await store.close();
  });

  it("fails pending appends with STORE_WRITER_FAILED when the thread dies, then fails fast", async () => {
    const dir = tempDir();
    const store = SqliteLogStore.open(dir, { writer: "thread" });
    await store.append(0, 1, ["durable"]);
    const inFlight = store.append(0, 2, ["in flight"]);
    await new Promise((resolve) => setImmediate(resolve));
    const queued = store.append(1, 1, ["queued"]);

    await (store["writer"] as ThreadLogWriter).terminateForTesting();

    await expect(inFlight).rejects.toBeInstanceOf(StoreWriterFailedError);
    await expect(queued).rejects.toMatchObject({ code: "STORE_WRITER_FAILED" });
    await expect(store.append(1, 1, ["later"])).rejects.toBeInstanceOf(StoreWriterFailedError);
    await expect(store.trim(0, 1)).rejects.toBeInstanceOf(StoreWriterFailedError);
    // The batch in flight may or may not have reached the disk (its outcome is unknown, as with a
    // crash); the queued one was never sent.
    expect((await store.read(0, 0, 10)).map((r) => r.record)).toEqual(
      expect.arrayContaining(["durable"]) as unknown,
    );
    await store.close();
    const reopened = SqliteLogStore.open(dir, { writer: "thread" });
    expect(await reopened.lastLsn(1)).toBe(0);
    await reopened.append(1, 1, ["after restart"]);
    await reopened.close();
  });

  it("commits pending appends on close and rejects use after close", async () => {
    const dir = tempDir();
    const stores = openSqliteStores(dir);
    const pending = stores.logStore.append(0, 1, ["flushed by close"]);

    await stores.close();
    await pending;

    await expect(stores.logStore.append(0, 2, ["late"])).rejects.toBeInstanceOf(StoreClosedError);
    await expect(stores.logStore.read(0, 0, 1)).rejects.toBeInstanceOf(StoreClosedError);
    const reopened = SqliteLogStore.open(dir);
    expect(await reopened.read(0, 0, 10)).toEqual([{ lsn: 1, record: "flushed by close" }]);
    await reopened.close();
  });
});

describe("SqliteLogStore limits", () => {
  it("accepts a record of exactly MAX_RECORD_BYTES and rejects one byte more", async () => {
    const store = SqliteLogStore.open(tempDir());
    const atLimit = "x".repeat(MAX_RECORD_BYTES - 2); // JSON adds two quotes

    await store.append(0, 1, [atLimit]);
    await expect(store.append(0, 2, [atLimit + "x"])).rejects.toThrow(RangeError);
    await expect(store.append(0, 2, [undefined])).rejects.toThrow(TypeError);

    expect(((await store.read(0, 0, 1))[0]!.record as string).length).toBe(MAX_RECORD_BYTES - 2);
    expect(store.stats().appends).toBe(1);
    await store.close();
  });

  it("bounds records per append and records per read", async () => {
    const store = SqliteLogStore.open(tempDir());
    const full = Array.from({ length: MAX_RECORDS_PER_APPEND }, (_, i) => i);

    await expect(store.append(0, 1, [...full, -1])).rejects.toThrow(RangeError);
    await store.append(0, 1, full);
    await store.append(0, MAX_RECORDS_PER_APPEND + 1, ["one more"]);

    expect(MAX_READ_RECORDS).toBeLessThan(MAX_RECORDS_PER_APPEND + 1);
    await expect(store.read(0, 0, MAX_READ_RECORDS + 1)).rejects.toThrow(RangeError);
    const page = await store.read(0, 0, MAX_READ_RECORDS);
    expect(page).toHaveLength(MAX_READ_RECORDS);
    expect(page[MAX_READ_RECORDS - 1]!.lsn).toBe(MAX_READ_RECORDS);
    expect(await store.read(0, 0, 0)).toEqual([]);
    await store.close();
  });
});

describe("SqliteDatabase schema", () => {
  it("writes the schema version and refuses a file from a newer version", async () => {
    const dir = tempDir();
    await SqliteLogStore.open(dir).close();
    const raw = new Database(path.join(dir, DB_FILE_NAME));
    expect(raw.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();

    expect(() => SqliteLogStore.open(dir)).toThrow(StoreSchemaError);
    expect(() => SqliteLogStore.open(dir)).toThrow(
      `schema version ${SCHEMA_VERSION + 1}, newer than ${SCHEMA_VERSION}`,
    );
  });

  it("upgrades a version 1 file: it gains the fence table and keeps its log", async () => {
    const dir = tempDir();
    const before = SqliteLogStore.open(dir);
    await before.append(0, 1, ["kept"]);
    await before.close();
    const raw = new Database(path.join(dir, DB_FILE_NAME));
    raw.exec("DROP TABLE log_fence");
    raw.pragma("user_version = 1");
    raw.close();

    const store = SqliteLogStore.open(dir);
    const epoch = await store.claim(0, "node-a");
    await store.append(0, 2, ["new"]);
    expect(await store.fence(0)).toEqual({ epoch, owner: "node-a" });
    expect((await store.read(0, 0, 10)).map((r) => r.record)).toEqual(["kept", "new"]);
    await store.close();
  });

  it("refuses a file that is not a database, naming it, and leaves it as it was", () => {
    const dir = tempDir();
    const file = path.join(dir, DB_FILE_NAME);
    const content = "not a database, and a good deal longer than SQLite's 100-byte header would be....\n";
    fs.writeFileSync(file, content);

    expect(() => SqliteLogStore.open(dir)).toThrow(StoreOpenError);
    expect(() => SqliteLogStore.open(dir)).toThrow(`cannot open ${file}: file is not a database`);
    expect(fs.readFileSync(file, "utf8")).toBe(content);
  });
});

describe("SqliteLogStore crash safety", () => {
  const CHILD = path.join(__dirname, "test-support", "crash-writer.js");

  it("keeps every acknowledged append, without gaps, when the writer is SIGKILLed", async () => {
    const seed = Number(process.env.CAPSTAN_CRASH_SEED ?? Date.now() % 100_000);
    const partitions = 8;
    const killAfterAcks = 50 + (seed % 1_500);
    const dir = tempDir();
    const acked = new Map<number, number>();

    const child = spawn(process.execPath, [CHILD, dir, String(partitions)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let buffered = "";
    let ackCount = 0;
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        const [p, lsn] = line.split(" ").map(Number);
        acked.set(p!, Math.max(acked.get(p!) ?? 0, lsn!));
        if (++ackCount === killAfterAcks) child.kill("SIGKILL");
      }
    });
    const exit = await new Promise<NodeJS.Signals | null>((resolve) =>
      child.on("close", (_c, s) => resolve(s)),
    );

    try {
      expect({ exit, stderr }).toEqual({ exit: "SIGKILL", stderr: "" });
      expect(ackCount).toBeGreaterThanOrEqual(killAfterAcks);
      const store = SqliteLogStore.open(dir);
      for (let p = 0; p < partitions; p++) {
        const last = await store.lastLsn(p);
        const records = await store.read(p, 0, MAX_READ_RECORDS);
        expect(records.map((r) => r.lsn)).toEqual(Array.from({ length: last }, (_, i) => i + 1));
        expect(records.every((r) => (r.record as { lsn: number }).lsn === r.lsn)).toBe(true);
        expect(last).toBeGreaterThanOrEqual(acked.get(p) ?? 0);
      }
      await store.close();
    } catch (e) {
      throw new Error(`crash test failed; reproduce with CAPSTAN_CRASH_SEED=${seed}: ${String(e)}`, {
        cause: e,
      });
    }
  }, 30_000);
});
