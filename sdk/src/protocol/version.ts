/**
 * The wire protocol version spoken between the runtime and the SDK.
 *
 * Version history (one line per version, never reuse a number):
 * - 1: JSON over Lambda Invoke or HTTP POST; journal + eager state pushed in the request; checkpoint
 *      channel with completions on the acknowledgement and a bounded long-poll; cancel delivered as a
 *      CANCELLED failure completion of awaited entries.
 */
export const PROTOCOL_VERSION = 1 as const;
/** The oldest version this build still accepts. */
export const MIN_PROTOCOL_VERSION = 1 as const;
export type ProtocolVersion = typeof PROTOCOL_VERSION;
