import type { Completion, RunEntry } from "../protocol";
import { errorToFailure, failureToError, messageOf } from "../errors/failure";
import { isTerminalError, TerminalError } from "../errors/terminal-error";
import { withCode } from "../errors/sdk-error-codes";
import type { RunOptions } from "../context/context-types";
import type { Serde } from "../serde/serde";
import { deserializeValue, jsonSerde, serializeValue } from "../serde/serde";
import type { CapstanPromise } from "./capstan-promise";
import { capstanPromise } from "./capstan-promise";
import type { InvocationEngine } from "./invocation-engine";
import { retryOutcome } from "./outcomes";

const DEFAULT_INITIAL_INTERVAL_MS = 500;
const DEFAULT_FACTOR = 2;
const DEFAULT_MAX_INTERVAL_MS = 60_000;

/** What to do after a retryable failure of a run body, given the attempts so far. */
export function runRetryDecision(
  policy: RunOptions<unknown>,
  attempt: number,
  elapsedMs: number,
): { exhausted: true } | { exhausted: false; retryAfterMs: number | undefined } {
  if (
    (policy.maxAttempts !== undefined && attempt >= policy.maxAttempts) ||
    (policy.maxDurationMs !== undefined && elapsedMs >= policy.maxDurationMs)
  ) {
    return { exhausted: true };
  }
  const configured =
    policy.initialIntervalMs !== undefined ||
    policy.factor !== undefined ||
    policy.maxIntervalMs !== undefined ||
    policy.maxAttempts !== undefined ||
    policy.maxDurationMs !== undefined;
  if (!configured) return { exhausted: false, retryAfterMs: undefined }; // the runtime's policy decides
  const interval =
    (policy.initialIntervalMs ?? DEFAULT_INITIAL_INTERVAL_MS) *
    (policy.factor ?? DEFAULT_FACTOR) ** (attempt - 1);
  return {
    exhausted: false,
    retryAfterMs: Math.min(policy.maxIntervalMs ?? DEFAULT_MAX_INTERVAL_MS, interval),
  };
}

function valueOf<T>(c: Completion, serde: Serde<T>, name: string): T {
  switch (c.kind) {
    case "value":
      return deserializeValue(serde, c.value, `result of run "${name}"`);
    case "empty":
      return undefined as T;
    case "failure":
      throw failureToError(c.failure);
  }
}

/**
 * `ctx.run`: replays a recorded result, or executes the body and records its result or terminal failure.
 * A retryable failure ends the attempt with outcome `retry` (the runtime re-invokes after retryAfterMs;
 * Lambda never loops in-process) until the policy is exhausted, which records a terminal failure the
 * handler can catch. The counters come from the request (attempts since the last recorded entry), so
 * they only apply when this run is the first entry the attempt adds.
 */
export function executeRun<T>(
  engine: InvocationEngine,
  name: string,
  fn: () => T | Promise<T>,
  options: RunOptions<T> = {},
): CapstanPromise<T> {
  const serde: Serde<T> = options.serde ?? (jsonSerde as Serde<T>);
  const { entry, recorded } = engine.command<RunEntry>({ index: 0, kind: "run", name });
  const source = engine.entrySource(entry, (c) => valueOf(c, serde, name));
  if (recorded && entry.result !== undefined) return capstanPromise(source);

  const { request } = engine;
  const firstNew = entry.index === request.journal.length || recorded;
  const attempt = firstNew ? request.retry.attemptsSinceLastEntry + 1 : 1;
  const elapsedMs =
    firstNew && request.retry.firstFailureAtMs !== undefined
      ? request.nowMs - request.retry.firstFailureAtMs
      : 0;

  const record = (result: Completion): void => engine.completeLocally(entry, result, true);
  const body = engine.tracing
    .run(name, entry.index, async () => fn())
    .then(
      (value) => {
        try {
          const payload = serializeValue(serde, value, `result of run "${name}"`);
          record({ kind: "value", value: payload });
        } catch (e) {
          record({ kind: "failure", failure: errorToFailure(e as TerminalError) });
        }
      },
      (e: unknown) => {
        if (isTerminalError(e)) {
          record({ kind: "failure", failure: errorToFailure(e) });
          return;
        }
        const decision = runRetryDecision(options, attempt, elapsedMs);
        if (decision.exhausted) {
          const exhausted = new TerminalError(
            withCode(
              "SDK_RUN_RETRIES_EXHAUSTED",
              `run "${name}" failed after ${attempt} attempts: ${messageOf(e)}`,
            ),
            { code: 500, cause: e },
          );
          record({ kind: "failure", failure: errorToFailure(exhausted) });
          return;
        }
        engine.endWith(retryOutcome(e, decision.retryAfterMs, { index: entry.index, kind: "run", name }));
      },
    );
  engine.trackRun(entry.index, body);
  return capstanPromise(source);
}
