import { childInvocationId } from "../partitioning";
import { objectKey } from "../state";
import {
  e,
  exclusive,
  Harness,
  invId,
  kinds,
  newInvocation,
  ofKind,
  outcome,
  PARTITIONS,
  rec,
  svc,
  value,
  workflowRun,
} from "../test-support/builders";

const CANCELLED = {
  kind: "failure",
  failure: { code: 409, name: "CancelledError", message: "invocation cancelled" },
};

describe("cancel", () => {
  it("refuses unknown and completed invocations without any change", () => {
    const h = new Harness();
    const id = invId(0, 1);
    h.apply(rec.invoke(newInvocation(id)));
    h.apply(rec.entries(id, 1, [], outcome.completed(1)));

    expect(h.apply(rec.cancel(invId(0, 2)))).toEqual([
      expect.objectContaining({ kind: "request-rejected", code: "INVOCATION_NOT_FOUND" }),
    ]);
    expect(h.apply(rec.cancel(id))).toEqual([
      expect.objectContaining({ kind: "request-rejected", code: "INVOCATION_COMPLETED" }),
    ]);
    expect(h.inv(id).result).toEqual(value(1));
  });

  it("finishes a scheduled invocation at once and drops its timer", () => {
    const h = new Harness();
    const id = invId(0, 1);
    h.apply(rec.invoke(newInvocation(id, { notBeforeMs: h.nowMs + 1_000 })));
    const effects = h.apply(rec.cancel(id));
    expect(kinds(effects)).toEqual(["cancel-timer", "invocation-finished", "schedule-timer"]);
    expect(h.inv(id)).toMatchObject({ status: "completed", result: CANCELLED });
    expect([...h.state.timers.keys()]).toEqual([`expire:${id}`]);
  });

  it("finishes an inboxed invocation and removes it from the inbox", () => {
    const h = new Harness();
    const [a, b, c] = [invId(0, 1), invId(0, 2), invId(0, 3)];
    h.apply(rec.invoke(exclusive(a, "k")));
    h.apply(rec.invoke(exclusive(b, "k")));
    h.apply(rec.invoke(exclusive(c, "k")));
    h.apply(rec.cancel(b));
    expect(h.inv(b).status).toBe("completed");
    expect(h.state.inboxes.get(objectKey("Obj", "k"))).toEqual([c]);
    expect(h.state.locks.get(objectKey("Obj", "k"))).toBe(a);
  });

  it("fails pending runtime-completed entries, propagates to calls and wakes the suspended handler", () => {
    const h = new Harness();
    const id = invId(0, 1);
    h.apply(rec.invoke(workflowRun(id, "w")));
    h.apply(
      rec.entries(
        id,
        1,
        [
          e.sleep(1, 60_000),
          e.awakeable(2),
          e.promiseGet(3, "p"),
          e.attach(4, invId(2, 2)),
          e.call(5, svc()),
          e.run(6, "r"),
        ],
        outcome.suspended(1, 2, 3, 4, 5),
      ),
    );
    const child = childInvocationId(id, 5, svc(), undefined, PARTITIONS);

    const effects = h.apply(rec.cancel(id));

    const journal = h.inv(id).journal;
    for (const index of [1, 2, 3, 4]) expect(journal[index]).toMatchObject({ result: CANCELLED });
    expect(journal[5]).not.toHaveProperty("result");
    expect(journal[6]).not.toHaveProperty("result");
    expect(effects).toEqual([
      { kind: "cancel-timer", timerId: `sleep:${id}:1` },
      expect.objectContaining({ kind: "send", message: { kind: "cancel", invocationId: child } }),
      { kind: "invoke", invocationId: id, attempt: 2 },
    ]);
    expect(h.state.promiseWaiters.size).toBe(0);
    expect(h.inv(id).cancelPending).toBe(false);
  });

  it("only propagates when the sole pending entry is a call; the parent waits for the child's result", () => {
    const h = new Harness();
    const id = invId(0, 1);
    h.apply(rec.invoke(newInvocation(id)));
    h.apply(rec.entries(id, 1, [e.call(1, svc())], outcome.suspended(1)));

    const effects = h.apply(rec.cancel(id));

    expect(kinds(effects)).toEqual(["send"]);
    expect(h.inv(id)).toMatchObject({ status: "suspended", cancelPending: false });
    expect(h.apply(rec.completeEntry(id, 1, CANCELLED as never))).toEqual([
      { kind: "invoke", invocationId: id, attempt: 2 },
    ]);
  });

  it("with nothing pending, fails the next awaitable the handler appends", () => {
    const h = new Harness();
    const id = invId(0, 1);
    h.apply(rec.invoke(newInvocation(id)));

    const effects = h.apply(rec.cancel(id));
    expect(effects).toEqual([]);
    expect(h.inv(id).cancelPending).toBe(true);

    const appended = h.apply(
      rec.entries(id, 1, [e.run(1, "step", value(1)), e.sleep(2, 1_000), e.sleep(3, 1_000)]),
    );

    expect(h.inv(id).journal[1]).toMatchObject({ result: value(1) });
    expect(h.inv(id).journal[2]).toMatchObject({ result: CANCELLED });
    expect(h.inv(id).journal[3]).not.toHaveProperty("result");
    expect(ofKind(appended, "schedule-timer")).toHaveLength(1);
    expect(h.inv(id).cancelPending).toBe(false);
  });

  it("notifies a running handler and restarts a backing-off or paused one to observe the cancellation", () => {
    const h = new Harness();
    const [running, backingOff, paused] = [invId(0, 1), invId(0, 2), invId(0, 3)];
    for (const id of [running, backingOff, paused]) h.apply(rec.invoke(newInvocation(id)));
    h.apply(rec.entries(running, 1, [e.awakeable(1)]));
    h.apply(rec.attemptFailed(backingOff, 1));
    h.apply(rec.attemptFailed(paused, 1, false));

    expect(h.apply(rec.cancel(running))).toEqual([{ kind: "completion-available", invocationId: running }]);
    expect(h.apply(rec.cancel(backingOff))).toEqual([
      { kind: "cancel-timer", timerId: `retry:${backingOff}:1` },
      { kind: "invoke", invocationId: backingOff, attempt: 2 },
    ]);
    expect(h.apply(rec.cancel(paused))).toEqual([{ kind: "invoke", invocationId: paused, attempt: 2 }]);
    expect(h.inv(paused).cancelPending).toBe(true);
  });
});
