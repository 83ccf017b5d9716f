/**
 * fast-check generators for the property tests: commands over a small pool of invocations and object
 * keys, resolved into log records against the current state (so most records hit live invocations,
 * current attempts and existing timers, while some are deliberately stale).
 */
import fc from "fast-check";
import type { Completion, InvocationId, JournalEntry, Outcome } from "@capstan/sdk/protocol";
import type { LogRecord } from "../records";
import type { PartitionState } from "../state";
import { exclusive, invId, newInvocation, retryPolicy, svc, workflowRun } from "./builders";

const POOL = 6;
const KEYS = ["a", "b"];

export type Command =
  | {
      c: "invoke";
      n: number;
      shape: "service" | "exclusive" | "shared" | "workflow";
      key: number;
      idem: boolean;
      delayMs: number;
      retentionMs: number;
      maxAttempts: number | undefined;
    }
  | { c: "entries"; n: number; staleAttempt: boolean; kinds: number[]; outcome: number }
  | { c: "attempt-failed"; n: number; retryable: boolean }
  | { c: "timer-fired"; pick: number }
  | { c: "complete-entry"; n: number; pick: number }
  | { c: "control"; n: number; action: "cancel" | "kill" | "pause" | "resume" | "purge" }
  | { c: "attach"; n: number }
  | { c: "patch-state"; key: number; clearAll: boolean }
  | { c: "outbox-delivered"; to: number; upTo: number }
  | { c: "recover" }
  | { c: "remote"; seq: number; n: number }
  | { c: "advance"; ms: number };

const n = fc.integer({ min: 1, max: POOL });

export const commandArb: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      c: fc.constant("invoke" as const),
      n,
      shape: fc.constantFrom(
        "service" as const,
        "exclusive" as const,
        "shared" as const,
        "workflow" as const,
      ),
      key: fc.nat(KEYS.length - 1),
      idem: fc.boolean(),
      delayMs: fc.constantFrom(0, 0, 500),
      retentionMs: fc.constantFrom(0, 10_000),
      maxAttempts: fc.constantFrom(undefined, 2),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      c: fc.constant("entries" as const),
      n,
      staleAttempt: fc.nat(9).map((k) => k === 0),
      kinds: fc.array(fc.nat(13), { maxLength: 4 }),
      outcome: fc.nat(6),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ c: fc.constant("attempt-failed" as const), n, retryable: fc.boolean() }),
  },
  { weight: 4, arbitrary: fc.record({ c: fc.constant("timer-fired" as const), pick: fc.nat(20) }) },
  { weight: 2, arbitrary: fc.record({ c: fc.constant("complete-entry" as const), n, pick: fc.nat(8) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      c: fc.constant("control" as const),
      n,
      action: fc.constantFrom(
        "cancel" as const,
        "kill" as const,
        "pause" as const,
        "resume" as const,
        "purge" as const,
      ),
    }),
  },
  { weight: 1, arbitrary: fc.record({ c: fc.constant("attach" as const), n }) },
  {
    weight: 1,
    arbitrary: fc.record({
      c: fc.constant("patch-state" as const),
      key: fc.nat(KEYS.length - 1),
      clearAll: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ c: fc.constant("outbox-delivered" as const), to: fc.nat(3), upTo: fc.nat(30) }),
  },
  { weight: 1, arbitrary: fc.record({ c: fc.constant("recover" as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({ c: fc.constant("remote" as const), seq: fc.integer({ min: 1, max: 10 }), n }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ c: fc.constant("advance" as const), ms: fc.integer({ min: 1, max: 2_000 }) }),
  },
);

export const commandsArb = fc.array(commandArb, { minLength: 1, maxLength: 60 });

const id = (k: number): InvocationId => invId(0, k);
const val = (k: number): Completion => ({ kind: "value", value: String(k) });

function entryOf(kind: number, index: number): JournalEntry {
  switch (kind) {
    case 0:
      return { index, kind: "run", name: `r${index}`, result: val(index) };
    case 1:
      return { index, kind: "sleep", durationMs: 100 * (index % 5) };
    case 2:
      return { index, kind: "call", target: svc(), parameter: "1" };
    case 3:
      return {
        index,
        kind: "send",
        target: { service: "Obj", handler: "add", key: KEYS[index % 2]! },
        parameter: "1",
        delayMs: 10,
      };
    case 4:
      return { index, kind: "getState", key: "x" };
    case 5:
      return { index, kind: "setState", key: "x", value: String(index) };
    case 6:
      return { index, kind: "clearState", key: "x" };
    case 7:
      return { index, kind: "getStateKeys" };
    case 8:
      return { index, kind: "awakeable" };
    case 9:
      return { index, kind: "promiseGet", name: "p" };
    case 10:
      return { index, kind: "promiseComplete", name: "p", completion: val(index) };
    case 11:
      return { index, kind: "promisePeek", name: "p" };
    case 12:
      return { index, kind: "attach", invocationId: id(1 + (index % POOL)) };
    default:
      return { index, kind: "clearAllState" };
  }
}

function outcomeOf(k: number, journalLength: number): Outcome | undefined {
  switch (k) {
    case 0:
    case 1:
      return undefined;
    case 2:
      return { kind: "completed", value: "1" };
    case 3:
      return { kind: "failed", failure: { code: 400, message: "no" } };
    case 4:
      return { kind: "retry", error: { message: "again" } };
    default:
      return { kind: "suspended", awaiting: [journalLength - 1] };
  }
}

/** The log record a command stands for, given the current state. `clock.nowMs` advances with `advance`. */
export function toRecord(
  state: PartitionState,
  command: Command,
  clock: { nowMs: number },
): LogRecord | undefined {
  const atMs = clock.nowMs;
  switch (command.c) {
    case "invoke": {
      const key = KEYS[command.key]!;
      const base =
        command.shape === "service"
          ? newInvocation(id(command.n))
          : command.shape === "workflow"
            ? workflowRun(id(command.n), key)
            : exclusive(id(command.n), key, { handlerKind: command.shape });
      return {
        kind: "invoke",
        atMs,
        invocation: {
          ...base,
          retentionMs: command.retentionMs,
          retryPolicy: { ...retryPolicy, maxAttempts: command.maxAttempts },
          ...(command.idem ? { idempotencyKey: "idem" } : {}),
          ...(command.delayMs > 0 ? { notBeforeMs: atMs + command.delayMs } : {}),
        },
      };
    }
    case "entries": {
      const inv = state.invocations.get(id(command.n));
      if (inv === undefined) return undefined;
      const start = inv.journal.length;
      const entries = command.kinds.map((kind, i) => entryOf(kind, start + i));
      const outcome = outcomeOf(command.outcome, start + entries.length);
      const attempt = command.staleAttempt ? inv.attempt - 1 : inv.attempt;
      const record: LogRecord = { kind: "entries", atMs, invocationId: inv.id, attempt, entries };
      return outcome === undefined ? record : { ...record, outcome };
    }
    case "attempt-failed": {
      const inv = state.invocations.get(id(command.n));
      return {
        kind: "attempt-failed",
        atMs,
        invocationId: id(command.n),
        attempt: inv?.attempt ?? 1,
        message: "x",
        retryable: command.retryable,
      };
    }
    case "timer-fired": {
      const timers = [...state.timers.values()];
      const timer = timers[command.pick % Math.max(1, timers.length)];
      if (timer === undefined) return undefined;
      clock.nowMs = Math.max(clock.nowMs, timer.fireAtMs);
      return { kind: "timer-fired", atMs: clock.nowMs, timerId: timer.id };
    }
    case "complete-entry":
      return {
        kind: "complete-entry",
        atMs,
        invocationId: id(command.n),
        entryIndex: command.pick,
        result: val(command.pick),
      };
    case "control":
      return { kind: command.action, atMs, invocationId: id(command.n) };
    case "attach":
      return {
        kind: "attach",
        atMs,
        invocationId: id(command.n),
        waiter: { invocationId: invId(1, 1), entryIndex: 1 },
      };
    case "patch-state":
      return {
        kind: "patch-state",
        atMs,
        service: "Obj",
        key: KEYS[command.key]!,
        set: { y: "1" },
        clear: ["x"],
        clearAll: command.clearAll,
      };
    case "outbox-delivered":
      return { kind: "outbox-delivered", atMs, toPartition: command.to, upToSeq: command.upTo };
    case "recover":
      return { kind: "recover", atMs, epoch: 1 };
    case "remote":
      return {
        kind: "cancel",
        atMs,
        invocationId: id(command.n),
        origin: { partition: 1, seq: command.seq },
      };
    case "advance":
      clock.nowMs += command.ms;
      return undefined;
  }
}
