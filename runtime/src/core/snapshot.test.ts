import { deserializeState, serializeState, SNAPSHOT_VERSION } from "./snapshot";
import { e, exclusive, Harness, invId, outcome, rec, value, workflowRun } from "./test-support/builders";

describe("snapshot", () => {
  it("round-trips every table through JSON and returns an independent copy", () => {
    const h = new Harness();
    const [a, b, w] = [invId(0, 1), invId(0, 2), invId(0, 3)];
    h.apply(rec.invoke(exclusive(a, "k", { idempotencyKey: "i" })));
    h.apply(rec.invoke(exclusive(b, "k")));
    h.apply(rec.invoke(workflowRun(w, "w")));
    h.apply(
      rec.entries(a, 1, [e.setState(1, "s", "1"), e.sleep(2, 10), e.call(3, { service: "S", handler: "h" })]),
    );
    h.apply(
      rec.entries(w, 1, [e.promiseGet(1, "p"), e.promiseComplete(2, "q", value(1))], outcome.suspended(1)),
    );
    h.apply({ ...rec.cancel(invId(0, 9)), origin: { partition: 2, seq: 7 } });

    const snapshot = serializeState(h.state);
    const restored = deserializeState(JSON.parse(JSON.stringify(snapshot)));

    expect(restored).toEqual(h.state);
    // undefined fields are restored, in the same order (JSON drops them)
    expect(Object.entries(restored.invocations.get(b)!)).toEqual(Object.entries(h.state.invocations.get(b)!));
    expect(snapshot).toMatchObject({ version: SNAPSHOT_VERSION, appliedLsn: h.lsn });
    h.apply(rec.entries(a, 1, [e.run(4, "later", value(2))]));
    expect(JSON.stringify(snapshot)).not.toContain("later");
  });

  it("refuses an unknown snapshot version", () => {
    expect(() => deserializeState({ version: 99 })).toThrow(/unsupported snapshot version 99/);
    expect(() => deserializeState(null)).toThrow();
  });
});
