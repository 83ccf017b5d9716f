import { e, Harness, invId, newInvocation, rec } from "../test-support/builders";

describe("outbox-delivered", () => {
  it("drops only the confirmed messages to that partition", () => {
    const h = new Harness();
    const id = invId(0, 1);
    h.apply(rec.invoke(newInvocation(id)));
    h.apply(
      rec.entries(id, 1, [
        e.cancelInvocation(1, invId(1, 1)),
        e.cancelInvocation(2, invId(2, 1)),
        e.cancelInvocation(3, invId(1, 2)),
        e.cancelInvocation(4, invId(3, 1)),
      ]),
    );
    expect(h.state.outbox.map((o) => [o.seq, o.toPartition])).toEqual([
      [1, 1],
      [2, 2],
      [3, 1],
      [4, 3],
    ]);

    const effects = h.apply(rec.outboxDelivered(1, 1));

    expect(effects).toEqual([]);
    expect(h.state.outbox.map((o) => o.seq)).toEqual([2, 3, 4]);
    h.apply(rec.outboxDelivered(2, 10));
    expect(h.state.outbox.map((o) => o.seq)).toEqual([3, 4]);
  });
});
