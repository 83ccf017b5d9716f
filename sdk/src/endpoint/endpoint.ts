import type { DiscoveryResponse, InvokeRequest, InvokeResponse } from "../protocol";
import {
  decodeRuntimeToSdk,
  MAX_REQUEST_BYTES,
  parseJson,
  PROTOCOL_VERSION,
  verifyIdentity,
} from "../protocol";
import { withCode } from "../errors/sdk-error-codes";
import type { Definition } from "../definitions/definition";
import { isDefinition } from "../definitions/definition";
import { resolveHandler } from "../definitions/define";
import { invokeHandler } from "../engine/invoke-handler";
import { DEFAULT_INLINE_WAIT_POLICY } from "../engine/suspension-policy";
import { describeServices } from "./discovery";
import type { EndpointOptions } from "./endpoint-options";
import { resolveIdentityKeys } from "./identity-keys";

/** Per-message inputs from the adapter. */
export interface HandleOptions {
  /** Time left before the platform kills this execution (Lambda's getRemainingTimeInMillis). */
  remainingTimeMs?: () => number;
}

/**
 * The transport-free core every adapter wraps: protocol JSON in, protocol JSON out.
 */
export interface Endpoint {
  /**
   * Answers one runtime message: `discover` → DiscoveryResponse, `invoke` → InvokeResponse. Accepts the
   * parsed JSON (or its text). Rejects with ProtocolError for a malformed message, and with
   * AttemptSupersededError when the runtime fenced this attempt off, and with ProtocolError
   * PROTOCOL_IDENTITY_REJECTED when identity keys are configured and the message is not signed by one.
   */
  handle(message: unknown, options?: HandleOptions): Promise<unknown>;
  readonly definitions: readonly Definition[];
}

/**
 * Serves definitions over any transport. The runtime's testing kit calls `handle` in-process.
 *
 * @example
 * const endpoint = createEndpoint(greeter, counter, { alwaysReplay: true });
 * const response = await endpoint.handle({ type: "discover", protocolVersion: 1 });
 */
export function createEndpoint(...args: Array<Definition | EndpointOptions>): Endpoint {
  const definitions = args.filter(isDefinition);
  const options: EndpointOptions = Object.assign({}, ...args.filter((a) => !isDefinition(a)));
  const byName = new Map<string, Definition>();
  for (const d of definitions) {
    if (byName.has(d.name)) throw new TypeError(`two definitions named ${d.name}`);
    byName.set(d.name, d);
  }
  const sink = options.logger ?? console;
  const identityKeys = resolveIdentityKeys(options.identityKeys);
  const policy = {
    defaultInlineWaitMs: options.defaultInlineWaitMs ?? DEFAULT_INLINE_WAIT_POLICY.defaultInlineWaitMs,
    maxInlineWaitMs: options.maxInlineWaitMs ?? DEFAULT_INLINE_WAIT_POLICY.maxInlineWaitMs,
    safetyMarginMs: options.safetyMarginMs ?? DEFAULT_INLINE_WAIT_POLICY.safetyMarginMs,
    sleepGraceMs: options.sleepGraceMs ?? DEFAULT_INLINE_WAIT_POLICY.sleepGraceMs,
  };

  const invoke = async (request: InvokeRequest, handleOptions: HandleOptions): Promise<InvokeResponse> => {
    const definition = byName.get(request.target.service);
    const handler = definition && resolveHandler(definition, request.target.handler);
    if (handler === undefined) {
      return {
        type: "response",
        protocolVersion: PROTOCOL_VERSION,
        invocationId: request.invocationId,
        attemptToken: request.attemptToken,
        entries: [],
        outcome: {
          kind: "failed",
          failure: {
            code: 404,
            name: "TerminalError",
            message: withCode(
              "SDK_UNKNOWN_HANDLER",
              `${request.target.service}/${request.target.handler} is not served by this deployment`,
            ),
          },
        },
      };
    }
    return invokeHandler(
      handler,
      request,
      {
        alwaysReplay: options.alwaysReplay ?? false,
        policy,
        now: options.now ?? Date.now,
        warn: (m) => sink.warn(m),
        ...(handleOptions.remainingTimeMs !== undefined && {
          remainingTimeMs: handleOptions.remainingTimeMs,
        }),
        ...(options.fetch !== undefined && { fetch: options.fetch }),
      },
      sink,
    );
  };

  return {
    definitions,
    async handle(message: unknown, handleOptions: HandleOptions = {}): Promise<unknown> {
      let raw =
        typeof message === "string" || Buffer.isBuffer(message)
          ? parseJson(message, MAX_REQUEST_BYTES)
          : message;
      // Before anything is decoded or run: with keys configured, only the runtime may drive handlers.
      if (identityKeys.length > 0) raw = verifyIdentity(raw, identityKeys, (options.now ?? Date.now)());
      const request = decodeRuntimeToSdk(raw);
      if (request.type === "discover") return describeServices(definitions) satisfies DiscoveryResponse;
      return invoke(request, handleOptions);
    },
  };
}
