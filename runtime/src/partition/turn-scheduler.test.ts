import { TurnScheduler } from "./turn-scheduler";

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe("TurnScheduler", () => {
  it("runs the tasks of one turn together, after the turn, in the order they came", async () => {
    const turns = new TurnScheduler();
    const ran: string[] = [];
    turns.schedule(() => ran.push("a"));
    turns.schedule(() => ran.push("b"));
    expect(ran).toEqual([]);

    await nextTurn();

    expect(ran).toEqual(["a", "b"]);
  });

  it("gives a task scheduled by a running task the next turn", async () => {
    const turns = new TurnScheduler();
    const ran: string[] = [];
    turns.schedule(() => {
      ran.push("first");
      turns.schedule(() => ran.push("second"));
    });

    await nextTurn();
    expect(ran).toEqual(["first"]);
    await nextTurn();
    expect(ran).toEqual(["first", "second"]);
  });

  it("lets microtasks queued by the tasks run only once all of them ran (one store flush per turn)", async () => {
    const turns = new TurnScheduler();
    const ran: string[] = [];
    turns.schedule(() => {
      ran.push("p0");
      queueMicrotask(() => ran.push("flush"));
    });
    turns.schedule(() => ran.push("p1"));

    await nextTurn();

    expect(ran).toEqual(["p0", "p1", "flush"]);
  });
});
