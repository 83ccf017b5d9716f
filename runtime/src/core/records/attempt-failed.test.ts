import {
  Harness,
  invId,
  kinds,
  newInvocation,
  ofKind,
  outcome,
  rec,
  retryPolicy,
} from "../test-support/builders";

function running(policy: Partial<typeof retryPolicy> = {}) {
  const h = new Harness();
  const id = invId(0, 1);
  h.apply(rec.invoke(newInvocation(id, { retryPolicy: { ...retryPolicy, ...policy } })));
  return { h, id };
}

describe("attempt-failed and retries", () => {
  it("backs off exponentially, capped, and retries when the timer fires", () => {
    const { h, id } = running();
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 6; attempt++) {
      const effects = h.apply(rec.attemptFailed(id, attempt));
      const timer = ofKind(effects, "schedule-timer")[0]!.timer;
      delays.push(timer.fireAtMs - h.nowMs);
      expect(h.inv(id).status).toBe("backing-off");
      h.advance(timer.fireAtMs - h.nowMs);
      expect(h.apply(rec.timerFired(timer.id))).toEqual([
        { kind: "invoke", invocationId: id, attempt: attempt + 1 },
      ]);
    }
    expect(delays).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect(h.inv(id)).toMatchObject({
      attemptsSinceLastEntry: 6,
      firstFailureAtMs: 1_000_000,
      handlerInvocations: 7,
    });
  });

  it("pauses once maxAttempts is reached (default onMaxAttempts)", () => {
    const { h, id } = running({ maxAttempts: 2 });
    h.apply(rec.attemptFailed(id, 1));
    h.apply(rec.timerFired(`retry:${id}:1`));

    const effects = h.apply(rec.attemptFailed(id, 2, true, "still down"));

    expect(effects).toEqual([]);
    expect(h.inv(id)).toMatchObject({ status: "paused", lastFailure: { message: "still down", attempt: 2 } });
    expect(h.state.timers.size).toBe(0);
  });

  it("fails with the last message once retries are exhausted when onMaxAttempts is fail", () => {
    const { h, id } = running({ maxAttempts: 1, onMaxAttempts: "fail" });
    const effects = h.apply(rec.entries(id, 1, [], outcome.retry("db down")));
    expect(kinds(effects)).toEqual(["invocation-finished", "schedule-timer"]);
    expect(h.inv(id).result).toEqual({
      kind: "failure",
      failure: { code: 500, message: "retries exhausted: db down" },
    });
  });

  it("gives up once maxDurationMs has passed since the first failure", () => {
    const { h, id } = running({ maxDurationMs: 1_000 });
    h.apply(rec.attemptFailed(id, 1));
    h.advance(100).apply(rec.timerFired(`retry:${id}:1`));
    h.advance(799).apply(rec.attemptFailed(id, 2));
    expect(h.inv(id).status).toBe("backing-off");
    h.advance(200).apply(rec.timerFired(`retry:${id}:2`));
    h.apply(rec.attemptFailed(id, 3));
    expect(h.inv(id).status).toBe("paused");
  });

  it("pauses on a non-retryable invoker error instead of failing or hot-looping", () => {
    const { h, id } = running();
    const effects = h.apply(rec.attemptFailed(id, 1, false, "function not found"));
    expect(effects).toEqual([]);
    expect(h.inv(id)).toMatchObject({ status: "paused", lastFailure: { message: "function not found" } });
  });

  it("ignores failures of a stale attempt or a finished invocation", () => {
    const { h, id } = running();
    expect(h.apply(rec.attemptFailed(id, 7))).toEqual([]);
    expect(h.apply(rec.attemptFailed(invId(0, 9), 1))).toEqual([]);
    h.apply(rec.entries(id, 1, [], outcome.completed(1)));
    expect(h.apply(rec.attemptFailed(id, 1))).toEqual([]);
    expect(h.inv(id).status).toBe("completed");
  });
});
