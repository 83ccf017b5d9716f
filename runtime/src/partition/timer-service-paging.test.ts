import fc from "fast-check";
import type { Timer } from "../core/state";
import { compareTimerKeys, type TimerKey } from "../core/timers";
import { ManualClock } from "../testing/manual-clock";
import { MAX_WINDOW_TIMERS, TIMER_PAGE_SIZE, TimerService, type TimerSource } from "./timer-service";

function timer(id: string, fireAtMs: number): Timer {
  return { id, fireAtMs, kind: "expire", invocationId: "inv_0_aaaaaaaa" as Timer["invocationId"] };
}

/** A partition's timers as its state holds them, with reads that answer when the test says so. */
class FakeTimerState {
  readonly timers = new Map<string, Timer>();
  readonly reads: Array<() => void> = [];
  failNext = false;
  readCount = 0;

  page(after: TimerKey | undefined, limit: number): Timer[] {
    return [...this.timers.values()]
      .filter((t) => after === undefined || compareTimerKeys(t, after) > 0)
      .sort(compareTimerKeys)
      .slice(0, limit);
  }

  /** Answers at once (a local partition's view). */
  readonly immediate: TimerSource = async (_p, after, limit) => {
    this.readCount++;
    if (this.failNext) {
      this.failNext = false;
      throw new Error("partition stopped");
    }
    return this.page(after, limit);
  };

  /** Answers when `answerReads` runs, read then (a remote partition, with writes meanwhile). */
  readonly deferred: TimerSource = (_p, after, limit) =>
    new Promise((resolve) => this.reads.push(() => resolve(this.page(after, limit))));

  /** Reads the state at once but answers only when `answerReads` runs (writes after the read). */
  readonly readNowAnswerLater: TimerSource = (_p, after, limit) => {
    const page = this.page(after, limit);
    return new Promise((resolve) => this.reads.push(() => resolve(page)));
  };

  answerReads(): void {
    for (const answer of this.reads.splice(0)) answer();
  }
}

/** Lets the reads' promise callbacks run. */
const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

describe("TimerService windows over a partition's timers", () => {
  test("holds at most MAX_WINDOW_TIMERS in memory, pages the rest, fires all once, in order, on time", async () => {
    const clock = new ManualClock(0);
    const state = new FakeTimerState();
    const fired: Array<[string, number]> = [];
    const service = new TimerService(
      clock,
      (_p, id) => {
        fired.push([id, clock.nowMs()]);
        state.timers.delete(id); // as `apply` of timer-fired does
      },
      false,
      { source: state.immediate },
    );
    service.reload(0);
    await flush();
    // At the limit: MAX_WINDOW_TIMERS scheduled timers stay in the window …
    for (let i = 0; i < MAX_WINDOW_TIMERS; i++) {
      const t = timer(`t${String(i).padStart(5, "0")}`, 1_000 + i);
      state.timers.set(t.id, t);
      service.schedule(0, t);
    }
    expect(service.size).toBe(MAX_WINDOW_TIMERS);
    // … one more and the window keeps its earliest page; the rest stay in the state only.
    const extra = 3 * MAX_WINDOW_TIMERS;
    for (let i = MAX_WINDOW_TIMERS; i < extra; i++) {
      const t = timer(`t${String(i).padStart(5, "0")}`, 1_000 + i);
      state.timers.set(t.id, t);
      service.schedule(0, t);
      expect(service.size).toBeLessThanOrEqual(MAX_WINDOW_TIMERS);
    }
    expect(service.size).toBeLessThanOrEqual(MAX_WINDOW_TIMERS);
    expect(service.nextFireAtMs()).toBe(1_000);

    for (let at = 1_000; at < 1_000 + extra; at += 97) {
      clock.advanceTo(at);
      service.fireDue();
      await flush();
      expect(service.size).toBeLessThanOrEqual(MAX_WINDOW_TIMERS);
    }
    clock.advanceTo(1_000 + extra);
    while (state.timers.size > 0) {
      service.fireDue();
      await flush();
    }
    expect(fired.map(([id]) => id)).toEqual(
      [...Array(extra).keys()].map((i) => `t${String(i).padStart(5, "0")}`),
    );
    for (const [id, at] of fired) expect(at).toBeGreaterThanOrEqual(1_000 + Number(id.slice(1)));
    expect(service.size).toBe(0);
  });

  test("a restart pages the whole schedule from the state a page at a time", async () => {
    const clock = new ManualClock(0);
    const state = new FakeTimerState();
    for (let i = 0; i < 5 * TIMER_PAGE_SIZE + 3; i++) state.timers.set(`t${i}`, timer(`t${i}`, 10 + (i % 7)));
    const fired = new Set<string>();
    const service = new TimerService(
      clock,
      (_p, id) => {
        expect(fired.has(id)).toBe(false);
        fired.add(id);
        state.timers.delete(id);
      },
      false,
      { source: state.immediate },
    );
    service.reload(3);
    await flush();
    expect(service.size).toBe(TIMER_PAGE_SIZE);
    clock.advanceTo(9);
    service.fireDue();
    expect(fired.size).toBe(0); // never early
    clock.advanceTo(16);
    for (let i = 0; i < 10 && state.timers.size > 0; i++) {
      service.fireDue();
      await flush();
    }
    expect(fired.size).toBe(5 * TIMER_PAGE_SIZE + 3);
    expect(service.idle).toBe(true);
  });

  test("a failed read is retried; writes during a slow read are not lost", async () => {
    const clock = new ManualClock(0);
    const state = new FakeTimerState();
    const fired: string[] = [];
    let source: TimerSource = state.immediate;
    const service = new TimerService(clock, (_p, id) => fired.push(id) && state.timers.delete(id), false, {
      source: (p, after, limit) => source(p, after, limit),
      pageSize: 2,
    });
    state.timers.set("a", timer("a", 5));
    state.failNext = true;
    service.reload(0);
    await flush();
    expect(service.size).toBe(0);
    service.fireDue(); // a manual clock retries on the next fireDue
    await flush();
    expect(service.size).toBe(1);

    // While a page is read, "b" is committed and scheduled, and "a" cancelled: the page (read
    // before both) must neither lose "b" nor bring back "a".
    source = state.readNowAnswerLater;
    service.reload(0);
    state.timers.set("b", timer("b", 7));
    service.schedule(0, timer("b", 7));
    state.timers.delete("a");
    service.cancel(0, "a");
    expect(service.idle).toBe(false);
    state.answerReads();
    await flush();
    expect(service.idle).toBe(true);
    clock.advanceTo(100);
    service.fireDue();
    expect(fired).toEqual(["b"]);
  });

  test("property: with slow reads, small pages and any interleaving, every timer fires once, never early", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant("schedule" as const), at: fc.integer({ min: 0, max: 500 }) }),
            fc.record({ op: fc.constant("cancel" as const), n: fc.nat(40) }),
            fc.record({ op: fc.constant("advance" as const), by: fc.integer({ min: 0, max: 120 }) }),
            fc.record({ op: fc.constant("answer" as const) }),
            fc.record({ op: fc.constant("reload" as const) }),
          ),
          { maxLength: 80 },
        ),
        fc.integer({ min: 1, max: 4 }),
        fc.boolean(),
        async (ops, pageSize, readAtCall) => {
          const clock = new ManualClock(0);
          const state = new FakeTimerState();
          const fireAt = new Map<string, number>();
          const cancelled = new Set<string>();
          const fired = new Map<string, number>();
          const service = new TimerService(
            clock,
            (_p, id) => {
              expect(fired.has(id)).toBe(false);
              fired.set(id, clock.nowMs());
              state.timers.delete(id);
            },
            false,
            { source: readAtCall ? state.readNowAnswerLater : state.deferred, pageSize },
          );
          let next = 0;
          for (const op of ops) {
            if (op.op === "schedule") {
              const t = timer(`t${next++}`, clock.nowMs() + op.at);
              fireAt.set(t.id, t.fireAtMs);
              state.timers.set(t.id, t);
              service.schedule(0, t);
            } else if (op.op === "cancel") {
              const id = `t${op.n}`;
              if (state.timers.delete(id)) {
                cancelled.add(id);
                service.cancel(0, id);
              }
            } else if (op.op === "advance") {
              clock.advanceBy(op.by);
              service.fireDue();
            } else if (op.op === "answer") {
              state.answerReads();
              await flush();
            } else service.reload(0);
          }
          // Drain: answer reads and move time until every timer left in the state has fired.
          clock.advanceBy(1_000);
          for (let i = 0; i < 1_000 && (state.timers.size > 0 || !service.idle); i++) {
            state.answerReads();
            await flush();
            service.fireDue();
          }
          expect(state.timers.size).toBe(0);
          for (const [id, at] of fireAt) {
            if (cancelled.has(id)) expect(fired.has(id)).toBe(false);
            else expect(fired.get(id)).toBeGreaterThanOrEqual(at);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test("a dropped partition forgets its window, and a page read meanwhile is discarded", async () => {
    const clock = new ManualClock(0);
    const state = new FakeTimerState();
    const fired: string[] = [];
    const service = new TimerService(clock, (p, id) => fired.push(`${p}:${id}`), false, {
      source: state.deferred,
    });
    state.timers.set("a", timer("a", 5));
    service.reload(1);
    service.schedule(2, timer("b", 5));
    service.dropPartition(1);
    service.dropPartition(2);
    state.answerReads();
    await flush();
    clock.advanceTo(10);
    service.fireDue();
    expect(fired).toEqual([]);
    expect(service.size).toBe(0);
    expect(service.idle).toBe(true);
  });

  test("refuses a window smaller than a page", () => {
    expect(
      () => new TimerService(new ManualClock(0), () => undefined, false, { pageSize: 4, maxWindowTimers: 3 }),
    ).toThrow(RangeError);
  });
});
