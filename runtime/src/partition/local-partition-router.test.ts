import { InMemoryLogStore } from "../storage/in-memory-log-store";
import { InMemoryPartitionStore } from "../storage/in-memory-partition-store";
import { JsonSnapshotStateStores } from "../storage/json-snapshot-state-stores";
import { ManualClock } from "../testing/manual-clock";
import { LocalPartitionRouter } from "./local-partition-router";
import { describePartitionRouterContract } from "./partition-router.contract";

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
