/** `completionOrder`: the runtime numbers results in the order it records them (docs/protocol.md). */
import type { JournalEntry } from "@capstan/sdk/protocol";
import { deserializeState, serializeState } from "./snapshot";
import { e, EMPTY, Harness, invId, newInvocation, outcome, rec, value } from "./test-support/builders";
import { timerIds } from "./timers";

const orderOf = (entry: JournalEntry | undefined): number | undefined =>
  entry !== undefined && "completionOrder" in entry ? entry.completionOrder : undefined;

describe("completionOrder", () => {
  it("increases in the order results are recorded, whatever the entries' positions", () => {
    const h = new Harness();
    const id = invId(0, 1);
    h.apply(rec.invoke(newInvocation(id)));
    h.apply(
      rec.entries(
        id,
        1,
        [e.awakeable(1), e.sleep(2, 5000), e.run(3, "step", value("s"))],
        outcome.suspended(1),
      ),
    );
    const inv = (): { journal: JournalEntry[]; completionCount: number } => h.inv(id);
    // The run came with its result: numbered when recorded. The others have no result yet.
    expect(inv().journal.map(orderOf)).toEqual([undefined, undefined, undefined, 1]);

    h.apply(rec.timerFired(timerIds.sleep(id, 2)));
    h.apply(rec.completeEntry(id, 1, value("late")));
    expect(inv().journal.map(orderOf)).toEqual([undefined, 3, 2, 1]);
    expect(inv().completionCount).toBe(3);

    // A second completion of the same entry changes neither its result nor its number.
    h.apply(rec.completeEntry(id, 1, value("again")));
    expect(inv().journal[1]).toMatchObject({ result: value("late"), completionOrder: 3 });
    expect(inv().completionCount).toBe(3);

    // Entries appended with a result (a getState answered at once) are numbered as they are recorded;
    // a number sent by the SDK is ignored.
    const attempt = h.inv(id).attempt;
    h.apply(
      rec.entries(id, attempt, [
        { ...e.getState(4, "k"), completionOrder: 99 } as JournalEntry,
        e.run(5, "next", value(1)),
      ]),
    );
    expect(inv().journal.map(orderOf).slice(4)).toEqual([4, 5]);
    expect(inv().journal[4]).toMatchObject({ result: EMPTY });
  });

  it("survives a snapshot round trip and goes on from there", () => {
    const h = new Harness();
    const id = invId(0, 1);
    h.apply(rec.invoke(newInvocation(id)));
    h.apply(rec.entries(id, 1, [e.awakeable(1), e.run(2, "a", value(1))], outcome.suspended(1)));
    h.apply(rec.completeEntry(id, 1, value("x")));

    const restored = deserializeState(JSON.parse(JSON.stringify(serializeState(h.state))));
    expect(restored).toEqual(h.state);
    const inv = restored.invocations.get(id)!;
    expect(inv.completionCount).toBe(2);
    expect(inv.journal.map(orderOf)).toEqual([undefined, 2, 1]);
    // The field keeps its place (createInvocation's order), so a restored state serializes identically.
    expect(Object.keys(inv)).toEqual(Object.keys(h.inv(id)));

    // A snapshot written before completionCount existed restores it as 0.
    const old = JSON.parse(JSON.stringify(serializeState(h.state)));
    delete old.invocations[0].completionCount;
    expect(deserializeState(old).invocations.get(id)!.completionCount).toBe(0);
  });
});
