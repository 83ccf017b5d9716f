import type { OutboxMessage } from "../core/state";
import type { RecordInput } from "./partition-processor";
import type { PartitionRouter } from "./partition-router";
import { DELIVERY_RETRY_INITIAL_MS, OutboxDelivery } from "./outbox-delivery";

/** Records appends; rejects the next `failNext` ones (as an overloaded or failing partition would). */
class FakePartition {
  readonly appended: RecordInput[] = [];
  failNext = 0;
  async append(record: RecordInput): Promise<[]> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error("partition overloaded");
    }
    this.appended.push(record);
    return [];
  }
}

/** A router over the fake partitions: appends only (delivery reads nothing), all leading. */
function routerOver(partitions: FakePartition[]): PartitionRouter {
  return {
    partitions: partitions.length,
    append: (p, record) => partitions[p]!.append(record),
    view: () => {
      throw new Error("outbox delivery reads no view");
    },
    health: () => ({ state: "leading", epoch: 1, pendingRecords: 0 }),
  };
}

const message = (entryIndex: number): OutboxMessage => ({
  kind: "complete-entry",
  invocationId: "inv_1_aaaaaaaaaaaa" as never,
  entryIndex,
  result: { kind: "empty" },
});

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

test("a failed delivery is retried before anything newer is sent, so no seq is skipped", async () => {
  const producer = new FakePartition();
  const receiver = new FakePartition();
  const delivery = new OutboxDelivery(
    routerOver([producer, receiver]),
    () => Promise.resolve({ failure: { code: 500, message: "unused" } }),
    () => undefined,
  );
  receiver.failNext = 1;
  delivery.deliver(0, 1, 1, message(1));
  delivery.deliver(0, 1, 2, message(2));
  delivery.deliver(0, 1, 3, message(3));
  await jest.advanceTimersByTimeAsync(0);
  expect(receiver.appended).toEqual([]); // seq 1 failed: 2 and 3 wait behind it
  await jest.advanceTimersByTimeAsync(DELIVERY_RETRY_INITIAL_MS);
  expect(receiver.appended.map((r) => (r as { origin?: { seq: number } }).origin?.seq)).toEqual([1, 2, 3]);
  await jest.runOnlyPendingTimersAsync();
  // Only what arrived is confirmed to the producer, up to the highest seq delivered.
  expect(producer.appended.at(-1)).toMatchObject({ kind: "outbox-delivered", toPartition: 1, upToSeq: 3 });
  delivery.stop();
});
