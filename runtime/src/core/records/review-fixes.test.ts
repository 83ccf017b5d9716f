/** Regression tests for defects found in review: forged awakeable ids, promise key collisions, ids outside the cluster. */
import { formatAwakeableId, type Completion, type InvocationId } from "@capstan/sdk/protocol";
import {
  e,
  EMPTY,
  Harness,
  invId,
  newInvocation,
  ofKind,
  outcome,
  rec,
  value,
  workflowRun,
} from "../test-support/builders";

function awakeableResolution(
  invocationId: InvocationId,
  entryIndex: number,
  result: Completion,
): Parameters<Harness["apply"]>[0] {
  return { kind: "complete-entry", invocationId, entryIndex, result, awakeableOnly: true };
}

test("an awakeable resolution cannot complete another kind of entry", () => {
  const h = new Harness(0);
  const id = invId(0, 1);
  h.apply(rec.invoke(newInvocation(id)));
  h.apply(rec.entries(id, 1, [e.sleep(1, 86_400_000)], outcome.suspended(1)));
  const forged = awakeableResolution(id, 1, value("x"));
  expect(ofKind(h.apply(forged), "invoke")).toEqual([]);
  expect(h.inv(id).journal[1]).not.toHaveProperty("result");
  expect(h.inv(id).status).toBe("suspended");
  // A real awakeable is completed by the same kind of record.
  const other = invId(0, 2);
  h.apply(rec.invoke(newInvocation(other)));
  h.apply(rec.entries(other, 1, [e.awakeable(1)], outcome.suspended(1)));
  h.apply(awakeableResolution(other, 1, value("ok")));
  expect(h.inv(other).journal[1]).toMatchObject({ result: value("ok") });
});

test("a handler's resolveAwakeable is marked awakeable-only on its way out", () => {
  const h = new Harness(0);
  const id = invId(0, 1);
  h.apply(rec.invoke(newInvocation(id)));
  const effects = h.apply(
    rec.entries(id, 1, [e.completeAwakeable(1, formatAwakeableId(invId(1, 9), 3), value(1))]),
  );
  expect(ofKind(effects, "send")[0]!.message).toMatchObject({ kind: "complete-entry", awakeableOnly: true });
});

test("promises of workflows whose ids share a prefix stay apart, also when one is removed", () => {
  const h = new Harness(0, 1);
  const a = invId(0, 1);
  const ab = invId(0, 2);
  h.apply(rec.invoke(workflowRun(a, "a", { retentionMs: 0 })));
  h.apply(rec.invoke(workflowRun(ab, "a/b")));
  h.apply(rec.entries(ab, 1, [e.promiseComplete(1, "c", value("secret-of-a/b"))]));
  h.apply(rec.entries(a, 1, [e.promisePeek(1, "b/c")]));
  expect(h.inv(a).journal[1]).toMatchObject({ result: EMPTY });
  h.apply(rec.entries(a, 1, [], outcome.completed("done")));
  expect(h.state.invocations.has(a)).toBe(false);
  h.apply(rec.entries(ab, 1, [e.promiseGet(2, "c")]));
  expect(h.inv(ab).journal[2]).toMatchObject({ result: value("secret-of-a/b") });
});

test("attach and cancel naming a partition outside the cluster find nothing and send nothing", () => {
  const h = new Harness(0);
  const id = invId(0, 1);
  h.apply(rec.invoke(newInvocation(id)));
  const effects = h.apply(
    rec.entries(id, 1, [
      e.attach(1, "inv_9999_aaaaaaaaaaaa"),
      e.cancelInvocation(2, "inv_9999_aaaaaaaaaaaa"),
    ]),
  );
  expect(ofKind(effects, "send")).toEqual([]);
  expect(h.inv(id).journal[1]).toMatchObject({ result: { kind: "failure", failure: { code: 404 } } });
});
