/**
 * The wire protocol version spoken between the runtime and the SDK.
 *
 * Version history (one line per version, never reuse a number):
 * - 1: JSON over Lambda Invoke or HTTP POST; journal + eager state pushed in the request; checkpoint
 *      channel with completions on the acknowledgement and a bounded long-poll; cancel delivered as a
 *      CANCELLED failure completion of awaited entries.
 *      Later additions within version 1 are optional fields only, so both sides still accept each
 *      other's messages: `completionOrder` on completed entries and ack completions, and
 *      `recordedOrders` on the checkpoint ack (deterministic race/any/orTimeout on replay). A journal
 *      without them replays as before (array order breaks ties). The optional `identity` field (a
 *      signed JWT, identity.ts) on runtime → SDK messages; `attemptToken` became a MAC credential
 *      (opaque to the SDK, which only echoes it). Then `traceparent` on the invoke request and
 *      `entry` (the failed step) on a `retry` outcome, for traces and operators.
 *      `partitions` on the invoke request (send handles derive the child invocation id; absent,
 *      `await handle.invocationId` fails).
 *      Not compatible, before any release (every package is versioned in step): the checkpoint's
 *      `invocationId` and `attemptToken` moved from its body to the `x-capstan-invocation-id` and
 *      `x-capstan-attempt-token` headers (checkpoint-credential.ts), checked before the body is
 *      read; a body still holding them is refused, a request without the headers is a 401.
 */
export const PROTOCOL_VERSION = 1 as const;
/** The oldest version this build still accepts. */
export const MIN_PROTOCOL_VERSION = 1 as const;
export type ProtocolVersion = typeof PROTOCOL_VERSION;
