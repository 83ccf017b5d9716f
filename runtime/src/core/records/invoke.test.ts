import { idempotencyTableKey } from "../keys";
import { objectKey } from "../state";
import {
  exclusive,
  Harness,
  invId,
  kinds,
  newInvocation,
  obj,
  ofKind,
  outcome,
  rec,
  value,
  workflowRun,
} from "../test-support/builders";

const caller = (n: number, entryIndex = 1) => ({ invocationId: invId(2, n), entryIndex });

describe("invoke", () => {
  it("creates a running invocation with the input entry and starts attempt 1", () => {
    // Prepare
    const h = new Harness();
    const id = invId(0, 1);
    // Act
    const effects = h.apply(rec.invoke(newInvocation(id)));
    // Assert
    expect(effects).toEqual([
      { kind: "invocation-accepted", invocationId: id, requestedId: id, existing: false },
      { kind: "invoke", invocationId: id, attempt: 1 },
    ]);
    const inv = h.inv(id);
    expect(inv).toMatchObject({ status: "running", attempt: 1, handlerInvocations: 1, createdAtMs: h.nowMs });
    expect(inv.journal).toEqual([{ index: 0, kind: "input", value: '"in"' }]);
    expect(h.state.appliedLsn).toBe(1);
  });

  it("schedules a delayed invocation and starts it when its timer fires", () => {
    const h = new Harness();
    const id = invId(0, 1);
    const effects = h.apply(rec.invoke(newInvocation(id, { notBeforeMs: h.nowMs + 5_000 })));
    expect(h.inv(id).status).toBe("scheduled");
    const [scheduled] = ofKind(effects, "schedule-timer");
    expect(scheduled!.timer).toMatchObject({ kind: "delayed-invoke", fireAtMs: h.nowMs + 5_000 });
    expect(kinds(effects)).not.toContain("invoke");

    const fired = h.advance(5_000).apply(rec.timerFired(scheduled!.timer.id));

    expect(fired).toEqual([{ kind: "invoke", invocationId: id, attempt: 1 }]);
    expect(h.inv(id).status).toBe("running");
  });

  it("starts at once when notBeforeMs is not in the future", () => {
    const h = new Harness();
    const effects = h.apply(rec.invoke(newInvocation(invId(0, 1), { notBeforeMs: h.nowMs })));
    expect(kinds(effects)).toEqual(["invocation-accepted", "invoke"]);
  });

  it("queues exclusive handlers of a held key in its inbox and hands the lock over in order", () => {
    const h = new Harness();
    const [a, b, c] = [invId(0, 1), invId(0, 2), invId(0, 3)];
    h.apply(rec.invoke(exclusive(a, "k")));
    const queued = h.apply(rec.invoke(exclusive(b, "k")));
    h.apply(rec.invoke(exclusive(c, "k")));
    // a shared handler and another key are not blocked
    const shared = h.apply(rec.invoke(exclusive(invId(0, 4), "k", { handlerKind: "shared" })));
    const other = h.apply(rec.invoke(exclusive(invId(0, 5), "other")));

    expect(kinds(queued)).toEqual(["invocation-accepted"]);
    expect(h.inv(b).status).toBe("inboxed");
    expect(h.state.inboxes.get(objectKey("Obj", "k"))).toEqual([b, c]);
    expect(kinds(shared)).toContain("invoke");
    expect(kinds(other)).toContain("invoke");

    const done = h.apply(rec.entries(a, 1, [], outcome.completed(1)));

    expect(ofKind(done, "invoke")).toEqual([{ kind: "invoke", invocationId: b, attempt: 1 }]);
    expect(h.state.locks.get(objectKey("Obj", "k"))).toBe(b);
    expect(h.state.inboxes.get(objectKey("Obj", "k"))).toEqual([c]);
  });

  it("keeps the lock while suspended", () => {
    const h = new Harness();
    const [a, b] = [invId(0, 1), invId(0, 2)];
    h.apply(rec.invoke(exclusive(a, "k")));
    h.apply(rec.entries(a, 1, [{ index: 1, kind: "sleep", durationMs: 10 }], outcome.suspended(1)));
    h.apply(rec.invoke(exclusive(b, "k")));
    expect(h.inv(a).status).toBe("suspended");
    expect(h.inv(b).status).toBe("inboxed");
  });

  it("maps a repeated idempotency key to the first invocation", () => {
    const h = new Harness();
    const [first, second] = [invId(0, 1), invId(0, 2)];
    h.apply(rec.invoke(newInvocation(first, { idempotencyKey: "k1" })));

    const effects = h.apply(rec.invoke(newInvocation(second, { idempotencyKey: "k1", caller: caller(9) })));

    expect(effects).toEqual([
      { kind: "invocation-accepted", invocationId: first, requestedId: second, existing: true },
    ]);
    expect(h.state.invocations.has(second)).toBe(false);
    expect(h.inv(first).attachedBy).toEqual([caller(9)]);
    expect(h.state.idempotency.get(idempotencyTableKey({ service: "Svc", handler: "run" }, "k1"))).toBe(
      first,
    );
    // the same key on another handler is another invocation
    const other = h.apply(
      rec.invoke(
        newInvocation(invId(0, 3), { idempotencyKey: "k1", target: { service: "Svc", handler: "x" } }),
      ),
    );
    expect(ofKind(other, "invocation-accepted")[0]!.existing).toBe(false);
  });

  it("answers a repeated idempotent call with the stored result once completed", () => {
    const h = new Harness();
    const first = invId(0, 1);
    h.apply(rec.invoke(newInvocation(first, { idempotencyKey: "k1" })));
    h.apply(rec.entries(first, 1, [], outcome.completed("done")));

    const effects = h.apply(
      rec.invoke(newInvocation(invId(0, 2), { idempotencyKey: "k1", caller: caller(9, 4) })),
    );

    expect(ofKind(effects, "send")).toEqual([
      {
        kind: "send",
        toPartition: 2,
        seq: 1,
        message: { kind: "complete-entry", invocationId: invId(2, 9), entryIndex: 4, result: value("done") },
      },
    ]);
    expect(h.state.outbox).toHaveLength(1);
  });

  it("runs a workflow exactly once per workflow id", () => {
    const h = new Harness();
    const [run1, run2] = [invId(0, 1), invId(0, 2)];
    h.apply(rec.invoke(workflowRun(run1, "order-1")));

    const again = h.apply(rec.invoke(workflowRun(run2, "order-1")));
    const shared = h.apply(rec.invoke(workflowRun(invId(0, 3), "order-1", { handlerKind: "shared" })));

    expect(again).toEqual([
      { kind: "invocation-accepted", invocationId: run1, requestedId: run2, existing: true },
    ]);
    expect(h.state.workflows.get(objectKey("Wf", "order-1"))).toBe(run1);
    expect(kinds(shared)).toEqual(["invocation-accepted", "invoke"]);
  });

  it("treats a re-delivered invocation id as the existing invocation", () => {
    const h = new Harness();
    const id = invId(0, 1);
    h.apply(rec.invoke(newInvocation(id)));
    const effects = h.apply(rec.invoke(newInvocation(id)));
    expect(effects).toEqual([
      { kind: "invocation-accepted", invocationId: id, requestedId: id, existing: true },
    ]);
    expect(h.inv(id).attempt).toBe(1);
  });

  it("does not attach the same caller twice", () => {
    const h = new Harness();
    h.apply(rec.invoke(newInvocation(invId(0, 1), { idempotencyKey: "k" })));
    h.apply(rec.invoke(newInvocation(invId(0, 2), { idempotencyKey: "k", caller: caller(9) })));
    h.apply(rec.invoke(newInvocation(invId(0, 2), { idempotencyKey: "k", caller: caller(9) })));
    expect(h.inv(invId(0, 1)).attachedBy).toHaveLength(1);
  });

  it("takes the lock for a workflow run on its id", () => {
    const h = new Harness();
    h.apply(rec.invoke(workflowRun(invId(0, 1), "w")));
    expect(h.state.locks.get(objectKey("Wf", "w"))).toBe(invId(0, 1));
    expect(obj("x").key).toBe("x");
  });
});

describe("invoke-refused", () => {
  it("fails the caller's call entry and ignores one-way sends", () => {
    const h = new Harness();
    const failure = { code: 404, message: "service Nope not found" };
    const request = { id: invId(1, 1), target: { service: "Nope", handler: "x" }, input: "1", headers: {} };

    const forCall = h.apply({
      kind: "invoke-refused",
      request: { ...request, caller: caller(9, 3) },
      failure,
    });
    const forSend = h.apply({ kind: "invoke-refused", request, failure });

    expect(forCall).toEqual([
      {
        kind: "send",
        toPartition: 2,
        seq: 1,
        message: {
          kind: "complete-entry",
          invocationId: invId(2, 9),
          entryIndex: 3,
          result: { kind: "failure", failure },
        },
      },
    ]);
    expect(forSend).toEqual([]);
    expect(h.state.invocations.size).toBe(0);
  });
});
