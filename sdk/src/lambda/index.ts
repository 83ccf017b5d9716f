/**
 * @capstan/sdk/lambda: the Lambda adapter. The runtime invokes the function with Lambda Invoke
 * (RequestResponse) and the event IS the protocol message; the result is the protocol response.
 */
import type { Definition } from "../definitions/definition";
import type { Endpoint } from "../endpoint/endpoint";
import { createEndpoint } from "../endpoint/endpoint";
import type { EndpointOptions } from "../endpoint/endpoint-options";
import { flushRegisteredTracerProvider } from "../engine/attempt-tracing";
import { isProtocolError, ProtocolError } from "../protocol";

/** The part of Lambda's context the adapter reads. */
export interface LambdaContextLike {
  getRemainingTimeInMillis(): number;
  callbackWaitsForEmptyEventLoop?: boolean;
}

/** A Lambda handler answering protocol messages. */
export type CapstanLambdaHandler = (event: unknown, context: LambdaContextLike) => Promise<unknown>;

function toLambdaHandler(endpoint: Endpoint): CapstanLambdaHandler {
  return async (event, context) => {
    // A suspended handler leaves promises pending forever; never hold the response for them.
    context.callbackWaitsForEmptyEventLoop = false;
    try {
      return await endpoint.handle(event, { remainingTimeMs: () => context.getRemainingTimeInMillis() });
    } catch (e) {
      // Lambda reports a thrown error as errorType/errorMessage: keep the stable code readable there.
      if (isProtocolError(e)) throw new ProtocolError(e.code, `${e.code}: ${e.message}`, { cause: e });
      throw e;
    } finally {
      // Lambda may freeze the environment as soon as the handler returns: spans still buffered in a
      // registered provider's batch processor would leave late or never.
      await flushRegisteredTracerProvider((m) => console.warn(`[capstan] ${m}`));
    }
  };
}

/**
 * The Lambda handler for `definitions` (plus optional EndpointOptions as any argument). Malformed
 * messages fail the invocation with a ProtocolError whose message starts with its code; a superseded
 * attempt fails with AttemptSupersededError, which the runtime ignores (it fenced the attempt itself).
 * Before it returns, it force-flushes the OpenTelemetry tracer provider the application registered
 * (if any), so the attempt's spans leave before Lambda freezes the environment.
 *
 * @example
 * export const handler = lambdaHandler(checkout, cart);
 */
export function lambdaHandler(...args: Array<Definition | EndpointOptions>): CapstanLambdaHandler {
  return toLambdaHandler(createEndpoint(...args));
}

/**
 * The base handler for middy: wrap it with `middy(...)` to keep your middlewares (logging, tracing,
 * warmup). Middlewares must pass the event through unchanged; the response is the protocol response.
 *
 * @example
 * import middy from "@middy/core";
 * export const handler = middy(capstanMiddy(checkout)).use(injectLambdaContext(logger));
 */
export function capstanMiddy(...args: Array<Definition | EndpointOptions>): CapstanLambdaHandler {
  return toLambdaHandler(createEndpoint(...args));
}

/**
 * Adapts an existing endpoint (e.g. shared with the HTTP adapter).
 *
 * @example
 * export const handler = lambdaHandlerFor(createEndpoint(checkout, { defaultInlineWaitMs: 2000 }));
 */
export function lambdaHandlerFor(endpoint: Endpoint): CapstanLambdaHandler {
  return toLambdaHandler(endpoint);
}
