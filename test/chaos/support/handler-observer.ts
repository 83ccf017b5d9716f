/**
 * What the crash test sees from the handler side. The handlers run in the test process (served over
 * real HTTP by @capstan/sdk/http), so every side effect is observed exactly, in one event loop, ordered
 * by one sequence number:
 * - each execution of an instrumented `ctx.run` body (invocation, step, the unique token it returns);
 * - each piece of evidence that a step's result is durable: a 200 checkpoint ack for a request carrying
 *   the run entry with its result (the runtime acks only once durable), or an invoke request whose
 *   journal already carries it (the runtime dispatches only recorded entries);
 * - attempts of exclusive object handlers in flight per (runtime incarnation, object, key);
 * - wake-ups after a durable timer (sleep or delayed send) against the earliest time it may fire.
 * The runtime incarnation of an attempt is its checkpoint URL (the child's admin listener, a fresh
 * ephemeral port per child process), carried to the handler through AsyncLocalStorage.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { Context, Endpoint, Logger } from "@capstan/sdk";
import type { Completion, JournalEntry } from "@capstan/sdk/protocol";

export interface StepExecution {
  seq: number;
  invocationId: string;
  step: string;
  token: string;
  incarnation: string;
  attempt: number;
}

export interface DurableEvidence {
  seq: number;
  invocationId: string;
  step: string;
  value: string;
  source: "checkpoint-ack" | "invoke-journal";
}

export interface OverlapViolation {
  seq: number;
  incarnation: string;
  object: string;
  running: string[];
  starting: string;
}

export interface WakeObservation {
  kind: "sleep" | "delayed-send";
  invocationId: string;
  /** The earliest time the timer may fire, as the handler process knows it. */
  notBeforeMs: number;
  observedMs: number;
}

interface AttemptScope {
  incarnation: string;
}

/**
 * How the observer meets the world. The crash test uses the defaults (real time, real network); the
 * simulation (test/simulation/) passes its fake clock, turn-based pauses and in-process transport.
 */
export interface ObserverOptions {
  /** The clock wake-ups are checked against. Default: Date.now. */
  nowMs?: () => number;
  /** A short non-durable pause inside a handler. Default: a real setTimeout. */
  pause?: (ms: number) => Promise<void>;
  /** The transport under `fetch` (the SDK's checkpoints). Default: the global fetch. */
  fetch?: typeof fetch;
  /** Share of instrumented step executions that throw a retryable error (default 0). */
  stepFailureRate?: number;
}

/** Services whose every handler is exclusive: at most one invocation per key may run at a time. */
export const EXCLUSIVE_SERVICES = new Set(["Counter", "Tally", "Audit"]);

/** A completion as one comparable string: the payload for values, else the JSON of the completion. */
export function completionText(c: Completion): string {
  return c.kind === "value" ? c.value : JSON.stringify(c);
}

export class HandlerObserver {
  readonly executions: StepExecution[] = [];
  readonly evidence: DurableEvidence[] = [];
  readonly overlaps: OverlapViolation[] = [];
  readonly wakes: WakeObservation[] = [];
  attempts = 0;
  checkpointAcks = 0;
  checkpointFailures = 0;
  /** SDK warnings (checkpoint channel unavailable while a runtime is dead, …): counted, not printed. */
  sdkWarnings = 0;
  private seq = 0;
  private readonly scope = new AsyncLocalStorage<AttemptScope>();
  /** `incarnation|service|key` → invocation id → attempts of it in flight. */
  private readonly inFlight = new Map<string, Map<string, number>>();

  private readonly nowMs: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly transport: typeof fetch;
  private readonly stepFailureRate: number;

  constructor(
    private readonly random: () => number,
    options: ObserverOptions = {},
  ) {
    this.nowMs = options.nowMs ?? Date.now;
    this.sleep = options.pause ?? pause;
    this.transport = options.fetch ?? ((input, init) => fetch(input, init));
    this.stepFailureRate = options.stepFailureRate ?? 0;
  }

  /** The observer's clock, journaled as a step (the handler's `now` for a wake-up check). */
  now(ctx: Context): Promise<number> {
    return ctx.run("t0", () => this.nowMs());
  }

  tick(): number {
    return ++this.seq;
  }

  /** The endpoint with attempt scopes, journal evidence and exclusive-handler tracking around it. */
  wrap(endpoint: Endpoint): Endpoint {
    return {
      definitions: endpoint.definitions,
      handle: async (message, options) => {
        const invoke = asInvoke(message);
        if (invoke === undefined) return endpoint.handle(message, options);
        this.attempts++;
        const incarnation = invoke.checkpoint?.url ?? "request-response";
        this.recordEvidence(invoke.invocationId, invoke.journal, "invoke-journal");
        const slot = EXCLUSIVE_SERVICES.has(invoke.target.service)
          ? `${incarnation}|${invoke.target.service}|${invoke.target.key ?? ""}`
          : undefined;
        if (slot !== undefined) this.enter(slot, incarnation, invoke.invocationId);
        try {
          return await this.scope.run({ incarnation }, () => endpoint.handle(message, options));
        } finally {
          if (slot !== undefined) this.leave(slot, invoke.invocationId);
        }
      },
    };
  }

  /** fetch for the SDK's checkpoint client: a 200 ack makes the request's run results durable. */
  readonly fetch: typeof fetch = async (input, init) => {
    let response: Response;
    try {
      response = await this.transport(input, init);
    } catch (e) {
      this.checkpointFailures++;
      throw e;
    }
    if (response.status === 200 && typeof init?.body === "string") {
      this.checkpointAcks++;
      const request = JSON.parse(init.body) as { invocationId: string; entries: JournalEntry[] };
      this.recordEvidence(request.invocationId, request.entries, "checkpoint-ack");
    } else {
      this.checkpointFailures++;
    }
    return response;
  };

  /** Logger for the endpoint: a killed runtime makes the SDK warn on every orphaned attempt. */
  readonly logger: Logger = {
    log: () => undefined,
    info: () => undefined,
    debug: () => undefined,
    warn: () => void this.sdkWarnings++,
    error: (...args: unknown[]) => console.error(...args),
  };

  /**
   * An instrumented step: its body records the execution, yields for a few ms (widening the window in
   * which a kill finds it running) and returns a token unique to this execution.
   */
  step(ctx: Context, name: string, onExecute?: () => void): Promise<string> {
    return ctx.run(name, async () => {
      const seq = this.tick();
      const token = `${name}#${seq}`;
      const request = ctx.request();
      this.executions.push({
        seq,
        invocationId: request.id,
        step: name,
        token,
        incarnation: this.scope.getStore()?.incarnation ?? "unknown",
        attempt: request.attempt,
      });
      onExecute?.();
      await this.sleep(Math.floor(this.random() * 6));
      // A transient failure: the step is retried; its result is recorded only once one execution returns.
      if (this.random() < this.stepFailureRate) throw new Error(`injected failure of ${token}`);
      return token;
    });
  }

  /** A short non-durable pause inside a handler, to widen race windows. */
  pause(maxMs: number): Promise<void> {
    return this.sleep(Math.floor(this.random() * (maxMs + 1)));
  }

  recordWake(kind: WakeObservation["kind"], invocationId: string, notBeforeMs: number): void {
    this.wakes.push({ kind, invocationId, notBeforeMs, observedMs: this.nowMs() });
  }

  private recordEvidence(
    invocationId: string,
    entries: JournalEntry[],
    source: DurableEvidence["source"],
  ): void {
    const seq = this.tick();
    for (const e of entries) {
      if (e.kind !== "run" || e.result === undefined) continue;
      this.evidence.push({ seq, invocationId, step: e.name, value: completionText(e.result), source });
    }
  }

  private enter(slot: string, incarnation: string, invocationId: string): void {
    const running = this.inFlight.get(slot) ?? new Map<string, number>();
    this.inFlight.set(slot, running);
    const others = [...running.keys()].filter((id) => id !== invocationId);
    if (others.length > 0) {
      this.overlaps.push({
        seq: this.tick(),
        incarnation,
        object: slot.slice(incarnation.length + 1),
        running: others,
        starting: invocationId,
      });
    }
    running.set(invocationId, (running.get(invocationId) ?? 0) + 1);
  }

  private leave(slot: string, invocationId: string): void {
    const running = this.inFlight.get(slot);
    const n = (running?.get(invocationId) ?? 1) - 1;
    if (n > 0) running!.set(invocationId, n);
    else running?.delete(invocationId);
  }
}

interface InvokeLike {
  invocationId: string;
  target: { service: string; key?: string };
  journal: JournalEntry[];
  checkpoint?: { url: string };
}

function asInvoke(message: unknown): InvokeLike | undefined {
  const m = (typeof message === "string" ? JSON.parse(message) : message) as { type?: unknown } | null;
  return m !== null && typeof m === "object" && m.type === "invoke"
    ? (m as unknown as InvokeLike)
    : undefined;
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
