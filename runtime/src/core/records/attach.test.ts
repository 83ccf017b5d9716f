import { Harness, invId, newInvocation, ofKind, outcome, rec, value } from "../test-support/builders";

describe("attach", () => {
  it("answers a waiter on an unknown invocation with 404 and on a completed one with its result", () => {
    const h = new Harness();
    const id = invId(0, 1);
    const waiter = invId(2, 8);
    h.apply(rec.invoke(newInvocation(id)));
    h.apply(rec.entries(id, 1, [], outcome.completed("r")));

    const unknown = h.apply(rec.attach(invId(0, 5), waiter, 3));
    const completed = h.apply(rec.attach(id, waiter, 4));

    expect(unknown).toEqual([
      {
        kind: "send",
        toPartition: 2,
        seq: 1,
        message: {
          kind: "complete-entry",
          invocationId: waiter,
          entryIndex: 3,
          result: { kind: "failure", failure: { code: 404, message: "invocation not found" } },
        },
      },
    ]);
    expect(ofKind(completed, "send")[0]!.message).toEqual({
      kind: "complete-entry",
      invocationId: waiter,
      entryIndex: 4,
      result: value("r"),
    });
  });

  it("answers every attached waiter once the invocation finishes", () => {
    const h = new Harness();
    const id = invId(0, 1);
    h.apply(rec.invoke(newInvocation(id)));
    h.apply(rec.attach(id, invId(1, 1), 2));
    h.apply(rec.attach(id, invId(1, 1), 2)); // duplicate waiter
    h.apply(rec.attach(id, invId(3, 1), 5));
    expect(h.inv(id).attachedBy).toHaveLength(2);

    const effects = h.apply(rec.entries(id, 1, [], outcome.completed("r")));

    expect(ofKind(effects, "send").map((s) => [s.toPartition, s.message.kind])).toEqual([
      [1, "complete-entry"],
      [3, "complete-entry"],
    ]);
    expect(h.inv(id).attachedBy).toEqual([]);
  });
});
