import type { Logger } from "../context/context-types";

/**
 * Options of an endpoint (and of the adapters built on it).
 *
 * @example
 * export const handler = lambdaHandler(checkout, { defaultInlineWaitMs: 2_000, alwaysReplay: false });
 */
export interface EndpointOptions {
  /** Suspend after every new completable entry and replay (tests); ignores the checkpoint channel. */
  alwaysReplay?: boolean;
  /** Expected wait of calls, awakeables, promises and attach when deciding to wait inline (1000 ms). */
  defaultInlineWaitMs?: number;
  /** Never wait inline on the checkpoint long-poll longer than this (10 000 ms). */
  maxInlineWaitMs?: number;
  /** Lambda time kept free to send the response (2000 ms). */
  safetyMarginMs?: number;
  /** How late a timer may fire before the SDK stops waiting for it inline (1000 ms). */
  sleepGraceMs?: number;
  /** Sink of `ctx.console` and SDK warnings (the global console). */
  logger?: Logger;
  /** fetch used for checkpoints (the global fetch). */
  fetch?: typeof fetch;
  /** Local clock for deadline decisions and request identity's time window only (Date.now). */
  now?: () => number;
  /**
   * The runtime public keys (`capstanpk1_…`, printed by `capstan identity-key`) whose signature every
   * message must carry; anything unsigned or signed otherwise is refused (PROTOCOL_IDENTITY_REJECTED).
   * Default: CAPSTAN_IDENTITY_PUBLIC_KEYS (comma-separated); unset and empty: every message is accepted.
   */
  identityKeys?: readonly string[];
}
