/**
 * Remote deliveries keep seq order per (producer, receiver): the receiver drops a seq at or below
 * the last it applied, so a later record landing first, or landing after an earlier one failed,
 * would lose records.
 */
import type { LocalPartitionRouter } from "../partition/local-partition-router";
import type { RecordInput } from "../partition/partition-processor";
import { ClusterDeliveryRouter } from "./cluster-delivery-router";

const elsewhere = {
  partitions: 4,
  health: () => ({ state: "elsewhere" }),
} as unknown as LocalPartitionRouter;

const record = (seq: number): RecordInput =>
  ({ kind: "outbox-delivered", origin: { partition: 0, seq } }) as unknown as RecordInput;

test("remote appends of a pair are sent one after the other, in order, though the network reorders", async () => {
  const landed: number[] = [];
  // The first request is the slowest: sent concurrently, it would land last.
  const router = new ClusterDeliveryRouter(elsewhere, async (_p, r) => {
    const seq = r.origin!.seq;
    await new Promise((resolve) => setTimeout(resolve, seq === 1 ? 30 : 1));
    landed.push(seq);
  });
  await Promise.all([1, 2, 3, 4].map((seq) => router.append(1, record(seq), "internal")));
  expect(landed).toEqual([1, 2, 3, 4]);
});

test("after a failed remote append the rest of the burst fails unsent; the next burst starts afresh", async () => {
  const landed: number[] = [];
  let failFirst = true;
  const router = new ClusterDeliveryRouter(elsewhere, async (_p, r) => {
    if (failFirst) {
      failFirst = false;
      throw new Error("leader did not answer");
    }
    landed.push(r.origin!.seq);
  });
  const results = await Promise.allSettled([1, 2, 3].map((seq) => router.append(1, record(seq), "internal")));
  expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
  expect(landed).toEqual([]);
  await Promise.all([1, 2, 3].map((seq) => router.append(1, record(seq), "internal")));
  expect(landed).toEqual([1, 2, 3]);
});
