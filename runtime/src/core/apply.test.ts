import { apply, applyBatch } from "./apply";
import { MemoryStateStore } from "./memory-state-store";
import { emptyPartitionState } from "./state";
import { StateTx } from "./state-tx";
import { Harness, invId, newInvocation, rec } from "./test-support/builders";

describe("apply", () => {
  it("records the applied lsn and refuses to apply an lsn twice or backwards", () => {
    const store = new MemoryStateStore(emptyPartitionState(0, 4));
    applyBatch(store, 1, [{ kind: "recover", epoch: 1, atMs: 0 }]);
    expect(store.appliedLsn()).toBe(1);
    expect(() => apply(new StateTx(store), 1, { kind: "recover", epoch: 1, atMs: 0 })).toThrow(
      /not after the applied lsn/,
    );
  });

  it("applies a remote record once per producer seq and advances inboundSeq", () => {
    const h = new Harness();
    const id = invId(0, 1);
    const remote = { ...rec.invoke(newInvocation(id)), origin: { partition: 3, seq: 5 } };

    const first = h.apply(remote);
    const duplicate = h.apply(remote);
    const older = h.apply({ ...rec.cancel(id), origin: { partition: 3, seq: 4 } });
    const otherProducer = h.apply({ ...rec.cancel(id), origin: { partition: 2, seq: 1 } });

    expect(first.length).toBeGreaterThan(0);
    expect(duplicate).toEqual([]);
    expect(older).toEqual([]);
    expect(otherProducer).toEqual([]); // applied: nothing pending, so the cancel waits
    expect(h.inv(id).cancelPending).toBe(true);
    expect(h.state.inboundSeq).toEqual(
      new Map([
        [3, 5],
        [2, 1],
      ]),
    );
    expect(h.state.appliedLsn).toBe(4);
  });
});
