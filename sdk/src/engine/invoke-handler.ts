import type { InvokeRequest, InvokeResponse, Outcome } from "../protocol";
import { isTerminalError, TerminalError } from "../errors/terminal-error";
import { withCode } from "../errors/sdk-error-codes";
import type { ResolvedHandler } from "../definitions/define";
import type { Logger } from "../context/context-types";
import { DurableContext } from "../context/durable-context";
import { deserializeValue, jsonSerde, serializeValue } from "../serde/serde";
import type { EngineConfig } from "./invocation-engine";
import { InvocationEngine } from "./invocation-engine";
import { failedOutcome, retryOutcome } from "./outcomes";

/**
 * Runs one attempt of `handler` for `request`: replay, new commands, checkpoints, and the final response.
 * Rejects only with AttemptSupersededError (a newer attempt owns the invocation).
 */
export async function invokeHandler(
  handler: ResolvedHandler,
  request: InvokeRequest,
  config: Omit<EngineConfig, "request">,
  sink: Logger,
): Promise<InvokeResponse> {
  const engine = new InvocationEngine({ ...config, request });
  const ctx = new DurableContext(engine, handler, sink);
  const input = request.journal[0]!;
  const inSerde = handler.config.input ?? handler.config.serde ?? jsonSerde;
  const outSerde = handler.config.output ?? handler.config.serde ?? jsonSerde;

  const finish = async (outcome: Outcome): Promise<void> => {
    const nde = engine.journal.unreplayed();
    if (nde !== undefined) {
      engine.endWith(retryOutcome(nde));
      return;
    }
    // A run still executing must record its result (or fail the attempt) before the handler's end counts.
    await engine.runsIdle();
    engine.endWith(outcome);
  };

  const body = (async () => {
    if (input.kind !== "input")
      throw new TerminalError(withCode("SDK_INTERNAL", "journal[0] is not the input"));
    const value = deserializeValue(inSerde, input.value, "handler input");
    return engine.tracing.within(() => handler.fn(ctx, value));
  })();
  body
    .then(
      async (value) => {
        let outcome: Outcome;
        try {
          outcome = { kind: "completed", value: serializeValue(outSerde, value, "handler output") };
        } catch (e) {
          outcome = failedOutcome(e as TerminalError);
        }
        await finish(outcome);
      },
      async (e: unknown) => {
        await finish(isTerminalError(e) ? failedOutcome(e) : retryOutcome(e));
      },
    )
    .catch((e: unknown) => engine.endWith(retryOutcome(e)));

  let outcome: Outcome;
  try {
    outcome = await engine.finished;
  } catch (e) {
    engine.tracing.end(undefined);
    throw e;
  }
  engine.tracing.end(outcome);
  return engine.response(outcome);
}
