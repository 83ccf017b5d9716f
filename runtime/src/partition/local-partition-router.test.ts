import { InMemoryLogStore } from "../storage/in-memory-log-store";
import { InMemoryPartitionStore } from "../storage/in-memory-partition-store";
import { JsonSnapshotStateStores } from "../storage/json-snapshot-state-stores";
import { ManualClock } from "../testing/manual-clock";
import { LocalPartitionRouter } from "./local-partition-router";
import { describePartitionRouterContract } from "./partition-router.contract";
import { PartitionUnavailableError } from "./partition-errors";
import type { RecordInput } from "./partition-processor";

describePartitionRouterContract("LocalPartitionRouter", async (partitions) => {
  const log = new InMemoryLogStore();
  const router = new LocalPartitionRouter(
    partitions,
    log,
    new JsonSnapshotStateStores(new InMemoryPartitionStore()),
    new ManualClock(1_000),
    {
      onEffects: () => undefined,
      onFenced: () => undefined,
      onWarning: () => undefined,
    },
  );
  await router.start(1_000);
  return {
    router,
    takeOver: async (partition) => {
      await log.append(partition, (await log.lastLsn(partition)) + 1, [
        { kind: "recover", epoch: 2, atMs: 1_000 },
      ]);
    },
    cleanup: async () => {
      await router.stop();
      await log.close();
    },
  };
});

describe("LocalPartitionRouter in a cluster (mode acquired)", () => {
  const quiet = { onEffects: () => undefined, onFenced: () => undefined, onWarning: () => undefined };
  const patch = (count: string): RecordInput => ({
    kind: "patch-state",
    service: "Obj",
    key: "k",
    set: { count },
    clear: [],
    clearAll: false,
  });

  test("leads only what it acquired; a release persists, a later acquire at a higher epoch recovers", async () => {
    const log = new InMemoryLogStore();
    const partitionStore = new InMemoryPartitionStore();
    const open = () =>
      new LocalPartitionRouter(
        2,
        log,
        new JsonSnapshotStateStores(partitionStore),
        new ManualClock(1_000),
        quiet,
        "acquired",
      );
    const first = open();
    expect(first.health(0)).toEqual({ state: "elsewhere" });
    await expect(first.append(0, patch("1"), "external")).rejects.toBeInstanceOf(PartitionUnavailableError);
    await first.acquire(0, await log.claim(0, "a"));
    expect(first.leading()).toEqual([0]);
    await first.append(0, patch("7"), "external");
    await first.release(0);
    expect(first.health(0)).toEqual({ state: "elsewhere" });
    await expect(first.append(0, patch("8"), "internal")).rejects.toMatchObject({
      code: "RUNTIME_PARTITION_UNAVAILABLE",
    });
    // Another node's router takes it over: the state it finds is the one handed over.
    const second = open();
    const epoch = await log.claim(0, "b");
    await second.acquire(0, epoch);
    expect(second.health(0)).toMatchObject({ state: "leading", epoch });
    expect(await second.view(0).objectState("Obj", "k")).toEqual(new Map([["count", "7"]]));
    await expect(second.acquire(0, epoch)).rejects.toThrow(/already led/);
    await second.stop();
    await first.stop();
    await log.close();
  });

  test("start() is for one node only", async () => {
    const router = new LocalPartitionRouter(
      1,
      new InMemoryLogStore(),
      new JsonSnapshotStateStores(new InMemoryPartitionStore()),
      new ManualClock(0),
      quiet,
      "acquired",
    );
    await expect(router.start(1)).rejects.toThrow(/acquire/);
  });
});
