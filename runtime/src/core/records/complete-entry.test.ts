import { e, EMPTY, Harness, invId, newInvocation, outcome, rec, value } from "../test-support/builders";

describe("complete-entry", () => {
  it("wakes a suspended invocation awaiting the entry, and is idempotent", () => {
    const h = new Harness();
    const id = invId(0, 1);
    h.apply(rec.invoke(newInvocation(id)));
    h.apply(rec.entries(id, 1, [e.awakeable(1), e.awakeable(2)], outcome.suspended(2)));

    const other = h.apply(rec.completeEntry(id, 1, value("one")));
    const awaited = h.apply(rec.completeEntry(id, 2, value("two")));
    const again = h.apply(rec.completeEntry(id, 2, value("changed")));

    expect(other).toEqual([]);
    expect(h.inv(id).journal[1]).toMatchObject({ result: value("one") });
    expect(awaited).toEqual([{ kind: "invoke", invocationId: id, attempt: 2 }]);
    expect(again).toEqual([]);
    expect(h.inv(id).journal[2]).toMatchObject({ result: value("two") });
  });

  it("ignores unknown invocations, out-of-range or non-completable entries, and finished invocations", () => {
    const h = new Harness();
    const id = invId(0, 1);
    h.apply(rec.invoke(newInvocation(id)));
    h.apply(rec.entries(id, 1, [e.setState(1, "a", "1")]));

    expect(h.apply(rec.completeEntry(invId(0, 5), 1, EMPTY))).toEqual([]);
    expect(h.apply(rec.completeEntry(id, 9, EMPTY))).toEqual([]);
    expect(h.apply(rec.completeEntry(id, 0, EMPTY))).toEqual([]);
    expect(h.apply(rec.completeEntry(id, 1, EMPTY))).toEqual([]);
    h.apply(rec.entries(id, 1, [e.awakeable(2)], outcome.completed(1)));
    expect(h.apply(rec.completeEntry(id, 2, EMPTY))).toEqual([]);
    expect(h.inv(id).journal[2]).not.toHaveProperty("result");
  });

  it("records a result for a backing-off invocation without starting it", () => {
    const h = new Harness();
    const id = invId(0, 1);
    h.apply(rec.invoke(newInvocation(id)));
    h.apply(rec.entries(id, 1, [e.awakeable(1)], outcome.retry("x")));
    expect(h.apply(rec.completeEntry(id, 1, value(1)))).toEqual([]);
    expect(h.inv(id)).toMatchObject({
      status: "backing-off",
      journal: [expect.anything(), { result: value(1) }],
    });
  });
});
