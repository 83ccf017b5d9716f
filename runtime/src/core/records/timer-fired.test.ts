import { e, Harness, invId, newInvocation, ofKind, outcome, rec } from "../test-support/builders";

describe("timer-fired", () => {
  it("fires once: a second record for the same timer changes nothing", () => {
    const h = new Harness();
    const id = invId(0, 1);
    h.apply(rec.invoke(newInvocation(id)));
    h.apply(rec.entries(id, 1, [e.sleep(1, 10)], outcome.suspended(1)));

    const first = h.advance(10).apply(rec.timerFired(`sleep:${id}:1`));
    const second = h.apply(rec.timerFired(`sleep:${id}:1`));

    expect(first).toEqual([{ kind: "invoke", invocationId: id, attempt: 2 }]);
    expect(second).toEqual([]);
    expect(h.inv(id).attempt).toBe(2);
  });

  it("ignores an unknown timer", () => {
    const h = new Harness();
    expect(h.apply(rec.timerFired("sleep:nothing:1"))).toEqual([]);
  });

  it("completes a sleep of a running invocation with completion-available", () => {
    const h = new Harness();
    const id = invId(0, 1);
    h.apply(rec.invoke(newInvocation(id)));
    h.apply(rec.entries(id, 1, [e.sleep(1, 10)]));
    expect(h.advance(10).apply(rec.timerFired(`sleep:${id}:1`))).toEqual([
      { kind: "completion-available", invocationId: id },
    ]);
  });

  it("ignores a retry timer once another attempt has started", () => {
    const h = new Harness();
    const id = invId(0, 1);
    h.apply(rec.invoke(newInvocation(id)));
    h.apply(rec.attemptFailed(id, 1));
    h.apply(rec.resume(id)); // refused: backing-off is not paused
    h.apply(rec.cancel(id)); // starts attempt 2 and drops the retry timer
    expect(h.state.timers.has(`retry:${id}:1`)).toBe(false);
    expect(h.inv(id)).toMatchObject({ status: "running", attempt: 2 });
  });

  it("expires a completed invocation with its idempotency and workflow entries", () => {
    const h = new Harness();
    const id = invId(0, 1);
    const effects = h.apply(rec.invoke(newInvocation(id, { idempotencyKey: "k", retentionMs: 1_000 })));
    expect(ofKind(effects, "invoke")).toHaveLength(1);
    h.apply(rec.entries(id, 1, [], outcome.completed(1)));

    const expired = h.advance(1_000).apply(rec.timerFired(`expire:${id}`));

    expect(expired).toEqual([{ kind: "invocation-removed", invocationId: id }]);
    expect(h.state.invocations.size + h.state.idempotency.size + h.state.timers.size).toBe(0);
  });
});
