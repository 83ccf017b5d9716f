/**
 * A middy middleware writing one structured log line per Lambda invocation: which protocol message
 * it was (discovery, or which handler attempt), how it ended and how long it took. One line per
 * invocation is what CloudWatch Logs Insights queries best, e.g.
 * `filter middleware = "capstan-invocation-log" | stats avg(durationMs) by target`.
 *
 * It only observes: Capstan's middy mode needs the event and the response passed through unchanged.
 */
import type { MiddlewareObj } from "@middy/core";

/** The fields of one log line. */
export interface InvocationLogLine {
  middleware: "capstan-invocation-log";
  messageType: string;
  /** `Service/handler` (with `/key` for objects and workflows) of an invoke; absent for discovery. */
  target?: string;
  invocationId?: string;
  attempt?: number;
  /** `completed` | `failed` | `retry` | `suspended` for an invoke, `discovery`, or `error` if it threw. */
  outcome: string;
  durationMs: number;
  remainingTimeMs: number;
}

export interface InvocationLogOptions {
  /** Where lines go (default: one JSON line on stdout, which Lambda ships to CloudWatch). */
  write?: (line: InvocationLogLine) => void;
  /** Clock for durations (default `Date.now`). */
  nowMs?: () => number;
}

type Message = {
  type?: unknown;
  invocationId?: unknown;
  attempt?: unknown;
  target?: { service?: unknown; handler?: unknown; key?: unknown };
};

function describeEvent(
  event: unknown,
): Pick<InvocationLogLine, "messageType" | "target" | "invocationId" | "attempt"> {
  const m = (typeof event === "object" && event !== null ? event : {}) as Message;
  const t = m.target;
  return {
    messageType: typeof m.type === "string" ? m.type : "unknown",
    ...(t && { target: [t.service, t.key, t.handler].filter((p) => typeof p === "string").join("/") }),
    ...(typeof m.invocationId === "string" && { invocationId: m.invocationId }),
    ...(typeof m.attempt === "number" && { attempt: m.attempt }),
  };
}

function outcomeOf(response: unknown): string {
  const r = (typeof response === "object" && response !== null ? response : {}) as {
    type?: unknown;
    outcome?: { kind?: unknown };
  };
  if (typeof r.outcome?.kind === "string") return r.outcome.kind;
  return typeof r.type === "string" ? r.type : "unknown";
}

/**
 * The middleware.
 *
 * @example
 * export const handler = middy(capstanMiddy(greeter)).use(invocationLog());
 * // stdout: {"middleware":"capstan-invocation-log","messageType":"invoke","target":"Greeter/greet",
 * //          "invocationId":"inv_3_…","attempt":1,"outcome":"suspended","durationMs":4,"remainingTimeMs":29871}
 */
export function invocationLog(options: InvocationLogOptions = {}): MiddlewareObj {
  const write = options.write ?? ((line: InvocationLogLine) => console.log(JSON.stringify(line)));
  const nowMs = options.nowMs ?? Date.now;
  const started = new WeakMap<object, number>();
  const finish = (
    request: { event: unknown; context: { getRemainingTimeInMillis(): number } },
    outcome: string,
  ): void => {
    const start = started.get(request) ?? nowMs();
    write({
      middleware: "capstan-invocation-log",
      ...describeEvent(request.event),
      outcome,
      durationMs: nowMs() - start,
      remainingTimeMs: request.context.getRemainingTimeInMillis(),
    });
  };
  return {
    name: "capstan-invocation-log",
    before: (request) => {
      started.set(request, nowMs());
    },
    after: (request) => finish(request, outcomeOf(request.response)),
    onError: (request) => finish(request, "error"),
  };
}
