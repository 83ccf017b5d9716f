import fs from "node:fs";
import Database from "better-sqlite3";
import os from "node:os";
import path from "node:path";
import { describePartitionStateStoresContract } from "./partition-state-store.contract";
import { applyBatch } from "../core/apply";
import { MemoryStateStore } from "../core/memory-state-store";
import { serializeState } from "../core/snapshot";
import { emptyPartitionState, objectKey, type Timer } from "../core/state";
import { exclusive, invId, newInvocation, rec } from "../core/test-support/builders";
import { emptyWriteSet } from "../core/write-set";
import { SqlitePartitionStore } from "./sqlite-partition-store";
import {
  INVOCATION_CACHE_BYTES,
  INVOCATION_CACHE_MAX_ENTRY_BYTES,
  STATE_ROW_CACHE_BYTES,
  STATE_ROW_CACHE_MAX_ENTRY_BYTES,
  STATE_WAL_CHECKPOINT_PAGES,
  SqliteStateStore,
  SqliteStateStores,
  stateFileOf,
} from "./sqlite-state-store";
import {
  STATE_SCHEMA_V1,
  STATE_SCHEMA_V1_TO_V2,
  STATE_SCHEMA_V2_TO_V3,
  STATE_SCHEMA_VERSION,
} from "./sqlite-state-schema";

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "capstan-state-"));
}

/**
 * A state file as an older build wrote it: schema 1 with partition 0 of 4 applied to LSN 7, then
 * `upgrades` (the caller fills it, sets its user_version and closes it).
 */
function olderStateFile(file: string, upgrades: string[]): Database.Database {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.exec(STATE_SCHEMA_V1);
  db.prepare(
    "INSERT INTO partition_meta (id, partition, partitions, applied_lsn, next_outbox_seq) VALUES (0, 0, 4, 7, 1)",
  ).run();
  for (const sql of upgrades) db.exec(sql);
  return db;
}

describePartitionStateStoresContract("SqliteStateStores", async () => {
  const dir = tempDir();
  return {
    stores: new SqliteStateStores(dir),
    cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
});

describe("SqliteStateStores", () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("keeps one file per partition and refuses a file of another partition count", async () => {
    const stores = new SqliteStateStores(dir);
    (await stores.open(0, 4)).close();
    (await stores.open(3, 4)).close();
    expect(fs.existsSync(stateFileOf(dir, 0))).toBe(true);
    expect(fs.existsSync(stateFileOf(dir, 3))).toBe(true);
    await expect(stores.open(3, 8)).rejects.toMatchObject({
      code: "STORE_STATE_FILE_MISMATCH",
      message: expect.stringMatching(/holds partition 3 of 4, not 3 of 8/) as unknown,
    });
  });

  it("starts a new state file from the JSON snapshot a data directory of an older build kept", async () => {
    const legacy = SqlitePartitionStore.open(dir);
    try {
      const old = new MemoryStateStore(emptyPartitionState(2, 4));
      const id = invId(2, 1);
      applyBatch(old, 1, [
        { ...rec.invoke(exclusive(id, "k")), atMs: 5 },
        { ...rec.patchState("Obj", "k", { set: { n: "7" } }), atMs: 6 },
      ]);
      await legacy.saveSnapshot(2, { lsn: 2, state: serializeState(old.state) });

      const state = await new SqliteStateStores(dir, legacy).open(2, 4);

      expect(state.appliedLsn()).toBe(2);
      expect(state.invocation(id)).toEqual(old.invocation(id));
      expect(state.objectState(objectKey("Obj", "k"))).toEqual(new Map([["n", "7"]]));
      expect(state.lock(objectKey("Obj", "k"))).toBe(id);
      state.close();
      // Imported once: the state file now leads, whatever the old snapshot says.
      await legacy.saveSnapshot(2, { lsn: 9, state: serializeState(emptyPartitionState(2, 4)) });
      const reopened = await new SqliteStateStores(dir, legacy).open(2, 4);
      expect(reopened.appliedLsn()).toBe(2);
      reopened.close();
    } finally {
      await legacy.close();
    }
  });

  it("copies the state file at its applied LSN into a file that opens as the same state", async () => {
    const stores = new SqliteStateStores(dir);
    const state = await stores.open(1, 4);
    const id = invId(1, 1);
    applyBatch(state, 1, [
      { ...rec.invoke(exclusive(id, "k")), atMs: 5 },
      { ...rec.patchState("Obj", "k", { set: { n: "7" } }), atMs: 6 },
    ]);
    const copyFile = path.join(dir, "copy", "p1.db");
    fs.mkdirSync(path.dirname(copyFile));

    expect(await state.copyTo(copyFile)).toBe(2);
    applyBatch(state, 3, [{ ...rec.patchState("Obj", "k", { set: { n: "8" } }), atMs: 7 }]);

    const copy = SqliteStateStore.open(copyFile, 1, 4);
    expect(copy.appliedLsn()).toBe(2);
    expect(copy.invocation(id)).toEqual(state.invocation(id));
    expect(copy.objectState(objectKey("Obj", "k"))).toEqual(new Map([["n", "7"]]));
    copy.close();
    state.close();
  });

  it("pages timers in due order at the page limit, and upgrades a version-1 file in place", async () => {
    const file = stateFileOf(dir, 0);
    // A version-1 file, as the build before timers_by_due and invocation_counts wrote it.
    const v1 = olderStateFile(file, []);
    const timers: Timer[] = [5, 3, 3, 9].map((fireAtMs, i) => ({
      id: `t${i}`,
      fireAtMs,
      kind: "expire",
      invocationId: invId(0, i),
    }));
    for (const t of timers)
      v1.prepare("INSERT INTO timers (id, body) VALUES (?, ?)").run(t.id, JSON.stringify(t));
    const insert = v1.prepare(
      "INSERT INTO invocations (id, status, service, object_key, created_at_ms, body) VALUES (?, ?, 'S', NULL, 1, '{}')",
    );
    insert.run("a", "completed");
    insert.run("b", "completed");
    insert.run("c", "suspended");
    v1.pragma("user_version = 1");
    v1.close();

    const state = SqliteStateStore.open(file, 0, 4);

    expect(state.appliedLsn()).toBe(7);
    expect(state.countInvocationsByStatus()).toEqual(
      new Map([
        ["completed", 2],
        ["suspended", 1],
      ]),
    );
    const inOrder = ["t1", "t2", "t0", "t3"];
    expect(state.timersPage(undefined, 4).map((t) => t.id)).toEqual(inOrder); // exactly the limit
    expect(state.timersPage(undefined, 2).map((t) => t.id)).toEqual(["t1", "t2"]);
    expect(state.timersPage({ fireAtMs: 3, id: "t1" }, 2).map((t) => t.id)).toEqual(["t2", "t0"]);
    expect(state.timersPage({ fireAtMs: 9, id: "t3" }, 2)).toEqual([]);
    expect(state.timerCount()).toBe(4);
    // Commits keep counts and the due index current: a new invocation, a timer moved, one deleted.
    applyBatch(state, 8, [{ ...rec.invoke(newInvocation(invId(0, 9))), atMs: 2 }]);
    const writes = emptyWriteSet(9, state.nextOutboxSeq());
    writes.timers.set("t3", { ...timers[3]!, fireAtMs: 1 });
    writes.timers.set("t0", null);
    state.commit(writes);
    expect(state.countInvocationsByStatus().get("running")).toBe(1);
    expect(state.timerCount()).toBe(3);
    expect(state.timersPage(undefined, 1).map((t) => t.id)).toEqual(["t3"]);
    state.close();
    const reopened = SqliteStateStore.open(file, 0, 4);
    expect(reopened.countInvocationsByStatus().get("running")).toBe(1);
    expect(reopened.timerCount()).toBe(3);
    reopened.close();
  });

  it("keeps recently used invocations decoded within its byte budget, the longest never", async () => {
    const file = stateFileOf(dir, 0);
    const state = SqliteStateStore.open(file, 0, 4);
    let lsn = 1;
    const invokeWithInput = (n: number, inputChars: number): void => {
      const input = JSON.stringify("x".repeat(inputChars));
      applyBatch(state, lsn++, [{ ...rec.invoke(newInvocation(invId(0, n), { input })), atMs: n }]);
    };
    // The JSON of an invocation with an input of c characters is `base + c` long.
    invokeWithInput(0, 0);
    const base = JSON.stringify(state.invocation(invId(0, 0))).length;
    // Exactly the longest cached: read twice, the same object.
    invokeWithInput(1, INVOCATION_CACHE_MAX_ENTRY_BYTES - base);
    expect(JSON.stringify(state.invocation(invId(0, 1))).length).toBe(INVOCATION_CACHE_MAX_ENTRY_BYTES);
    expect(state.invocation(invId(0, 1))).toBe(state.invocation(invId(0, 1)));
    // One byte longer: never cached, a new object per read, equal to the one written.
    invokeWithInput(2, INVOCATION_CACHE_MAX_ENTRY_BYTES - base + 1);
    const long = state.invocation(invId(0, 2));
    expect(state.invocation(invId(0, 2))).not.toBe(long);
    expect(state.invocation(invId(0, 2))).toEqual(long);
    // Many more than fit: the cache stays within its budget, every read stays exact.
    const count = Math.ceil((2 * INVOCATION_CACHE_BYTES) / INVOCATION_CACHE_MAX_ENTRY_BYTES) + 3;
    for (let n = 3; n < count; n++) invokeWithInput(n, INVOCATION_CACHE_MAX_ENTRY_BYTES - base);
    expect(state.invocationCacheSize().bytes).toBeLessThanOrEqual(INVOCATION_CACHE_BYTES);
    expect(state.invocationCacheSize().bytes).toBeGreaterThan(INVOCATION_CACHE_BYTES / 2);
    const read = Array.from({ length: count }, (_, n) => state.invocation(invId(0, n)));
    expect(state.invocation(invId(0, count))).toBeUndefined();
    expect(state.countInvocationsByStatus()).toEqual(new Map([["running", count]]));
    state.close();
    const reopened = SqliteStateStore.open(file, 0, 4);
    expect(Array.from({ length: count }, (_, n) => reopened.invocation(invId(0, n)))).toEqual(read);
    expect(reopened.countInvocationsByStatus()).toEqual(new Map([["running", count]]));
    reopened.close();
  });

  it("keeps keys' object states, locks and inboxes within its byte budget, the longest never", async () => {
    const file = stateFileOf(dir, 0);
    const state = SqliteStateStore.open(file, 0, 4);
    let lsn = 0;
    const commit = (fill: (w: ReturnType<typeof emptyWriteSet>) => void): void => {
      const writes = emptyWriteSet(++lsn, state.nextOutboxSeq());
      fill(writes);
      state.commit(writes);
    };
    // Read absent first: a later commit replaces what the cache says, it never answers stale.
    expect([state.objectState("Obj/a"), state.lock("Obj/a"), state.inbox("Obj/a")]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    commit((w) => {
      w.objectState.set("Obj/a", new Map([["n", "1"]]));
      w.locks.set("Obj/a", invId(0, 1));
      w.inboxes.set("Obj/a", [invId(0, 2)]);
    });
    expect(state.objectState("Obj/a")).toEqual(new Map([["n", "1"]]));
    expect(state.objectState("Obj/a")).toBe(state.objectState("Obj/a")); // decoded once
    expect([state.lock("Obj/a"), state.inbox("Obj/a")]).toEqual([invId(0, 1), [invId(0, 2)]]);
    commit((w) => {
      w.objectState.set("Obj/a", new Map([["n", "2"]]));
      w.locks.set("Obj/a", null);
      w.inboxes.set("Obj/a", null);
    });
    expect([state.objectState("Obj/a"), state.lock("Obj/a"), state.inbox("Obj/a")]).toEqual([
      new Map([["n", "2"]]),
      undefined,
      undefined,
    ]);
    // Written from what the cache knows of the file: a value updated, one removed, one added.
    commit((w) => {
      w.objectState.set(
        "Obj/b",
        new Map([
          ["x", "1"],
          ["y", "2"],
        ]),
      );
    });
    commit((w) => {
      w.objectState.set(
        "Obj/b",
        new Map([
          ["x", "3"],
          ["z", "4"],
        ]),
      );
      w.locks.set("Obj/b", null); // never taken: nothing to delete
      w.inboxes.set("Obj/b", null);
    });
    const reader = new Database(file, { readonly: true });
    expect(
      reader
        .prepare("SELECT state_key, value FROM object_state WHERE object_key = 'Obj/b' ORDER BY state_key")
        .all(),
    ).toEqual([
      { state_key: "x", value: "3" },
      { state_key: "z", value: "4" },
    ]);
    reader.close();
    // A commit that fails leaves the reads at the last commit, not at what it wrote before failing.
    const broken = { id: "retry:x:1", fireAtMs: null } as unknown as Timer;
    expect(() =>
      commit((w) => {
        w.locks.set("Obj/a", invId(0, 3));
        w.inboxes.set("Obj/a", [invId(0, 4)]);
        w.timers.set(broken.id, broken); // fire_at_ms is NOT NULL: the commit rolls back
      }),
    ).toThrow();
    lsn--;
    expect([state.lock("Obj/a"), state.inbox("Obj/a")]).toEqual([undefined, undefined]);
    // An entry of exactly the largest size is kept (64 bytes for the entry, then name and value).
    const longest = "v".repeat(STATE_ROW_CACHE_MAX_ENTRY_BYTES - 64 - 1);
    commit((w) => {
      w.objectState.set("Obj/long", new Map([["n", longest]]));
      w.objectState.set("Obj/longer", new Map([["n", longest + "v"]]));
    });
    expect(state.objectState("Obj/long")).toBe(state.objectState("Obj/long"));
    const longer = state.objectState("Obj/longer");
    expect(state.objectState("Obj/longer")).not.toBe(longer); // one byte over: read each time
    expect(state.objectState("Obj/longer")).toEqual(longer);
    // Many more keys than fit: the cache stays within its budget, every read exact.
    const keys = Math.ceil((2 * STATE_ROW_CACHE_BYTES) / STATE_ROW_CACHE_MAX_ENTRY_BYTES) + 3;
    commit((w) => {
      for (let k = 0; k < keys; k++) w.objectState.set(`Obj/k${k}`, new Map([["n", longest]]));
    });
    const read = Array.from({ length: keys }, (_, k) => state.objectState(`Obj/k${k}`));
    expect(state.objectStateCacheSize().bytes).toBeLessThanOrEqual(STATE_ROW_CACHE_BYTES);
    expect(state.objectStateCacheSize().bytes).toBeGreaterThan(STATE_ROW_CACHE_BYTES / 2);
    expect(read.every((values) => values?.get("n") === longest)).toBe(true);
    state.close();
    const reopened = SqliteStateStore.open(file, 0, 4);
    expect(Array.from({ length: keys }, (_, k) => reopened.objectState(`Obj/k${k}`))).toEqual(read);
    expect(reopened.objectState("Obj/a")).toEqual(new Map([["n", "2"]]));
    reopened.close();
  });

  it("upgrades a version-2 file: its counts move into the meta row, kept by each commit", async () => {
    const file = stateFileOf(dir, 0);
    // A version-2 file, as the build with the invocation_counts table wrote it.
    const v2 = olderStateFile(file, [STATE_SCHEMA_V1_TO_V2]);
    const insert = v2.prepare(
      "INSERT INTO invocations (id, status, service, object_key, created_at_ms, body) VALUES (?, ?, 'S', NULL, 1, '{}')",
    );
    insert.run("a", "completed");
    insert.run("b", "suspended");
    v2.exec("INSERT INTO invocation_counts (status, n) VALUES ('completed', 1), ('suspended', 1)");
    const timer = v2.prepare("INSERT INTO timers (id, fire_at_ms, body) VALUES (?, 5, '{}')");
    timer.run("sleep:a:1");
    timer.run("retry:b:1");
    v2.exec("UPDATE partition_meta SET timer_count = 2");
    v2.pragma("user_version = 2");
    v2.close();

    const state = SqliteStateStore.open(file, 0, 4);

    expect(state.appliedLsn()).toBe(7);
    expect(state.timerCount()).toBe(2);
    expect(state.countInvocationsByStatus()).toEqual(
      new Map([
        ["completed", 1],
        ["suspended", 1],
      ]),
    );
    applyBatch(state, 8, [{ ...rec.invoke(newInvocation(invId(0, 9))), atMs: 2 }]);
    state.close();
    const upgraded = new Database(file, { readonly: true });
    expect(upgraded.pragma("user_version", { simple: true })).toBe(STATE_SCHEMA_VERSION);
    expect(upgraded.prepare("SELECT name FROM sqlite_master WHERE name = 'invocation_counts'").all()).toEqual(
      [],
    );
    upgraded.close();
    const reopened = SqliteStateStore.open(file, 0, 4);
    expect(reopened.appliedLsn()).toBe(8);
    expect(reopened.countInvocationsByStatus()).toEqual(
      new Map([
        ["completed", 1],
        ["suspended", 1],
        ["running", 1],
      ]),
    );
    reopened.close();
  });

  it("upgrades a version-3 file: timers counted per group, so a group holding none is never read", async () => {
    const file = stateFileOf(dir, 0);
    const v3 = olderStateFile(file, [STATE_SCHEMA_V1_TO_V2, STATE_SCHEMA_V2_TO_V3]);
    const sleep: Timer = {
      id: "sleep:a:1",
      fireAtMs: 5,
      kind: "sleep",
      invocationId: invId(0, 1),
      entryIndex: 1,
    };
    const insert = v3.prepare("INSERT INTO timers (id, fire_at_ms, body) VALUES (?, ?, ?)");
    insert.run(sleep.id, sleep.fireAtMs, JSON.stringify(sleep));
    insert.run("sleep:b:2", 6, JSON.stringify({ ...sleep, id: "sleep:b:2", fireAtMs: 6 }));
    insert.run("legacy", 7, JSON.stringify({ ...sleep, id: "legacy", fireAtMs: 7 }));
    v3.exec("UPDATE partition_meta SET timer_count = 3");
    v3.pragma("user_version = 3");
    v3.close();

    const state = SqliteStateStore.open(file, 0, 4);
    expect(state.timerCount()).toBe(3);
    expect(state.timer("sleep:a:1")).toEqual(sleep);
    expect(state.timer("legacy")?.fireAtMs).toBe(7); // an id without a group
    expect(state.timer("retry:a:1")).toBeUndefined();
    // The groups' counts follow each commit: the first retry timer is read, the last sleep gone.
    const retry: Timer = {
      id: "retry:a:1",
      fireAtMs: 9,
      kind: "retry",
      invocationId: invId(0, 1),
      attempt: 1,
    };
    let writes = emptyWriteSet(8, state.nextOutboxSeq());
    writes.timers.set(retry.id, retry);
    writes.timers.set("sleep:a:1", null);
    writes.timers.set("sleep:b:2", null);
    writes.timers.set("sleep:never:3", null); // deleting what is not there changes no count
    state.commit(writes);
    expect(state.timer(retry.id)).toEqual(retry);
    expect(state.timer("sleep:a:1")).toBeUndefined();
    expect(state.timerCount()).toBe(2);
    writes = emptyWriteSet(9, state.nextOutboxSeq());
    writes.timers.set(retry.id, { ...retry, fireAtMs: 10 }); // moved, not added
    state.commit(writes);
    state.close();
    const reopened = SqliteStateStore.open(file, 0, 4);
    expect(reopened.timerCount()).toBe(2);
    expect(reopened.timer(retry.id)).toEqual({ ...retry, fireAtMs: 10 });
    expect(reopened.timersPage(undefined, 10).map((t) => t.id)).toEqual(["legacy", retry.id]);
    reopened.close();
  });

  it("keeps its reads in one transaction until the next commit, never blocking another reader", async () => {
    const file = stateFileOf(dir, 0);
    const state = SqliteStateStore.open(file, 0, 4);
    applyBatch(state, 1, [{ ...rec.invoke(newInvocation(invId(0, 1))), atMs: 1 }]);
    expect(state.lock("Obj/k")).toBeUndefined(); // opens the read transaction
    // Another process's reader (the admin SQL reads state files in place) reads the last commit.
    const reader = new Database(file, { readonly: true });
    const applied = (): unknown => reader.prepare("SELECT applied_lsn FROM partition_meta").get();
    expect(applied()).toEqual({ applied_lsn: 1 });
    applyBatch(state, 2, [{ ...rec.invoke(newInvocation(invId(0, 2))), atMs: 2 }]);
    expect(applied()).toEqual({ applied_lsn: 2 });
    expect(state.invocationsPage(undefined, 10).map((inv) => inv.id)).toEqual([invId(0, 1), invId(0, 2)]);
    expect(await state.persist()).toBe(2);
    reader.close();
    state.close();
  });

  it("lets the WAL grow to STATE_WAL_CHECKPOINT_PAGES before a commit checkpoints it", async () => {
    const file = stateFileOf(dir, 0);
    const state = SqliteStateStore.open(file, 0, 4);
    const pageBytes = 4096 + 24; // SQLite's default page size, and each WAL frame's header
    const value = JSON.stringify("v".repeat(64 * 1024)); // ~17 pages a commit
    const walBytes = (): number => (fs.existsSync(`${file}-wal`) ? fs.statSync(`${file}-wal`).size : 0);
    let largest = 0;
    for (let lsn = 1; lsn <= Math.ceil((STATE_WAL_CHECKPOINT_PAGES * 1.5) / 17); lsn++) {
      const writes = emptyWriteSet(lsn, state.nextOutboxSeq());
      writes.objectState.set(`Obj/k${lsn % 8}`, new Map([["v", value]]));
      state.commit(writes);
      largest = Math.max(largest, walBytes());
    }
    // Up to the limit (far past SQLite's default of 1,000 pages), never past it by more than a commit.
    expect(largest).toBeGreaterThan(Math.max(2_000, STATE_WAL_CHECKPOINT_PAGES - 64) * pageBytes);
    expect(largest).toBeLessThanOrEqual((STATE_WAL_CHECKPOINT_PAGES + 64) * pageBytes);
    await state.persist();
    expect(walBytes()).toBe(0);
    state.close();
  });
});
