/**
 * The behaviour every LogStore must have, run by each implementation's test (embedded, DynamoDB).
 */
import { LogConflictError, LogFencedError } from "./log-store";
import type { LogStore } from "./log-store";

export interface LogStoreFixture {
  store: LogStore;
  /** A new store over the same durable data (same directory / table), after `store` was closed. */
  reopen(): Promise<LogStore>;
  /** Another store over the same data while `store` is open: a second node. Closed by cleanup. */
  openAnother(): Promise<LogStore>;
  /** Closes whatever is still open and deletes the data. */
  cleanup(): Promise<void>;
}

const rec = (partition: number, lsn: number): { p: number; lsn: number; body: string } => ({
  p: partition,
  lsn,
  body: `record ${partition}/${lsn} ✓`,
});

async function expectConflict(promise: Promise<unknown>, partition: number, lsn: number): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LogConflictError);
  expect(error).toMatchObject({ code: "STORE_LOG_CONFLICT", partition, lsn });
}

async function expectFenced(promise: Promise<unknown>, partition: number, fenceEpoch: number): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(LogFencedError);
  expect(error).toMatchObject({ code: "STORE_LOG_FENCED", partition, fence: { epoch: fenceEpoch } });
}

export function describeLogStoreContract(name: string, makeStore: () => Promise<LogStoreFixture>): void {
  describe(`LogStore contract: ${name}`, () => {
    let fixture: LogStoreFixture;
    let store: LogStore;
    beforeEach(async () => {
      fixture = await makeStore();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    it("appends and reads back in lsn order, paged by afterLsn and limit", async () => {
      expect(await store.lastLsn(0)).toBe(0);
      expect(await store.read(0, 0, 10)).toEqual([]);

      await store.append(0, 1, [rec(0, 1), rec(0, 2)]);
      await store.append(0, 3, [rec(0, 3)]);
      await store.append(1, 1, [{ nested: { list: [1, null, "x"] } }]);

      expect(await store.lastLsn(0)).toBe(3);
      expect(await store.lastLsn(1)).toBe(1);
      expect(await store.read(0, 0, 10)).toEqual([1, 2, 3].map((lsn) => ({ lsn, record: rec(0, lsn) })));
      expect(await store.read(0, 1, 1)).toEqual([{ lsn: 2, record: rec(0, 2) }]);
      expect(await store.read(0, 3, 10)).toEqual([]);
      expect(await store.read(1, 0, 10)).toEqual([{ lsn: 1, record: { nested: { list: [1, null, "x"] } } }]);
    });

    it("rejects a duplicate lsn and a gap with LogConflictError, leaving the log unchanged", async () => {
      await store.append(2, 1, [rec(2, 1), rec(2, 2)]);

      await expectConflict(store.append(2, 2, [rec(2, 99)]), 2, 2);
      await expectConflict(store.append(2, 1, [rec(2, 99)]), 2, 1);
      await expectConflict(store.append(2, 4, [rec(2, 4)]), 2, 4);
      await expectConflict(store.append(3, 2, [rec(3, 2)]), 3, 2);

      expect(await store.read(2, 0, 10)).toEqual([1, 2].map((lsn) => ({ lsn, record: rec(2, lsn) })));
      expect(await store.lastLsn(3)).toBe(0);
      await store.append(2, 3, [rec(2, 3)]);
      expect(await store.lastLsn(2)).toBe(3);
    });

    it("makes concurrent appends to many partitions all durable; a conflict rejects only its caller", async () => {
      const partitions = 16;
      const perPartition = 12;
      const appends: Array<Promise<void>> = [];
      for (let lsn = 1; lsn <= perPartition; lsn++) {
        for (let p = 0; p < partitions; p++) appends.push(store.append(p, lsn, [rec(p, lsn)]));
      }
      // Settled into a value at once: a store that refuses it before the others commit must not
      // leave a rejection unhandled while the test waits for them.
      const duplicate = store.append(5, 1, [rec(5, 1)]).then(
        () => undefined,
        (e: unknown) => e,
      );

      await Promise.all(appends);
      const refusal = await duplicate;
      expect(refusal).toBeInstanceOf(LogConflictError);
      expect(refusal).toMatchObject({ code: "STORE_LOG_CONFLICT", partition: 5, lsn: 1 });
      for (let p = 0; p < partitions; p++) {
        expect(await store.lastLsn(p)).toBe(perPartition);
        const read = await store.read(p, 0, 100);
        expect(read.map((r) => r.lsn)).toEqual(Array.from({ length: perPartition }, (_, i) => i + 1));
        expect(read[0]!.record).toEqual(rec(p, 1));
      }
    });

    it("trims records up to an lsn and keeps lastLsn and lsn continuity", async () => {
      await store.append(
        4,
        1,
        [1, 2, 3, 4, 5].map((lsn) => rec(4, lsn)),
      );

      await store.trim(4, 3);
      expect((await store.read(4, 0, 10)).map((r) => r.lsn)).toEqual([4, 5]);
      expect(await store.lastLsn(4)).toBe(5);

      await store.trim(4, 5);
      expect(await store.read(4, 0, 10)).toEqual([]);
      expect(await store.lastLsn(4)).toBe(5);
      await expectConflict(store.append(4, 5, [rec(4, 5)]), 4, 5);
      await store.append(4, 6, [rec(4, 6)]);
      expect(await store.read(4, 0, 10)).toEqual([{ lsn: 6, record: rec(4, 6) }]);
    });

    it("persists across close and reopen", async () => {
      await store.append(7, 1, [rec(7, 1), rec(7, 2)]);
      const pending = store.append(8, 1, [rec(8, 1)]);
      await store.close();
      await pending;

      const reopened = await fixture.reopen();
      expect(await reopened.read(7, 0, 10)).toEqual([1, 2].map((lsn) => ({ lsn, record: rec(7, lsn) })));
      expect(await reopened.lastLsn(8)).toBe(1);
      await expectConflict(reopened.append(7, 2, [rec(7, 2)]), 7, 2);
      await reopened.append(7, 3, [rec(7, 3)]);
      expect(await reopened.lastLsn(7)).toBe(3);
      await reopened.close();
    });

    it("fences: a claim raises the epoch and refuses appends from older claims and from unclaimed stores", async () => {
      const other = await fixture.openAnother();
      expect(await store.fence(9)).toEqual({ epoch: 0, owner: undefined });
      await store.append(9, 1, [rec(9, 1)]); // never claimed: anyone may append

      const first = await store.claim(9, "node-a");
      await store.append(9, 2, [rec(9, 2)]);
      await expectFenced(other.append(9, 3, [rec(9, 3)]), 9, first);
      const second = await other.claim(9, "node-b");

      expect(second).toBeGreaterThan(first);
      expect(await store.fence(9)).toEqual({ epoch: second, owner: "node-b" });
      await expectFenced(store.append(9, 3, [rec(9, 99)]), 9, second);
      await other.append(9, 3, [rec(9, 3)]);
      expect(await other.read(9, 0, 10)).toEqual([1, 2, 3].map((lsn) => ({ lsn, record: rec(9, lsn) })));
      expect(await store.lastLsn(10)).toBe(0);
      await store.append(10, 1, [rec(10, 1)]); // the fence is per partition
    });

    it("refuses a stale writer even at lsns that trimming freed", async () => {
      const other = await fixture.openAnother();
      await store.claim(11, "node-a");
      await store.append(11, 1, [rec(11, 1), rec(11, 2)]);
      const epoch = await other.claim(11, "node-b");
      await other.append(11, 3, [rec(11, 3)]);
      await other.trim(11, 3);

      // Every batch the stale writer knew is gone: only the fence can refuse it now.
      await expectFenced(store.append(11, 1, [rec(11, 99)]), 11, epoch);
      await expectFenced(store.append(11, 3, [rec(11, 99)]), 11, epoch);
      await expectFenced(store.append(11, 4, [rec(11, 99)]), 11, epoch);
      expect(await other.read(11, 0, 10)).toEqual([]);
      await other.append(11, 4, [rec(11, 4)]);
      expect(await store.read(11, 0, 10)).toEqual([{ lsn: 4, record: rec(11, 4) }]);
    });

    it("hands over: a takeover of a moved epoch is refused; a release lets the next claim in at once", async () => {
      const other = await fixture.openAnother();
      const seen = (await store.fence(12)).epoch;
      const mine = await store.claim(12, "node-a", { ifEpoch: seen });
      await expectFenced(other.claim(12, "node-b", { ifEpoch: seen }), 12, mine);
      await store.append(12, 1, [rec(12, 1)]);

      await store.release(12);
      expect(await other.fence(12)).toEqual({ epoch: mine, owner: undefined });
      await expectFenced(store.append(12, 2, [rec(12, 2)]), 12, mine);
      const next = await other.claim(12, "node-b", { ifEpoch: mine });
      expect(next).toBeGreaterThan(mine);
      await other.append(12, 2, [rec(12, 2)]);
      await store.release(12); // released already: nothing to do, the new owner keeps the partition
      expect(await other.fence(12)).toEqual({ epoch: next, owner: "node-b" });
    });

    it("keeps the fence across close and reopen", async () => {
      const epoch = await store.claim(13, "node-a");
      await store.close();

      const reopened = await fixture.reopen();
      expect(await reopened.fence(13)).toEqual({ epoch, owner: "node-a" });
      await expectFenced(reopened.append(13, 1, [rec(13, 1)]), 13, epoch); // a new store holds no claim
      expect(await reopened.claim(13, "node-a")).toBeGreaterThan(epoch);
      await reopened.append(13, 1, [rec(13, 1)]);
      await reopened.close();
    });
  });
}
