/**
 * Log records: every event that changes a partition is one of these, appended to the partition's log
 * before it takes effect. `atMs` is stamped by the processor at append time; `apply` never reads a clock.
 */
import type {
  Completion,
  Failure,
  InvocationId,
  JournalEntry,
  Outcome,
  Payload,
} from "@capstan/sdk/protocol";
import type { EntryRef, InvocationRequest, NewInvocation } from "./state";

/** Set on records delivered from another partition's outbox; the receiver drops duplicates. */
export interface Origin {
  partition: number;
  seq: number;
}

interface Base {
  atMs: number;
  origin?: Origin;
}

export type LogRecord =
  /** A new invocation (ingress, call, send). Deduplicated by idempotency key / workflow id. */
  | (Base & { kind: "invoke"; invocation: NewInvocation })
  /**
   * An `invoke-request` outbox message whose target the registry does not know: no invocation is
   * created; a caller's call entry is completed with `failure` (e.g. 404 service not found).
   */
  | (Base & { kind: "invoke-refused"; request: InvocationRequest; failure: Failure })
  /**
   * Entries from a live attempt: a checkpoint (`outcome` absent) or the attempt's final response.
   * Rejected (no change) when `attempt` is not the invocation's current attempt.
   */
  | (Base & {
      kind: "entries";
      invocationId: InvocationId;
      attempt: number;
      entries: JournalEntry[];
      outcome?: Outcome;
    })
  /** The invoker could not complete an attempt (network, throttling, FunctionError, abort timeout). */
  | (Base & {
      kind: "attempt-failed";
      invocationId: InvocationId;
      attempt: number;
      message: string;
      retryable: boolean;
    })
  /** A timer is due. Applied once: the timer is removed; a missing timer makes the record a no-op. */
  | (Base & { kind: "timer-fired"; timerId: string })
  /** Completes an entry of an invocation in this partition (call result, awakeable, attach result). */
  | (Base & {
      kind: "complete-entry";
      invocationId: InvocationId;
      entryIndex: number;
      result: Completion;
      /** Awakeable ids come from outside: such a completion may complete an `awakeable` entry only. */
      awakeableOnly?: true;
    })
  /** Another invocation attaches to `invocationId`; it gets the result when there is one. */
  | (Base & { kind: "attach"; invocationId: InvocationId; waiter: EntryRef })
  | (Base & { kind: "cancel"; invocationId: InvocationId })
  | (Base & { kind: "kill"; invocationId: InvocationId })
  | (Base & { kind: "pause"; invocationId: InvocationId })
  /**
   * A new attempt of a paused or backing-off invocation now, with a fresh retry budget. With
   * `deploymentId` (resolved and checked by the runtime before appending) the invocation moves to
   * that deployment: its journal replays on the new code.
   */
  | (Base & { kind: "resume"; invocationId: InvocationId; deploymentId?: string })
  /** Removes a completed invocation (and its idempotency / workflow entries) now. */
  | (Base & { kind: "purge"; invocationId: InvocationId })
  /** Admin state edit of one object key. */
  | (Base & {
      kind: "patch-state";
      service: string;
      key: string;
      set: Record<string, Payload>;
      clear: string[];
      clearAll: boolean;
    })
  /** The receiving partition applied our outbox messages up to `upToSeq`: drop them. */
  | (Base & { kind: "outbox-delivered"; toPartition: number; upToSeq: number })
  /**
   * Written once when a processor (re)starts leading the partition: every attempt in flight before it
   * is stale, so running invocations get a new attempt (which also fences the old one's token).
   */
  | (Base & { kind: "recover"; epoch: number });

export type RecordKind = LogRecord["kind"];
export type RecordOf<K extends RecordKind> = Extract<LogRecord, { kind: K }>;
