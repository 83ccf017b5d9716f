import { e, Harness, invId, newInvocation, outcome, rec, retryPolicy } from "../test-support/builders";

describe("pause and resume", () => {
  it("pauses a running invocation (aborting its attempt) and resumes it with a new attempt", () => {
    const h = new Harness();
    const id = invId(0, 1);
    h.apply(rec.invoke(newInvocation(id)));

    expect(h.apply(rec.pause(id))).toEqual([{ kind: "abort-attempt", invocationId: id, attempt: 1 }]);
    expect(h.inv(id).status).toBe("paused");
    expect(h.apply(rec.resume(id))).toEqual([{ kind: "invoke", invocationId: id, attempt: 2 }]);
    expect(h.inv(id).status).toBe("running");
  });

  it("pauses a backing-off invocation by dropping its retry timer", () => {
    const h = new Harness();
    const id = invId(0, 1);
    h.apply(rec.invoke(newInvocation(id)));
    h.apply(rec.attemptFailed(id, 1));
    expect(h.apply(rec.pause(id))).toEqual([{ kind: "cancel-timer", timerId: `retry:${id}:1` }]);
    expect(h.state.timers.size).toBe(0);
  });

  it("resumes an invocation paused by exhausted retries with a fresh retry budget", () => {
    const h = new Harness();
    const id = invId(0, 1);
    h.apply(rec.invoke(newInvocation(id, { retryPolicy: { ...retryPolicy, maxAttempts: 1 } })));
    h.apply(rec.attemptFailed(id, 1));
    expect(h.inv(id)).toMatchObject({ status: "paused", attemptsSinceLastEntry: 1 });

    h.apply(rec.resume(id));
    h.apply(rec.attemptFailed(id, 2));

    expect(h.inv(id)).toMatchObject({ status: "paused", attemptsSinceLastEntry: 1, attempt: 2 });
  });

  it("resumes a backing-off invocation now, onto another deployment, keeping its journal", () => {
    const h = new Harness();
    const id = invId(0, 1);
    h.apply(rec.invoke(newInvocation(id)));
    h.apply(rec.entries(id, 1, [e.run(1, "charge")]));
    h.apply(rec.attemptFailed(id, 1));
    expect(h.inv(id).status).toBe("backing-off");
    const journal = h.inv(id).journal;

    expect(h.apply(rec.resume(id, "dp_2"))).toEqual([
      { kind: "cancel-timer", timerId: `retry:${id}:1` },
      { kind: "invoke", invocationId: id, attempt: 2 },
    ]);
    expect(h.inv(id)).toMatchObject({ status: "running", deploymentId: "dp_2", attemptsSinceLastEntry: 0 });
    expect(h.inv(id).journal).toEqual(journal);
    expect(h.state.timers.size).toBe(0);
  });

  it("resume without a deployment keeps the invocation's own", () => {
    const h = new Harness();
    const id = invId(0, 1);
    h.apply(rec.invoke(newInvocation(id)));
    h.apply(rec.pause(id));
    h.apply(rec.resume(id));
    expect(h.inv(id).deploymentId).toBe("dp_1");
  });

  it("refuses to pause suspended, scheduled or paused invocations and to resume unpaused ones", () => {
    const h = new Harness();
    const [suspended, scheduled] = [invId(0, 1), invId(0, 2)];
    h.apply(rec.invoke(newInvocation(suspended)));
    h.apply(rec.entries(suspended, 1, [e.awakeable(1)], outcome.suspended(1)));
    h.apply(rec.invoke(newInvocation(scheduled, { notBeforeMs: h.nowMs + 10 })));

    expect(h.apply(rec.pause(suspended))[0]).toMatchObject({ code: "INVOCATION_NOT_PAUSABLE" });
    expect(h.apply(rec.pause(scheduled))[0]).toMatchObject({ code: "INVOCATION_NOT_PAUSABLE" });
    expect(h.apply(rec.resume(suspended))[0]).toMatchObject({ code: "INVOCATION_NOT_PAUSED" });
    expect(h.apply(rec.pause(invId(0, 9)))[0]).toMatchObject({ code: "INVOCATION_NOT_FOUND" });
    expect(h.inv(suspended).status).toBe("suspended");
  });
});
