/**
 * Properties of the state machine over random record sequences. A failure prints fast-check's seed
 * and path; rerun with `fc.assert(..., { seed, path })` to reproduce.
 */
import fc from "fast-check";
import { apply } from "./apply";
import type { Effect } from "./effects";
import { lockKeyOf } from "./lifecycle";
import type { PartitionState } from "./state";
import { emptyPartitionState } from "./state";
import { deserializeState, serializeState } from "./snapshot";
import { PARTITIONS } from "./test-support/builders";
import type { Command } from "./test-support/random-records";
import { commandsArb, toRecord } from "./test-support/random-records";

const RUNS = 300;

interface Run {
  state: PartitionState;
  effects: Effect[][];
  lsn: number;
  clock: { nowMs: number };
}

function newRun(): Run {
  return { state: emptyPartitionState(0, PARTITIONS), effects: [], lsn: 0, clock: { nowMs: 1_000 } };
}

function step(run: Run, command: Command): void {
  const record = toRecord(run.state, command, run.clock);
  if (record === undefined) return;
  run.lsn += 1;
  run.effects.push(apply(run.state, run.lsn, record));
}

const json = (state: PartitionState): string => JSON.stringify(serializeState(state));

/** Exclusive invocations holding (or entitled to) their key: at most one per key, and it is the lock holder. */
function assertOneExclusivePerKey(state: PartitionState): void {
  const holders = new Map<string, string[]>();
  for (const inv of state.invocations.values()) {
    const key = lockKeyOf(inv);
    if (key === undefined) continue;
    if (!["running", "suspended", "backing-off", "paused"].includes(inv.status)) continue;
    holders.set(key, [...(holders.get(key) ?? []), inv.id]);
  }
  for (const [key, ids] of holders) {
    expect(ids).toHaveLength(1);
    expect(state.locks.get(key)).toBe(ids[0]);
  }
  for (const [key, holder] of state.locks) {
    expect(state.invocations.get(holder)?.status).not.toBe("completed");
    expect(lockKeyOf(state.invocations.get(holder)!)).toBe(key);
  }
}

describe("apply: properties", () => {
  it("is deterministic: the same records give the same state and effects", () => {
    fc.assert(
      fc.property(commandsArb, (commands) => {
        const [a, b] = [newRun(), newRun()];
        for (const command of commands) {
          step(a, command);
          step(b, command);
        }
        expect(json(a.state)).toBe(json(b.state));
        expect(a.effects).toEqual(b.effects);
      }),
      { numRuns: RUNS },
    );
  });

  it("round-trips snapshots, and a restored state continues exactly like the original", () => {
    fc.assert(
      fc.property(commandsArb, commandsArb, (before, after) => {
        const original = newRun();
        for (const command of before) step(original, command);

        const snapshot = JSON.parse(JSON.stringify(serializeState(original.state))) as unknown;
        const restored: Run = {
          ...newRun(),
          state: deserializeState(snapshot),
          lsn: original.lsn,
          clock: { ...original.clock },
        };
        expect(json(restored.state)).toBe(json(original.state));
        expect(restored.state).toEqual(original.state);

        original.effects = [];
        for (const command of after) {
          step(original, command);
          step(restored, command);
        }
        expect(json(restored.state)).toBe(json(original.state));
        expect(restored.effects).toEqual(original.effects);
      }),
      { numRuns: RUNS },
    );
  });

  it("never lets two exclusive handlers of one key hold it at once (guarantee 3)", () => {
    fc.assert(
      fc.property(commandsArb, (commands) => {
        const run = newRun();
        for (const command of commands) {
          step(run, command);
          assertOneExclusivePerKey(run.state);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("fires a timer once: the same timer-fired record applied again changes nothing", () => {
    fc.assert(
      fc.property(commandsArb, fc.nat(20), (commands, pick) => {
        const run = newRun();
        for (const command of commands) step(run, command);
        const record = toRecord(run.state, { c: "timer-fired", pick }, run.clock);
        fc.pre(record !== undefined);
        apply(run.state, ++run.lsn, record);
        const afterFirst = json(run.state);

        const second = apply(run.state, ++run.lsn, record);

        expect(second).toEqual([]);
        expect(json({ ...run.state, appliedLsn: run.lsn - 1 })).toBe(afterFirst);
      }),
      { numRuns: RUNS },
    );
  });

  it("ignores a record whose origin seq was already applied", () => {
    fc.assert(
      fc.property(
        commandsArb,
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 1, max: 6 }),
        (commands, seq, n) => {
          const run = newRun();
          for (const command of commands) step(run, command);
          const record = toRecord(run.state, { c: "remote", seq, n }, run.clock)!;
          apply(run.state, ++run.lsn, record);
          const afterFirst = json(run.state);

          const again = apply(run.state, ++run.lsn, record);
          const older = apply(run.state, ++run.lsn, { ...record, origin: { partition: 1, seq: seq - 1 } });

          expect(again).toEqual([]);
          expect(older).toEqual([]);
          expect(json({ ...run.state, appliedLsn: run.lsn - 2 })).toBe(afterFirst);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("keeps every timer, lock and inbox pointing at a live invocation", () => {
    fc.assert(
      fc.property(commandsArb, (commands) => {
        const run = newRun();
        for (const command of commands) {
          step(run, command);
          const { state } = run;
          for (const timer of state.timers.values()) {
            const inv = state.invocations.get(timer.invocationId);
            expect(inv).toBeDefined();
            expect(timer.kind === "expire").toBe(inv!.status === "completed");
          }
          for (const inbox of state.inboxes.values()) {
            for (const id of inbox) expect(state.invocations.get(id)?.status).toBe("inboxed");
          }
          for (const inv of state.invocations.values()) {
            expect(inv.status === "backing-off").toBe(state.timers.has(`retry:${inv.id}:${inv.attempt}`));
            expect(inv.status === "scheduled").toBe(state.timers.has(`delayed-invoke:${inv.id}`));
          }
        }
      }),
      { numRuns: RUNS },
    );
  });
});
