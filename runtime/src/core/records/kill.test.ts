import { childInvocationId } from "../partitioning";
import { objectKey } from "../state";
import {
  e,
  exclusive,
  Harness,
  invId,
  kinds,
  ofKind,
  outcome,
  PARTITIONS,
  rec,
  svc,
} from "../test-support/builders";

const KILLED = { kind: "failure", failure: { code: 409, name: "KilledError", message: "invocation killed" } };

describe("kill", () => {
  it("aborts the running attempt, kills pending children, frees the lock and fails the invocation", () => {
    const h = new Harness();
    const [a, b] = [invId(0, 1), invId(0, 2)];
    const caller = { invocationId: invId(3, 3), entryIndex: 1 };
    h.apply(rec.invoke(exclusive(a, "k", { caller })));
    h.apply(rec.invoke(exclusive(b, "k")));
    h.apply(rec.entries(a, 1, [e.call(1, svc()), e.sleep(2, 1_000)]));
    const child = childInvocationId(a, 1, svc(), undefined, PARTITIONS);

    const effects = h.apply(rec.kill(a));

    expect(kinds(effects)).toEqual([
      "abort-attempt",
      "send", // kill child
      "cancel-timer", // the sleep
      "invocation-finished",
      "send", // answer the caller
      "invoke", // b takes the lock
      "schedule-timer", // retention
    ]);
    expect(ofKind(effects, "send").map((s) => s.message)).toEqual([
      { kind: "kill", invocationId: child },
      { kind: "complete-entry", ...caller, result: KILLED },
    ]);
    expect(h.inv(a)).toMatchObject({ status: "completed", result: KILLED });
    expect(h.state.locks.get(objectKey("Obj", "k"))).toBe(b);
    // the aborted attempt can no longer write
    expect(h.apply(rec.entries(a, 1, [e.run(3, "x")]))[0]).toMatchObject({ code: "INVOKE_STALE_ATTEMPT" });
  });

  it("refuses unknown and completed invocations", () => {
    const h = new Harness();
    const id = invId(0, 1);
    h.apply(rec.invoke(exclusive(id, "k")));
    h.apply(rec.entries(id, 1, [], outcome.completed(1)));
    expect(h.apply(rec.kill(id))[0]).toMatchObject({
      kind: "request-rejected",
      code: "INVOCATION_COMPLETED",
    });
    expect(h.apply(rec.kill(invId(0, 9)))[0]).toMatchObject({ code: "INVOCATION_NOT_FOUND" });
  });

  it("kills a suspended invocation without aborting anything", () => {
    const h = new Harness();
    const id = invId(0, 1);
    h.apply(rec.invoke(exclusive(id, "k")));
    h.apply(rec.entries(id, 1, [e.awakeable(1)], outcome.suspended(1)));
    expect(kinds(h.apply(rec.kill(id)))).toEqual(["invocation-finished", "schedule-timer"]);
  });
});
