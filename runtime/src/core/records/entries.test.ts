import { promiseKey } from "../keys";
import { wf } from "../test-support/builders";
import type { InvocationId } from "@capstan/sdk/protocol";
import { formatAwakeableId, MAX_JOURNAL_ENTRIES, partitionOfInvocationId } from "@capstan/sdk/protocol";
import { childInvocationId } from "../partitioning";
import { attemptSpanId } from "../trace-ids";
import { objectKey } from "../state";
import { serializeState } from "../snapshot";
import {
  e,
  EMPTY,
  exclusive,
  Harness,
  invId,
  kinds,
  newInvocation,
  obj,
  ofKind,
  outcome,
  PARTITIONS,
  rec,
  svc,
  value,
  workflowRun,
} from "../test-support/builders";

function running(overrides: Parameters<typeof newInvocation>[1] = {}): { h: Harness; id: InvocationId } {
  const h = new Harness();
  const id = invId(0, 1);
  h.apply(rec.invoke(newInvocation(id, overrides)));
  return { h, id };
}

describe("entries: fencing and journal continuity", () => {
  it("rejects an unknown invocation and a stale attempt without any change", () => {
    const { h, id } = running();
    const before = JSON.stringify(serializeState(h.state));

    const unknown = h.apply(rec.entries(invId(0, 99), 1, [e.run(1, "a")]));
    const stale = h.apply(rec.entries(id, 2, [e.run(1, "a")]));

    expect(unknown).toEqual([
      expect.objectContaining({ kind: "entries-rejected", code: "INVOKE_NOT_FOUND" }),
    ]);
    expect(stale).toEqual([
      expect.objectContaining({ kind: "entries-rejected", code: "INVOKE_STALE_ATTEMPT" }),
    ]);
    const after = serializeState(h.state) as { appliedLsn: number };
    expect(JSON.stringify({ ...after, appliedLsn: 1 })).toBe(before);
  });

  it("rejects entries of an invocation that is not running", () => {
    const { h, id } = running();
    h.apply(rec.entries(id, 1, [e.sleep(1, 10)], outcome.suspended(1)));
    const effects = h.apply(rec.entries(id, 1, [e.run(2, "late")]));
    expect(effects[0]).toMatchObject({ kind: "entries-rejected", code: "INVOKE_STALE_ATTEMPT" });
    expect(h.inv(id).journal).toHaveLength(2);
  });

  it("appends a checkpoint and acknowledges it with the journal length", () => {
    const { h, id } = running();
    const effects = h.apply(rec.entries(id, 1, [e.run(1, "a", value(1)), e.run(2, "b", value(2))]));
    expect(effects).toEqual([{ kind: "entries-accepted", invocationId: id, attempt: 1, journalLength: 3 }]);
    expect(h.inv(id).journal.map((x) => x.kind)).toEqual(["input", "run", "run"]);
  });

  it("skips identical resent entries and accepts a result the recorded run lacked", () => {
    const { h, id } = running();
    h.apply(rec.entries(id, 1, [e.run(1, "a"), e.run(2, "b", value("b"))]));

    const effects = h.apply(
      rec.entries(id, 1, [e.run(1, "a", value("a")), e.run(2, "b", value("other")), e.run(3, "c")]),
    );

    expect(effects).toEqual([{ kind: "entries-accepted", invocationId: id, attempt: 1, journalLength: 4 }]);
    // Results are numbered in the order they were recorded: b's came with the first checkpoint.
    expect(h.inv(id).journal[1]).toEqual({ ...e.run(1, "a", value("a")), completionOrder: 2 });
    expect(h.inv(id).journal[2]).toEqual({ ...e.run(2, "b", value("b")), completionOrder: 1 }); // never replaced
  });

  it.each([
    ["another kind", [e.sleep(1, 5)]],
    ["another name", [e.run(1, "other")]],
    ["a gap", [e.run(4, "c")]],
    ["an input entry", [{ index: 2, kind: "input" as const, value: "1" }]],
    ["an output entry", [{ index: 2, kind: "output" as const, result: EMPTY }]],
  ])("rejects %s as a journal mismatch without any change", (_label, entries) => {
    const { h, id } = running();
    h.apply(rec.entries(id, 1, [e.run(1, "a", value(1))]));
    const journal = structuredClone(h.inv(id).journal);

    const effects = h.apply(
      rec.entries(
        id,
        1,
        [e.run(2, "fine"), ...entries].sort((x, y) => x.index - y.index),
      ),
    );

    expect(effects).toEqual([
      expect.objectContaining({ kind: "entries-rejected", code: "INVOKE_JOURNAL_MISMATCH" }),
    ]);
    expect(h.inv(id).journal).toEqual(journal);
  });

  it("accepts a journal of exactly MAX_JOURNAL_ENTRIES and fails one beyond it", () => {
    const { h, id } = running();
    const atLimit = Array.from({ length: MAX_JOURNAL_ENTRIES - 1 }, (_, i) =>
      e.run(i + 1, `s${i}`, value(i)),
    );

    const accepted = h.apply(rec.entries(id, 1, atLimit));
    const beyond = h.apply(rec.entries(id, 1, [e.run(MAX_JOURNAL_ENTRIES, "one-more")]));

    expect(accepted).toEqual([
      { kind: "entries-accepted", invocationId: id, attempt: 1, journalLength: MAX_JOURNAL_ENTRIES },
    ]);
    expect(kinds(beyond)).toEqual([
      "entries-rejected",
      "abort-attempt",
      "invocation-finished",
      "schedule-timer",
    ]);
    expect(beyond[0]).toMatchObject({ code: "INVOKE_JOURNAL_TOO_LONG" });
    expect(h.inv(id)).toMatchObject({ status: "completed", journal: expect.any(Array) });
    expect(h.inv(id).journal).toHaveLength(MAX_JOURNAL_ENTRIES);
    expect(h.inv(id).result).toMatchObject({ kind: "failure", failure: { code: 500 } });
  });

  it("resets the retry counters when an entry is recorded", () => {
    const { h, id } = running();
    h.apply(rec.attemptFailed(id, 1));
    h.apply(rec.timerFired([...h.state.timers.keys()][0]!));
    expect(h.inv(id).attemptsSinceLastEntry).toBe(1);

    h.apply(rec.entries(id, 2, [e.run(1, "a", value(1))]));

    expect(h.inv(id)).toMatchObject({ attemptsSinceLastEntry: 0, firstFailureAtMs: undefined });
  });
});

describe("entries: what each new entry does", () => {
  it("writes and reads object state, answering getState and getStateKeys at once", () => {
    const h = new Harness();
    const id = invId(0, 1);
    h.apply(rec.invoke(exclusive(id, "k")));

    h.apply(
      rec.entries(id, 1, [
        e.setState(1, "b", "2"),
        e.setState(2, "a", "1"),
        e.getState(3, "a"),
        e.getState(4, "missing"),
        e.getStateKeys(5),
        e.clearState(6, "a"),
        e.getState(7, "a"),
      ]),
    );

    const journal = h.inv(id).journal;
    expect(journal[3]).toMatchObject({ result: { kind: "value", value: "1" } });
    expect(journal[4]).toMatchObject({ result: EMPTY });
    expect(journal[5]).toMatchObject({ result: { kind: "value", value: '["a","b"]' } });
    expect(journal[7]).toMatchObject({ result: EMPTY });
    expect(h.state.objectState.get(objectKey("Obj", "k"))).toEqual(new Map([["b", "2"]]));

    h.apply(rec.entries(id, 1, [e.clearAllState(8)]));
    expect(h.state.objectState.has(objectKey("Obj", "k"))).toBe(false);
  });

  it("keeps a getState result the SDK completed from eager state", () => {
    const h = new Harness();
    const id = invId(0, 1);
    h.apply(rec.invoke(exclusive(id, "k")));
    h.apply(rec.entries(id, 1, [{ ...e.getState(1, "a"), result: value("eager") } as never]));
    expect(h.inv(id).journal[1]).toMatchObject({ result: value("eager") });
  });

  it("ignores state writes of a stateless service and answers its reads with empty", () => {
    const { h, id } = running();
    h.apply(rec.entries(id, 1, [e.setState(1, "a", "1"), e.getState(2, "a")]));
    expect(h.state.objectState.size).toBe(0);
    expect(h.inv(id).journal[2]).toMatchObject({ result: EMPTY });
  });

  it("stamps a sleep's wake-up time, sets its timer and completes it when the timer fires", () => {
    const { h, id } = running();
    const effects = h.apply(rec.entries(id, 1, [e.sleep(1, 5_000)], outcome.suspended(1)));
    const wakeUpAtMs = h.nowMs + 5_000;

    expect(h.inv(id).journal[1]).toMatchObject({ wakeUpAtMs });
    const [timer] = ofKind(effects, "schedule-timer");
    expect(timer!.timer).toEqual({
      kind: "sleep",
      invocationId: id,
      entryIndex: 1,
      id: `sleep:${id}:1`,
      fireAtMs: wakeUpAtMs,
    });
    expect(h.inv(id)).toMatchObject({ status: "suspended", awaiting: [1] });

    const fired = h.advance(5_000).apply(rec.timerFired(timer!.timer.id));

    expect(fired).toEqual([{ kind: "invoke", invocationId: id, attempt: 2 }]);
    expect(h.inv(id).journal[1]).toMatchObject({ result: EMPTY });
    expect(h.inv(id)).toMatchObject({ status: "running", handlerInvocations: 2, awaiting: [] });
  });

  it("stamps a call with a deterministic child id and sends the request to the child's partition", () => {
    const { h, id } = running();
    const target = obj("user-7");

    const effects = h.apply(rec.entries(id, 1, [e.call(1, target, '"x"', "idem")]));

    const childId = childInvocationId(id, 1, target, "idem", PARTITIONS);
    expect(h.inv(id).journal[1]).toMatchObject({ invocationId: childId });
    expect(ofKind(effects, "send")).toEqual([
      {
        kind: "send",
        toPartition: partitionOfInvocationId(childId),
        seq: 1,
        message: {
          kind: "invoke-request",
          request: {
            id: childId,
            target,
            input: '"x"',
            headers: {},
            idempotencyKey: "idem",
            caller: { invocationId: id, entryIndex: 1 },
            // A call joins the caller's trace, under the span of the attempt that made it.
            trace: { traceId: h.inv(id).trace!.traceId, parentSpanId: attemptSpanId(id, 1), sampled: true },
          },
        },
      },
    ]);
    expect(h.state.outbox).toEqual([
      { seq: 1, toPartition: partitionOfInvocationId(childId), message: ofKind(effects, "send")[0]!.message },
    ]);
    expect(h.state.nextOutboxSeq).toBe(2);
  });

  it("sends one-way messages without a caller, delayed ones with notBeforeMs", () => {
    const { h, id } = running();
    const effects = h.apply(rec.entries(id, 1, [e.send(1, svc("a")), e.send(2, svc("b"), 60_000)]));
    const requests = ofKind(effects, "send").map((s) =>
      s.message.kind === "invoke-request" ? s.message.request : undefined,
    );
    expect(requests[0]).not.toHaveProperty("caller");
    expect(requests[0]).not.toHaveProperty("notBeforeMs");
    expect(requests[1]).toMatchObject({ notBeforeMs: h.nowMs + 60_000 });
    expect(h.inv(id).journal[2]).toMatchObject({ invocationId: requests[1]!.id });
  });

  it("routes awakeable completions to the awakeable's invocation and ignores malformed ids", () => {
    const { h, id } = running();
    const sleeper = invId(3, 7);
    const effects = h.apply(
      rec.entries(id, 1, [
        e.awakeable(1),
        e.completeAwakeable(2, formatAwakeableId(sleeper, 4), value("ok")),
        e.completeAwakeable(3, "awk_garbage", value("ok")),
      ]),
    );
    expect(ofKind(effects, "send")).toEqual([
      {
        kind: "send",
        toPartition: 3,
        seq: 1,
        message: {
          kind: "complete-entry",
          invocationId: sleeper,
          entryIndex: 4,
          result: value("ok"),
          awakeableOnly: true,
        },
      },
    ]);
    expect(h.inv(id).journal[1]).not.toHaveProperty("result");
  });

  it("sends attach and cancel requests to the target's partition", () => {
    const { h, id } = running();
    const other = invId(2, 5);
    const effects = h.apply(
      rec.entries(id, 1, [
        e.attach(1, other),
        e.cancelInvocation(2, other),
        e.attach(3, "nope"),
        e.cancelInvocation(4, "nope"),
      ]),
    );
    expect(ofKind(effects, "send").map((s) => [s.toPartition, s.message])).toEqual([
      [2, { kind: "attach", invocationId: other, waiter: { invocationId: id, entryIndex: 1 } }],
      [2, { kind: "cancel", invocationId: other }],
    ]);
    expect(h.inv(id).journal[3]).toMatchObject({ result: { kind: "failure", failure: { code: 404 } } });
  });

  it("resolves durable promises: waiters wake, peek reads, a second completion gets 409", () => {
    const h = new Harness();
    const [run, signal] = [invId(0, 1), invId(0, 2)];
    h.apply(rec.invoke(workflowRun(run, "w")));
    h.apply(
      rec.invoke(
        workflowRun(signal, "w", {
          handlerKind: "shared",
          target: { service: "Wf", handler: "approve", key: "w" },
        }),
      ),
    );
    h.apply(
      rec.entries(run, 1, [e.promisePeek(1, "approved"), e.promiseGet(2, "approved")], outcome.suspended(2)),
    );
    expect(h.inv(run).journal[1]).toMatchObject({ result: EMPTY });
    expect(h.state.promiseWaiters.get(promiseKey(wf("w"), "approved"))).toEqual([
      { invocationId: run, entryIndex: 2 },
    ]);

    const effects = h.apply(
      rec.entries(signal, 1, [
        e.promiseComplete(1, "approved", value(true)),
        e.promiseComplete(2, "approved", value(false)),
        e.promiseGet(3, "approved"),
      ]),
    );

    expect(ofKind(effects, "invoke")).toEqual([{ kind: "invoke", invocationId: run, attempt: 2 }]);
    expect(h.inv(run).journal[2]).toMatchObject({ result: value(true) });
    const journal = h.inv(signal).journal;
    expect(journal[1]).toMatchObject({ result: EMPTY });
    expect(journal[2]).toMatchObject({
      result: { kind: "failure", failure: { code: 409, message: "promise already completed" } },
    });
    expect(journal[3]).toMatchObject({ result: value(true) });
    expect(h.state.promiseWaiters.size).toBe(0);
  });

  it("notifies a running waiter of a promise completion through completion-available", () => {
    const h = new Harness();
    const [run, signal] = [invId(0, 1), invId(0, 2)];
    h.apply(rec.invoke(workflowRun(run, "w")));
    h.apply(rec.invoke(workflowRun(signal, "w", { handlerKind: "shared" })));
    h.apply(rec.entries(run, 1, [e.promiseGet(1, "p")]));
    const effects = h.apply(rec.entries(signal, 1, [e.promiseComplete(1, "p", value(1))]));
    expect(kinds(effects)).toEqual(["completion-available", "entries-accepted"]);
  });
});

describe("entries: outcomes", () => {
  it("completed: appends the output entry, answers the caller and starts retention", () => {
    const caller = { invocationId: invId(1, 9), entryIndex: 2 };
    const { h, id } = running({ caller });

    const effects = h.apply(rec.entries(id, 1, [e.run(1, "a", value(1))], outcome.completed("ok")));

    expect(h.inv(id).journal[2]).toEqual({ index: 2, kind: "output", result: value("ok") });
    expect(h.inv(id)).toMatchObject({ status: "completed", result: value("ok"), completedAtMs: h.nowMs });
    expect(effects).toEqual([
      { kind: "invocation-finished", invocationId: id, result: value("ok") },
      {
        kind: "send",
        toPartition: 1,
        seq: 1,
        message: { kind: "complete-entry", ...caller, result: value("ok") },
      },
      {
        kind: "schedule-timer",
        timer: { kind: "expire", invocationId: id, id: `expire:${id}`, fireAtMs: h.nowMs + 86_400_000 },
      },
    ]);
  });

  it("failed: records the failure as the output", () => {
    const { h, id } = running();
    const effects = h.apply(rec.entries(id, 1, [], outcome.failed("bad input", 400)));
    const result = { kind: "failure", failure: { code: 400, message: "bad input" } };
    expect(h.inv(id).journal[1]).toEqual({ index: 1, kind: "output", result });
    expect(ofKind(effects, "invocation-finished")[0]!.result).toEqual(result);
  });

  it("completed with retention 0: removes the invocation and frees its idempotency key at once", () => {
    const { h, id } = running({ retentionMs: 0, idempotencyKey: "k" });
    const effects = h.apply(rec.entries(id, 1, [], outcome.completed(1)));
    expect(kinds(effects)).toEqual(["invocation-finished", "invocation-removed"]);
    expect(h.state.invocations.size).toBe(0);
    expect(h.state.idempotency.size).toBe(0);
  });

  it("retry: backs off with the handler's retryAfterMs", () => {
    const { h, id } = running();
    const effects = h.apply(rec.entries(id, 1, [], outcome.retry("throttled", 7_000)));
    expect(h.inv(id)).toMatchObject({
      status: "backing-off",
      attemptsSinceLastEntry: 1,
      lastFailure: { message: "throttled", attempt: 1 },
    });
    expect(ofKind(effects, "schedule-timer")[0]!.timer).toMatchObject({
      kind: "retry",
      attempt: 1,
      fireAtMs: h.nowMs + 7_000,
    });
  });

  it("suspended: waits on the awaited entries, or starts the next attempt when one is already complete", () => {
    const { h, id } = running();
    h.apply(rec.entries(id, 1, [e.awakeable(1), e.awakeable(2)]));
    h.apply(rec.completeEntry(id, 2, value("early")));

    const suspended = h.apply(rec.entries(id, 1, [], outcome.suspended(1)));
    expect(suspended).toEqual([]);
    expect(h.inv(id)).toMatchObject({ status: "suspended", awaiting: [1] });

    h.apply(rec.completeEntry(id, 1, value("now")));
    const immediate = h.apply(rec.entries(id, 2, [], outcome.suspended(1, 2)));
    expect(immediate).toEqual([{ kind: "invoke", invocationId: id, attempt: 3 }]);
  });

  it.each([[[]], [[9]], [[0]]])("suspended awaiting %j is a journal mismatch", (awaiting) => {
    const { h, id } = running();
    const effects = h.apply(rec.entries(id, 1, [e.awakeable(1)], { kind: "suspended", awaiting }));
    expect(effects[0]).toMatchObject({ code: "INVOKE_JOURNAL_MISMATCH" });
    expect(h.inv(id)).toMatchObject({ status: "running", journal: [expect.anything()] });
  });
});
