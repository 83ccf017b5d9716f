/**
 * The behaviour every PartitionStore must have, run by each implementation's test.
 */
import type { PartitionStore } from "./partition-store";

export interface PartitionStoreFixture {
  store: PartitionStore;
  /** A new store over the same durable data, after `store` was closed. */
  reopen(): Promise<PartitionStore>;
  /** Closes whatever is still open and deletes the data. */
  cleanup(): Promise<void>;
}

export function describePartitionStoreContract(
  name: string,
  makeStore: () => Promise<PartitionStoreFixture>,
): void {
  describe(`PartitionStore contract: ${name}`, () => {
    let fixture: PartitionStoreFixture;
    let store: PartitionStore;
    beforeEach(async () => {
      fixture = await makeStore();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    it("saves and loads snapshots per partition; a snapshot never goes backwards", async () => {
      expect(await store.loadSnapshot(0)).toBeUndefined();

      await store.saveSnapshot(0, { lsn: 10, state: { invocations: { a: 1 } } });
      await store.saveSnapshot(1, { lsn: 3, state: "p1" });
      await store.saveSnapshot(0, { lsn: 7, state: { stale: true } });
      expect(await store.loadSnapshot(0)).toEqual({ lsn: 10, state: { invocations: { a: 1 } } });

      await store.saveSnapshot(0, { lsn: 12, state: { invocations: {} } });
      expect(await store.loadSnapshot(0)).toEqual({ lsn: 12, state: { invocations: {} } });
      expect(await store.loadSnapshot(1)).toEqual({ lsn: 3, state: "p1" });
    });

    it("puts, gets, lists by prefix in key order, and deletes metadata", async () => {
      expect(await store.getMeta("deployment/a")).toBeUndefined();

      await store.putMeta("deployment/b", { arn: "arn:b" });
      await store.putMeta("deployment/a", { arn: "arn:a" });
      await store.putMeta("deploymentx", 1);
      await store.putMeta("service/s", { name: "s" });
      await store.putMeta("deployment/a", { arn: "arn:a2" });

      expect(await store.getMeta("deployment/a")).toEqual({ arn: "arn:a2" });
      expect(await store.listMeta("deployment/")).toEqual([
        { key: "deployment/a", value: { arn: "arn:a2" } },
        { key: "deployment/b", value: { arn: "arn:b" } },
      ]);
      expect((await store.listMeta("")).map((m) => m.key)).toEqual([
        "deployment/a",
        "deployment/b",
        "deploymentx",
        "service/s",
      ]);

      await store.deleteMeta("deployment/a");
      await store.deleteMeta("absent");
      expect(await store.getMeta("deployment/a")).toBeUndefined();
      expect((await store.listMeta("deployment")).map((m) => m.key)).toEqual(["deployment/b", "deploymentx"]);
    });

    it("persists across close and reopen", async () => {
      await store.saveSnapshot(2, { lsn: 5, state: { k: "v" } });
      await store.putMeta("deployment/z", { url: "http://z" });
      await store.close();

      const reopened = await fixture.reopen();
      expect(await reopened.loadSnapshot(2)).toEqual({ lsn: 5, state: { k: "v" } });
      expect(await reopened.getMeta("deployment/z")).toEqual({ url: "http://z" });
      await reopened.close();
    });
  });
}
