/**
 * State files shipped as snapshots: the PartitionStateStores contract on one node's directory and on
 * a node that moves (a fresh, empty directory at every open: the state comes back from the snapshot),
 * then the local-file rule, torn and lost downloads, fencing and the directory's lock. The S3 run of
 * the contract is in shipped-sqlite-state-stores-s3.test.ts.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { applyBatch } from "../core/apply";
import { MemoryStateStore } from "../core/memory-state-store";
import { serializeState } from "../core/snapshot";
import { emptyPartitionState, objectKey } from "../core/state";
import { exclusive, invId, rec } from "../core/test-support/builders";
import { MemorySnapshotData, MemorySnapshotStore } from "./memory-snapshot-store";
import { describePartitionStateStoresContract } from "./partition-state-store.contract";
import {
  MAX_DOWNLOAD_ATTEMPTS,
  ShippedSqliteStateStores,
  shippedStateDir,
} from "./shipped-sqlite-state-stores";
import type { ShippedSqliteStateStore } from "./shipped-sqlite-state-store";
import { SnapshotMissingError, type SnapshotRef, type SnapshotStore } from "./snapshot-store";
import { movingNodeStores } from "./test-support/moving-node-stores";

// 40 random runs per contract test, each on SQLite files: generous on a shared 2-core machine.
jest.setTimeout(60_000);

const LOG = "capstan-test";
const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "capstan-shipped-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function storesOn(dataDir: string, snapshots: SnapshotStore, epoch = 1): ShippedSqliteStateStores {
  return new ShippedSqliteStateStores({ dataDir, logName: LOG, snapshots, epochOf: () => epoch });
}

describePartitionStateStoresContract("ShippedSqliteStateStores (one node's directory)", async () => {
  const stores = storesOn(tempDir(), new MemorySnapshotStore());
  return { stores, cleanup: async () => stores.close() };
});

describePartitionStateStoresContract("ShippedSqliteStateStores (a new node at every open)", async () => {
  const data = new MemorySnapshotData();
  const stores = movingNodeStores(() => new MemorySnapshotStore(data), tempDir, LOG);
  return { stores, cleanup: async () => stores.closeAll() };
});

/** `store` with another download. */
function withDownload(
  store: SnapshotStore,
  download: (ref: SnapshotRef, file: string) => Promise<void>,
): SnapshotStore {
  return {
    put: (...args) => store.put(...args),
    putFile: (...args) => store.putFile(...args),
    latest: (p) => store.latest(p),
    list: (p) => store.list(p),
    close: () => store.close(),
    download,
  };
}

/** Applies `n` patches of Obj/k (n = 1..count) from lsn `from`; the value is the last n written. */
function patch(state: ShippedSqliteStateStore, from: number, count: number): void {
  applyBatch(
    state,
    from,
    Array.from({ length: count }, (_, i) => ({
      ...rec.patchState("Obj", "k", { set: { n: String(from + i) } }),
      atMs: from + i,
    })),
  );
}

const valueOf = (state: ShippedSqliteStateStore): string | undefined =>
  state.objectState(objectKey("Obj", "k"))?.get("n");

describe("ShippedSqliteStateStores", () => {
  it("ships the file at its applied LSN; another node downloads it, its own file then leads", async () => {
    const data = new MemorySnapshotData();
    const a = storesOn(tempDir(), new MemorySnapshotStore(data));
    const stateA = await a.open(1, 4);
    patch(stateA, 1, 10);

    expect(await stateA.persist()).toBe(10);
    expect((await new MemorySnapshotStore(data).list(1)).map((r) => r.lsn)).toEqual([10]);
    // The copy it uploaded from is gone.
    expect(fs.readdirSync(a.dir).filter((f) => f.includes(".snapshot"))).toEqual([]);
    stateA.close();
    a.close();

    const b = storesOn(tempDir(), new MemorySnapshotStore(data));
    const stateB = await b.open(1, 4);
    expect(stateB.appliedLsn()).toBe(10);
    expect(valueOf(stateB)).toBe("10");
    patch(stateB, 11, 5); // B's own commits, not shipped
    stateB.close();
    const again = await b.open(1, 4);
    expect(again.appliedLsn()).toBe(15); // the local file, at or beyond the snapshot, is used
    again.close();
    b.close();
  });

  it("replaces a local file behind the newest snapshot, whatever it held", async () => {
    const data = new MemorySnapshotData();
    const bDir = tempDir();
    const b = storesOn(bDir, new MemorySnapshotStore(data));
    const old = await b.open(0, 4);
    patch(old, 1, 3); // an earlier leadership of B, left behind
    old.close();
    b.close();

    const a = storesOn(tempDir(), new MemorySnapshotStore(data));
    const stateA = await a.open(0, 4);
    patch(stateA, 1, 20);
    await stateA.persist();
    stateA.close();
    a.close();

    const b2 = storesOn(bDir, new MemorySnapshotStore(data));
    const stateB = await b2.open(0, 4);
    expect(stateB.appliedLsn()).toBe(20);
    expect(valueOf(stateB)).toBe("20");
    expect(fs.existsSync(`${stateB.file}-wal`)).toBe(true); // the new file's own log, not the old one's
    stateB.close();
    b2.close();
  });

  it("keeps the local file when a download breaks off, and removes what it left", async () => {
    const data = new MemorySnapshotData();
    const memory = new MemorySnapshotStore(data);
    const a = storesOn(tempDir(), memory);
    const stateA = await a.open(2, 4);
    patch(stateA, 1, 8);
    await stateA.persist();
    stateA.close();
    a.close();

    const bDir = tempDir();
    const b = storesOn(bDir, memory);
    const local = await b.open(2, 4);
    expect(local.appliedLsn()).toBe(8); // downloaded
    patch(local, 9, 1);
    local.close();
    b.close();
    const stateA2 = await storesOn(tempDir(), memory).open(2, 4);
    patch(stateA2, 10, 10);
    await stateA2.persist(); // lsn 19: B's file (9) is behind it now
    stateA2.close();

    const torn = withDownload(memory, async (_ref, file) => {
      fs.writeFileSync(file, "SQLite format 3\0 and then the connection dropped");
      throw new Error("socket hang up");
    });
    const b2 = storesOn(bDir, torn);
    await expect(b2.open(2, 4)).rejects.toThrow("socket hang up");
    b2.close();
    expect(fs.existsSync(path.join(b2.dir, "p2.db"))).toBe(true);
    // A process killed mid-download leaves its temporary file: the next open removes it.
    fs.writeFileSync(path.join(b2.dir, "p2.1.download"), "torn");
    fs.writeFileSync(path.join(b2.dir, "p2.0c1d.snapshot"), "copy being uploaded");

    const b3 = storesOn(bDir, memory);
    const reopened = await b3.open(2, 4);
    expect(reopened.appliedLsn()).toBe(19);
    expect(fs.readdirSync(b3.dir).filter((f) => /download|snapshot/.test(f))).toEqual([]);
    reopened.close();
    b3.close();
  });

  it("reads the pointer again when the snapshot it named is replaced during the download", async () => {
    const data = new MemorySnapshotData();
    const memory = new MemorySnapshotStore(data);
    const a = storesOn(tempDir(), memory);
    const stateA = await a.open(3, 4);
    patch(stateA, 1, 4);
    await stateA.persist();
    let replaced = false;
    const racing = withDownload(memory, async (ref, file) => {
      if (!replaced) {
        replaced = true;
        patch(stateA, 5, 4);
        await stateA.persist();
        throw new SnapshotMissingError(ref.key);
      }
      return memory.download(ref, file);
    });
    const b = storesOn(tempDir(), racing);
    const stateB = await b.open(3, 4);
    expect(stateB.appliedLsn()).toBe(8);
    stateB.close();
    stateA.close();
    a.close();
    b.close();
  });

  it("replaces a local file SQLite cannot open by the snapshot (the file is never the only copy)", async () => {
    const memory = new MemorySnapshotStore();
    const a = storesOn(tempDir(), memory);
    const stateA = await a.open(1, 4);
    patch(stateA, 1, 6);
    await stateA.persist();
    stateA.close();
    a.close();
    const bDir = tempDir();
    const b = storesOn(bDir, memory);
    fs.mkdirSync(b.dir, { recursive: true });
    fs.writeFileSync(b.fileOf(1), "not a database at all, and long enough to look like one".repeat(100));
    fs.writeFileSync(b.fileOf(2), "no snapshot of this partition: it starts empty".repeat(100));

    const stateB = await b.open(1, 4);
    expect(stateB.appliedLsn()).toBe(6);
    expect(valueOf(stateB)).toBe("6");
    const empty = await b.open(2, 4);
    expect(empty.appliedLsn()).toBe(0);
    for (const s of [stateB, empty]) s.close();
    b.close();
  });

  it(`gives up after ${MAX_DOWNLOAD_ATTEMPTS} snapshots vanished under it, keeping nothing`, async () => {
    const memory = new MemorySnapshotStore();
    const a = storesOn(tempDir(), memory);
    const stateA = await a.open(3, 4);
    patch(stateA, 1, 2);
    await stateA.persist();
    stateA.close();
    a.close();
    let downloads = 0;
    const vanishing = withDownload(memory, async (ref, file) => {
      downloads++;
      fs.writeFileSync(file, "part of it");
      throw new SnapshotMissingError(ref.key);
    });

    const b = storesOn(tempDir(), vanishing);
    await expect(b.open(3, 4)).rejects.toMatchObject({ code: "STORE_SNAPSHOT_MISSING" });
    expect(downloads).toBe(MAX_DOWNLOAD_ATTEMPTS);
    expect(fs.readdirSync(b.dir).filter((f) => f.startsWith("p3."))).toEqual([]);
    b.close();
  });

  it("ships nothing before the first batch; a leader whose epoch was passed is fenced", async () => {
    const data = new MemorySnapshotData();
    const oldLeader = storesOn(tempDir(), new MemorySnapshotStore(data), 1);
    const state = await oldLeader.open(0, 4);
    expect(await state.persist()).toBe(0);
    expect(data.objects.size).toBe(0);

    patch(state, 1, 2);
    const newLeader = storesOn(tempDir(), new MemorySnapshotStore(data), 2);
    const stateNew = await newLeader.open(0, 4);
    patch(stateNew, 1, 2);
    await stateNew.persist();

    patch(state, 3, 1);
    await expect(state.persist()).rejects.toMatchObject({ code: "STORE_SNAPSHOT_FENCED" });
    expect(fs.readdirSync(oldLeader.dir).filter((f) => f.includes(".snapshot"))).toEqual([]);
    for (const s of [state, stateNew]) s.close();
    oldLeader.close();
    newLeader.close();
  });

  it("ships once at a time: persists called together both resolve, the last at the newest LSN", async () => {
    const data = new MemorySnapshotData();
    const stores = storesOn(tempDir(), new MemorySnapshotStore(data));
    const state = await stores.open(1, 4);
    patch(state, 1, 3);
    const first = state.persist();
    const second = state.persist();
    patch(state, 4, 2);
    const third = state.persist();

    expect(await first).toBe(5); // the copy runs in steps: batches committed meanwhile are in it
    expect(await second).toBeLessThanOrEqual(5);
    expect(await third).toBe(5);
    expect((await new MemorySnapshotStore(data).list(1))[0]?.lsn).toBe(5);
    state.close();
    stores.close();
  });

  it("loads a gzipped JSON snapshot written before state files were shipped", async () => {
    const data = new MemorySnapshotData();
    const old = new MemoryStateStore(emptyPartitionState(2, 4));
    const id = invId(2, 1);
    applyBatch(old, 1, [
      { ...rec.invoke(exclusive(id, "k")), atMs: 5 },
      { ...rec.patchState("Obj", "k", { set: { n: "7" } }), atMs: 6 },
    ]);
    const json = gzipSync(Buffer.from(JSON.stringify(serializeState(old.state)), "utf8"));
    await new MemorySnapshotStore(data).put(2, 2, 1, json);

    const stores = storesOn(tempDir(), new MemorySnapshotStore(data));
    const state = await stores.open(2, 4);
    expect(state.appliedLsn()).toBe(2);
    expect(state.invocation(id)).toEqual(old.invocation(id));
    expect(valueOf(state)).toBe("7");
    state.close();
    stores.close();
  });

  it("locks its directory against another process, keeps files per log, refuses a partition count", async () => {
    const dataDir = tempDir();
    const memory = new MemorySnapshotStore();
    const first = storesOn(dataDir, memory);
    (await first.open(0, 4)).close();
    await expect(storesOn(dataDir, memory).open(0, 4)).rejects.toMatchObject({
      code: "STORE_DATA_DIR_IN_USE",
    });
    const otherLog = new ShippedSqliteStateStores({
      dataDir,
      logName: "another-table",
      snapshots: memory,
      epochOf: () => 1,
    });
    (await otherLog.open(0, 4)).close();
    expect(otherLog.dir).toBe(shippedStateDir(dataDir, "another-table"));
    expect(otherLog.dir).not.toBe(first.dir);
    await expect(first.open(0, 8)).rejects.toMatchObject({ code: "STORE_STATE_FILE_MISMATCH" });
    first.close();
    otherLog.close();
    await expect(first.open(0, 4)).rejects.toMatchObject({ code: "STORE_CLOSED" });
    expect(() => shippedStateDir(dataDir, "../escape")).toThrow(RangeError);
    expect(() => shippedStateDir(dataDir, "..")).toThrow(RangeError);
  });

  it("drops the files of another incarnation of the log (a table created again under its name)", async () => {
    const dataDir = tempDir();
    const data = new MemorySnapshotData();
    const open = (logId: string) =>
      new ShippedSqliteStateStores({
        dataDir,
        logName: LOG,
        logId,
        snapshots: new MemorySnapshotStore(data),
        epochOf: () => 1,
      });
    const first = open("created-at-1");
    const state = await first.open(0, 4);
    patch(state, 1, 5);
    state.close();
    first.close();
    const same = open("created-at-1");
    const kept = await same.open(0, 4);
    expect(kept.appliedLsn()).toBe(5);
    kept.close();
    same.close();

    data.pointers.clear(); // the new table's pointer items are gone with the old table
    const recreated = open("created-at-2");
    const fresh = await recreated.open(0, 4);
    expect(fresh.appliedLsn()).toBe(0);
    fresh.close();
    recreated.close();
  });
});
