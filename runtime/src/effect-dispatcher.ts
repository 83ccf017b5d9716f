/**
 * Turns the effects of applied records into I/O: attempts (attempt driver), wake-ups (timer service),
 * cross-partition messages (outbox delivery) and answers to waiting callers (waiters). Effects reach
 * it only after their record is durable and applied.
 */
import type { Completion, InvocationId } from "@capstan/sdk/protocol";
import type { Effect } from "./core/effects";
import type { AttemptDriver } from "./invocation/attempt-driver";
import type { Waiters } from "./invocation/waiters";
import type { OutboxDelivery } from "./partition/outbox-delivery";
import type { TimerService } from "./partition/timer-service";

export interface EffectTargets {
  driver: AttemptDriver;
  timers: TimerService;
  outbox: OutboxDelivery;
  /** Ingress callers waiting for a result. */
  resultWaiters: Waiters<Completion>;
  /** Checkpoint long-polls waiting for a completion of a running invocation. */
  completionWaiters: Waiters<void>;
  /** New and finished invocations, for their spans and latency (telemetry). */
  reports: {
    started(invocationId: InvocationId): void;
    finished(invocationId: InvocationId, result: Completion): void;
  };
}

export function dispatchEffects(to: EffectTargets, partition: number, effects: readonly Effect[]): void {
  for (const e of effects) {
    switch (e.kind) {
      case "invoke":
        to.driver.start(partition, e.invocationId, e.attempt);
        break;
      case "abort-attempt":
        to.driver.abort(e.invocationId, e.attempt);
        break;
      case "schedule-timer":
        to.timers.schedule(partition, e.timer);
        break;
      case "cancel-timer":
        to.timers.cancel(partition, e.timerId);
        break;
      case "reload-timers":
        to.timers.reload(partition);
        break;
      case "send":
        to.outbox.deliver(partition, e.toPartition, e.seq, e.message);
        break;
      case "invocation-finished":
        to.reports.finished(e.invocationId, e.result);
        to.completionWaiters.wake(e.invocationId, undefined);
        to.resultWaiters.wake(e.invocationId, e.result);
        break;
      case "completion-available":
        to.completionWaiters.wake(e.invocationId, undefined);
        break;
      case "invocation-accepted":
        if (!e.existing) to.reports.started(e.invocationId);
        break;
      case "entries-accepted":
      case "entries-rejected":
      case "request-rejected":
      case "invocation-removed":
        break; // answered through the promise of the record that caused them
      default: {
        const never: never = e;
        throw new Error(`unhandled effect ${JSON.stringify(never)}`);
      }
    }
  }
}
