import { promiseKey } from "../keys";
import { wf } from "../test-support/builders";
import { objectKey } from "../state";
import { e, Harness, invId, newInvocation, outcome, rec, value, workflowRun } from "../test-support/builders";

describe("purge", () => {
  it("removes a completed invocation with its idempotency entry and expire timer", () => {
    const h = new Harness();
    const id = invId(0, 1);
    h.apply(rec.invoke(newInvocation(id, { idempotencyKey: "k" })));
    h.apply(rec.entries(id, 1, [], outcome.completed(1)));

    const effects = h.apply(rec.purge(id));

    expect(effects).toEqual([
      { kind: "cancel-timer", timerId: `expire:${id}` },
      { kind: "invocation-removed", invocationId: id },
    ]);
    expect(h.state.invocations.size + h.state.idempotency.size + h.state.timers.size).toBe(0);
  });

  it("clears a purged workflow's state and promises so its id can run again", () => {
    const h = new Harness();
    const id = invId(0, 1);
    h.apply(rec.invoke(workflowRun(id, "w")));
    h.apply(
      rec.entries(
        id,
        1,
        [e.setState(1, "a", "1"), e.promiseComplete(2, "p", value(1))],
        outcome.completed(1),
      ),
    );
    h.apply(rec.invoke(workflowRun(invId(0, 7), "w2")));
    h.apply(rec.entries(invId(0, 7), 1, [e.promiseComplete(1, "p", value(2))]));

    h.apply(rec.purge(id));

    expect(h.state.workflows.has(objectKey("Wf", "w"))).toBe(false);
    expect(h.state.objectState.has(objectKey("Wf", "w"))).toBe(false);
    expect([...h.state.promises.keys()]).toEqual([promiseKey(wf("w2"), "p")]);
    expect(h.apply(rec.invoke(workflowRun(invId(0, 2), "w")))[0]).toMatchObject({ existing: false });
  });

  it("refuses unknown and unfinished invocations", () => {
    const h = new Harness();
    const id = invId(0, 1);
    h.apply(rec.invoke(newInvocation(id)));
    expect(h.apply(rec.purge(id))).toEqual([
      expect.objectContaining({ kind: "request-rejected", code: "INVOCATION_NOT_COMPLETED" }),
    ]);
    expect(h.apply(rec.purge(invId(0, 2)))[0]).toMatchObject({ code: "INVOCATION_NOT_FOUND" });
    expect(h.state.invocations.has(id)).toBe(true);
  });
});
