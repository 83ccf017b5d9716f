/**
 * Effects: what the processor must do after a record is durable and applied. Plain data; `apply`
 * returns them and never performs I/O itself.
 */
import type { Completion, InvocationId } from "@capstan/sdk/protocol";
import type { OutboxMessage, Timer } from "./state";

export type Effect =
  /** Start attempt `attempt` of the invocation (request built from the current state). */
  | { kind: "invoke"; invocationId: InvocationId; attempt: number }
  /** Abort the in-flight attempt, if any (kill, pause). */
  | { kind: "abort-attempt"; invocationId: InvocationId; attempt: number }
  | { kind: "schedule-timer"; timer: Timer }
  | { kind: "cancel-timer"; timerId: string }
  /** Rebuild the partition's timer schedule from its state (recover: paged by the timer service). */
  | { kind: "reload-timers" }
  /** Deliver an outbox entry to another partition (or this one). */
  | { kind: "send"; toPartition: number; seq: number; message: OutboxMessage }
  /** An invoke record resolved to this invocation: new, or an existing one (idempotency key, workflow id). */
  | { kind: "invocation-accepted"; invocationId: InvocationId; requestedId: InvocationId; existing: boolean }
  /** Terminal result: answer ingress callers waiting on the invocation. */
  | { kind: "invocation-finished"; invocationId: InvocationId; result: Completion }
  /** A checkpoint was applied: the processor answers it with the completions the SDK waits on. */
  | { kind: "entries-accepted"; invocationId: InvocationId; attempt: number; journalLength: number }
  /** A checkpoint or response was refused without any change. */
  | {
      kind: "entries-rejected";
      invocationId: InvocationId;
      attempt: number;
      code:
        "INVOKE_STALE_ATTEMPT" | "INVOKE_JOURNAL_MISMATCH" | "INVOKE_NOT_FOUND" | "INVOKE_JOURNAL_TOO_LONG";
      message: string;
    }
  /** An entry of a running invocation was completed: wake its checkpoint long-poll. */
  | { kind: "completion-available"; invocationId: InvocationId }
  /** A control request (cancel/kill/pause/resume/purge/attach) named an unknown or unsuitable invocation. */
  | { kind: "request-rejected"; invocationId: InvocationId; code: string; message: string }
  /** The invocation was removed from state (retention expired or purge). */
  | { kind: "invocation-removed"; invocationId: InvocationId };

export type EffectKind = Effect["kind"];
