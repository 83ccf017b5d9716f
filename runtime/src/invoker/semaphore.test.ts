import { Semaphore, SemaphoreFullError } from "./semaphore";

describe("Semaphore", () => {
  it("grants up to its limit, queues FIFO up to maxWaiting, and rejects beyond", async () => {
    const slots = new Semaphore(2, 2);
    const order: string[] = [];

    const r1 = await slots.acquire();
    const r2 = await slots.acquire();
    const w1 = slots.acquire().then((r) => (order.push("w1"), r));
    const w2 = slots.acquire().then((r) => (order.push("w2"), r));
    await expect(slots.acquire()).rejects.toBeInstanceOf(SemaphoreFullError);
    expect({ inUse: slots.inUse, waiting: slots.waiting }).toEqual({ inUse: 2, waiting: 2 });

    r1();
    r1(); // a double release counts once
    const g1 = await w1;
    expect(order).toEqual(["w1"]);
    expect(slots.inUse).toBe(2);
    r2();
    const g2 = await w2;
    g1();
    g2();
    expect(order).toEqual(["w1", "w2"]);
    expect({ inUse: slots.inUse, waiting: slots.waiting }).toEqual({ inUse: 0, waiting: 0 });
  });

  it("drops a waiter whose signal aborts and rejects with the signal's reason", async () => {
    const slots = new Semaphore(1, 10);
    const release = await slots.acquire();
    const controller = new AbortController();

    const waiting = slots.acquire(controller.signal);
    controller.abort(new Error("deadline"));

    await expect(waiting).rejects.toThrow("deadline");
    expect(slots.waiting).toBe(0);
    await expect(slots.acquire(controller.signal)).rejects.toThrow("deadline");
    release();
    expect(slots.inUse).toBe(0);
    expect(() => new Semaphore(0, 1)).toThrow(RangeError);
  });
});
