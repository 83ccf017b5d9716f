import type { DiscoveryResponse, HandlerOptions, ServiceDescription } from "../protocol";
import { MIN_PROTOCOL_VERSION, PROTOCOL_VERSION } from "../protocol";
import type { Definition, HandlerConfig } from "../definitions/definition";
import { resolveHandler } from "../definitions/define";

export const SDK_NAME = "@capstan/sdk";
export const SDK_VERSION = "0.1.0";

/** The options reported to the runtime: the protocol's HandlerOptions, never the serdes. */
function reported(config: HandlerConfig | undefined): HandlerOptions | undefined {
  if (config === undefined) return undefined;
  const out: HandlerOptions = {};
  if (config.retryPolicy !== undefined) out.retryPolicy = { ...config.retryPolicy };
  if (config.abortTimeoutMs !== undefined) out.abortTimeoutMs = config.abortTimeoutMs;
  if (config.idempotencyRetentionMs !== undefined) out.idempotencyRetentionMs = config.idempotencyRetentionMs;
  if (config.journalRetentionMs !== undefined) out.journalRetentionMs = config.journalRetentionMs;
  if (config.ingressPrivate !== undefined) out.ingressPrivate = config.ingressPrivate;
  return Object.keys(out).length > 0 ? out : undefined;
}

export function describeServices(definitions: readonly Definition[]): DiscoveryResponse {
  return {
    type: "discovery",
    protocolVersion: PROTOCOL_VERSION,
    minProtocolVersion: MIN_PROTOCOL_VERSION,
    sdk: { name: SDK_NAME, version: SDK_VERSION },
    services: definitions.map((d): ServiceDescription => {
      const options = reported(d.options);
      return {
        name: d.name,
        kind: d.kind,
        handlers: Object.keys(d.handlers as object).map((name) => {
          const h = resolveHandler(d, name)!;
          const own = reported(h.ownConfig);
          return { name, kind: h.kind, ...(own !== undefined && { options: own }) };
        }),
        ...(options !== undefined && { options }),
      };
    }),
  };
}
