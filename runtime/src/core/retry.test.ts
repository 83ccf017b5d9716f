import { backoffMs } from "./retry";
import { retryPolicy } from "./test-support/builders";

describe("backoffMs", () => {
  it("grows by factor from the initial interval, capped at maxIntervalMs; retryAfterMs wins", () => {
    const policy = { ...retryPolicy, initialIntervalMs: 500, factor: 2, maxIntervalMs: 60_000 };
    expect([1, 2, 3, 4, 8, 1_000_000].map((n) => backoffMs(policy, n))).toEqual([
      500, 1_000, 2_000, 4_000, 60_000, 60_000,
    ]);
    expect(backoffMs(policy, 3, 42)).toBe(42);
    expect(backoffMs(policy, 3, -5)).toBe(0);
    expect(backoffMs({ ...policy, factor: 1.5 }, 2)).toBe(750);
  });
});
