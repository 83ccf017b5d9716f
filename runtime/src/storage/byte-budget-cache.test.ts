import { ByteBudgetCache } from "./byte-budget-cache";

describe("ByteBudgetCache", () => {
  it("holds entries up to its budget exactly; past it the oldest unread goes, a read one stays", () => {
    const cache = new ByteBudgetCache<string, number>(100, 60);
    cache.set("a", 1, 40);
    cache.set("b", 2, 60); // exactly the budget
    expect(cache.size).toEqual({ entries: 2, bytes: 100 });
    expect(cache.get("a")).toBe(1); // marked as read
    cache.set("c", 3, 1); // one byte over: "b" goes; "a", read, gets a second chance
    expect(cache.peek("b")).toBeUndefined();
    expect([cache.peek("a"), cache.peek("c")]).toEqual([1, 3]);
    expect(cache.size).toEqual({ entries: 2, bytes: 41 });
  });

  it("keeps an entry of exactly the largest size, never a larger one, which drops the old value", () => {
    const cache = new ByteBudgetCache<string, string | null>(100, 60);
    cache.set("k", "v1", 60);
    expect(cache.get("k")).toBe("v1");
    cache.set("k", "v2", 61);
    expect(cache.get("k")).toBeUndefined(); // not the stale v1
    expect(cache.size).toEqual({ entries: 0, bytes: 0 });
    cache.set("gone", null, 10); // null is a value: known absent
    expect(cache.get("gone")).toBeNull();
  });

  it("evicts as many as it takes, and peek leaves the order alone", () => {
    const cache = new ByteBudgetCache<number, number>(100, 100);
    for (let i = 0; i < 10; i++) cache.set(i, i, 10);
    expect(cache.peek(0)).toBe(0); // not marked: still the first to go
    cache.set(10, 10, 35); // 135 held: 0, 1, 2 and 3 go
    expect([0, 1, 2, 3].map((i) => cache.peek(i))).toEqual([undefined, undefined, undefined, undefined]);
    expect(cache.size).toEqual({ entries: 7, bytes: 95 });
    cache.clear();
    expect(cache.size).toEqual({ entries: 0, bytes: 0 });
  });
});
