import { ManualClock } from "../testing/manual-clock";
import type { Timer } from "../core/state";
import { TimerService } from "./timer-service";
import fc from "fast-check";

function timer(id: string, fireAtMs: number): Timer {
  return { id, fireAtMs, kind: "expire", invocationId: "inv_0_aaaaaaaa" as Timer["invocationId"] };
}

describe("TimerService", () => {
  test("fires each timer once, never before its time, in due order", () => {
    const clock = new ManualClock(1_000);
    const fired: string[] = [];
    const timers = new TimerService(clock, (p, id) => fired.push(`${p}:${id}`), false);
    timers.schedule(0, timer("b", 3_000));
    timers.schedule(1, timer("a", 2_000));
    timers.schedule(0, timer("c", 2_000));
    timers.cancel(0, "c");
    clock.advanceTo(1_999);
    timers.fireDue();
    expect(fired).toEqual([]);
    clock.advanceTo(2_000);
    timers.fireDue();
    timers.fireDue();
    expect(fired).toEqual(["1:a"]);
    expect(timers.nextFireAtMs()).toBe(3_000);
    clock.advanceTo(10_000);
    timers.fireDue();
    expect(fired).toEqual(["1:a", "0:b"]);
    expect(timers.size).toBe(0);
  });

  test("a rescheduled timer fires at its new time only", () => {
    const clock = new ManualClock(0);
    const fired: number[] = [];
    const timers = new TimerService(clock, () => fired.push(clock.nowMs()), false);
    timers.schedule(0, timer("x", 100));
    timers.schedule(0, timer("x", 500));
    clock.advanceTo(100);
    timers.fireDue();
    expect(fired).toEqual([]);
    clock.advanceTo(500);
    timers.fireDue();
    expect(fired).toEqual([500]);
  });

  test("property: for any schedule, every live timer fires exactly once and never early", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 1_000 }), fc.boolean()),
          { maxLength: 60 },
        ),
        fc.array(fc.integer({ min: 0, max: 1_100 }), { minLength: 1, maxLength: 10 }),
        (ops, steps) => {
          const clock = new ManualClock(0);
          const fired = new Map<string, number>();
          const timers = new TimerService(
            clock,
            (_p, id) => {
              expect(fired.has(id)).toBe(false);
              fired.set(id, clock.nowMs());
            },
            false,
          );
          const live = new Map<string, number>();
          for (const [n, at, cancel] of ops) {
            const id = `t${n}`;
            if (cancel) {
              timers.cancel(0, id);
              live.delete(id);
            } else if (!fired.has(id)) {
              timers.schedule(0, timer(id, at));
              live.set(id, at);
            }
          }
          for (const t of [...steps].sort((a, b) => a - b)) {
            clock.advanceTo(t);
            timers.fireDue();
          }
          for (const [id, at] of live) {
            if (at <= clock.nowMs()) expect(fired.get(id)).toBeGreaterThanOrEqual(at);
            else expect(fired.has(id)).toBe(false);
          }
          for (const id of fired.keys()) expect(live.has(id)).toBe(true);
        },
      ),
    );
  });
});

test("cancelled timers do not pile up in the wake-up heap", () => {
  const timers = new TimerService(new ManualClock(0), () => undefined, false);
  for (let i = 0; i < 20_000; i++) {
    timers.schedule(0, timer(`t${i}`, 86_400_000 + i));
    timers.cancel(0, `t${i}`);
  }
  expect(timers.size).toBe(0);
  expect(timers.heapSize).toBeLessThan(2_100);
});
