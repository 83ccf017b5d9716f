import { e, Harness, invId, kinds, newInvocation, outcome, rec } from "../test-support/builders";

describe("recover", () => {
  it("restarts running invocations with a new attempt, reloads timers, re-emits undelivered messages", () => {
    const h = new Harness();
    const [running, suspended] = [invId(0, 1), invId(0, 2)];
    h.apply(rec.invoke(newInvocation(running)));
    h.apply(rec.invoke(newInvocation(suspended)));
    h.apply(
      rec.entries(
        suspended,
        1,
        [e.sleep(1, 1_000), e.cancelInvocation(2, invId(1, 1))],
        outcome.suspended(1),
      ),
    );

    const effects = h.apply(rec.recover(2));

    expect(kinds(effects)).toEqual(["invoke", "reload-timers", "send"]);
    expect(effects[0]).toEqual({ kind: "invoke", invocationId: running, attempt: 2 });
    // the sleep's timer stays in state, where the timer service pages it from
    expect(h.state.timers.get(`sleep:${suspended}:1`)).toMatchObject({ fireAtMs: expect.any(Number) });
    expect(effects[2]).toMatchObject({ toPartition: 1, seq: 1 });
    // the attempt before the restart is fenced
    expect(h.apply(rec.entries(running, 1, []))[0]).toMatchObject({ code: "INVOKE_STALE_ATTEMPT" });
    expect(h.inv(suspended).status).toBe("suspended");
  });
});
