import type { Effect } from "../core/effects";
import { ManualClock } from "../testing/manual-clock";
import type { LogStore } from "../storage/log-store";
import type { PartitionStore } from "../storage/partition-store";
import { MAX_PENDING_RECORDS, PartitionProcessor } from "./partition-processor";

/** A log whose commits never finish: records pile up in the processor's queue. */
const stuckLog = { append: () => new Promise<void>(() => undefined) } as unknown as LogStore;
const noSink = {
  onEffects: (_p: number, _e: Effect[]) => undefined,
  onFenced: () => undefined,
  onWarning: () => undefined,
};

test("requests from outside are refused beyond MAX_PENDING_RECORDS; the runtime's own records are not", async () => {
  const processor = new PartitionProcessor(0, 1, stuckLog, {} as PartitionStore, new ManualClock(0), noSink);
  const record = { kind: "timer-fired" as const, timerId: "t" };
  for (let i = 0; i < MAX_PENDING_RECORDS; i++) void processor.append(record);
  await expect(processor.append(record)).rejects.toMatchObject({ code: "RUNTIME_OVERLOADED" });
  void processor.append(record, "internal");
  expect(processor.pendingRecords).toBe(MAX_PENDING_RECORDS + 1);
});
