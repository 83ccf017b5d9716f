/**
 * The behaviour every SnapshotStore must have, run by each implementation's test (S3 + DynamoDB,
 * in memory).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { SNAPSHOTS_KEPT, SnapshotFencedError, SnapshotMissingError } from "./snapshot-store";
import type { SnapshotStore } from "./snapshot-store";

export interface SnapshotStoreFixture {
  store: SnapshotStore;
  /** Another store over the same data while `store` is open (another node). Closed by cleanup. */
  openAnother(): Promise<SnapshotStore>;
  /** Snapshot objects actually held for the partition (deleted ones must be gone). */
  objectCount(partition: number): Promise<number>;
  cleanup(): Promise<void>;
}

const bytesOf = (text: string): Uint8Array => new TextEncoder().encode(text);
const textOf = (bytes: Uint8Array | undefined): string | undefined =>
  bytes === undefined ? undefined : new TextDecoder().decode(bytes);

export function describeSnapshotStoreContract(
  name: string,
  makeStore: () => Promise<SnapshotStoreFixture>,
): void {
  describe(`SnapshotStore contract: ${name}`, () => {
    let fixture: SnapshotStoreFixture;
    let store: SnapshotStore;
    beforeEach(async () => {
      fixture = await makeStore();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    it("stores and returns the newest snapshot per partition; the pointer never goes back", async () => {
      expect(await store.latest(0)).toBeUndefined();
      expect(await store.list(0)).toEqual([]);

      expect(await store.put(0, 10, 1, bytesOf("state@10"))).toBe(true);
      expect(await store.put(1, 3, 1, bytesOf("p1@3"))).toBe(true);
      expect(await store.put(0, 7, 1, bytesOf("older"))).toBe(false);
      expect(await store.put(0, 10, 1, bytesOf("same lsn"))).toBe(false);

      const latest = await store.latest(0);
      expect(latest).toMatchObject({ lsn: 10, epoch: 1 });
      expect(textOf(latest?.bytes)).toBe("state@10");
      expect(textOf((await store.latest(1))?.bytes)).toBe("p1@3");
      expect(await fixture.objectCount(0)).toBe(1); // a refused snapshot leaves nothing behind
    });

    it("refuses a snapshot from an epoch below the pointer's, whatever its lsn", async () => {
      const other = await fixture.openAnother();
      await store.put(2, 5, 1, bytesOf("old leader"));
      await other.put(2, 6, 2, bytesOf("new leader"));

      const refused = await store.put(2, 100, 1, bytesOf("stale")).then(
        () => undefined,
        (e: unknown) => e,
      );

      expect(refused).toBeInstanceOf(SnapshotFencedError);
      expect(refused).toMatchObject({
        code: "STORE_SNAPSHOT_FENCED",
        partition: 2,
        epoch: 1,
        pointerEpoch: 2,
      });
      expect(textOf((await store.latest(2))?.bytes)).toBe("new leader");
      expect(await fixture.objectCount(2)).toBe(2);
    });

    it(`keeps the newest ${SNAPSHOTS_KEPT} snapshots and deletes older ones`, async () => {
      for (const lsn of [10, 20, 30, 40]) await store.put(3, lsn, 1, bytesOf(`state@${lsn}`));

      const kept = await store.list(3);
      expect(kept.map((r) => r.lsn)).toEqual([40, 30]);
      expect(new Set(kept.map((r) => r.key)).size).toBe(SNAPSHOTS_KEPT);
      expect(await fixture.objectCount(3)).toBe(SNAPSHOTS_KEPT);
      expect(textOf((await store.latest(3))?.bytes)).toBe("state@40");
    });

    it("lets concurrent writers race: the highest lsn wins and the loser's object is not kept", async () => {
      const other = await fixture.openAnother();
      const results = await Promise.all([
        store.put(4, 50, 3, bytesOf("fifty")),
        other.put(4, 60, 3, bytesOf("sixty")),
        store.put(4, 55, 3, bytesOf("fifty-five")),
      ]);

      expect(results).toContain(true);
      const latest = await other.latest(4);
      expect(latest).toMatchObject({ lsn: 60, epoch: 3 });
      expect(textOf(latest?.bytes)).toBe("sixty");
      expect(await fixture.objectCount(4)).toBeLessThanOrEqual(SNAPSHOTS_KEPT);
    });

    it("round-trips binary bytes of several MB and validates its arguments", async () => {
      const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7919) % 251);
      await store.put(5, 1, 0, big);
      expect(Buffer.from((await store.latest(5))!.bytes).equals(Buffer.from(big))).toBe(true);
      await expect(store.put(5, 0, 1, big)).rejects.toThrow(RangeError);
      await expect(store.put(-1, 2, 1, big)).rejects.toThrow(RangeError);
    });

    it("streams a file in and out; a ref whose object is gone is SnapshotMissingError", async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "capstan-snapshot-contract-"));
      try {
        const file = path.join(dir, "state.db");
        const big = Buffer.alloc(5 * 1024 * 1024 + 17).map((_, i) => (i * 31) % 253);
        fs.writeFileSync(file, big);
        expect(await store.putFile(6, 8, 1, file)).toBe(true);
        expect(await store.putFile(6, 8, 1, file)).toBe(false);
        await expect(store.putFile(6, 0, 1, file)).rejects.toThrow(RangeError);

        const [ref] = await store.list(6);
        const copy = path.join(dir, "copy.db");
        fs.writeFileSync(copy, "longer stale content than nothing, truncated by the download");
        await store.download(ref!, copy);
        expect(fs.readFileSync(copy).equals(big)).toBe(true);

        for (const lsn of [9, 10]) await store.put(6, lsn, 1, bytesOf(`state@${lsn}`));
        await expect(store.download(ref!, copy)).rejects.toBeInstanceOf(SnapshotMissingError);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
