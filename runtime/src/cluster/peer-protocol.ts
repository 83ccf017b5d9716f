/**
 * The node-to-node protocol on the peer listener (CAPSTAN_PEER_PORT): two routes, both POST with a
 * JSON body signed under the cluster key (security/peer-auth.ts).
 *
 * - `PEER_CALL_PATH` `{ method, args }`: one RuntimeApi call that names a partition, run by the
 *   receiving node on its own partitions only (it never forwards again, so a request cannot loop);
 *   answers `{ value }` or the call's error as `{ code, message }` with its status and `retry-after`.
 *   `sqlRowsPage` is the one call that names its partition outright: a page of one SQL table's rows of
 *   a partition the receiver leads, for a query another node answers (sql-rows-page.ts).
 * - `PEER_APPEND_PATH` `{ partition, record }`: an outbox record for a partition the receiver leads,
 *   appended as the runtime's own (`internal`); answers `{}` once durable and applied.
 * - `PEER_CHANGED_PATH` `{ from, leaving }`: the sender (node id `from`) changed the cluster (joined,
 *   took or handed over partitions, left; `leaving` while it hands everything over); the receiver
 *   runs its lease tick now instead of at its interval and answers `{}` at once. It carries no
 *   claim: the tick reads the membership and fences itself.
 */

export const PEER_CALL_PATH = "/peer/v1/call";
export const PEER_APPEND_PATH = "/peer/v1/append";
export const PEER_CHANGED_PATH = "/peer/v1/changed";
/**
 * A change notice is given up after this: it only saves waiting for the receiver's next tick, and a
 * leaving node waits for it before it exits.
 */
export const PEER_CHANGED_TIMEOUT_MS = 1_000;

/** The calls a node forwards to a partition's leader (`restartRequest` reads what restart-as-new resubmits). */
export const PEER_METHODS = [
  "submit",
  "call",
  "awaitResult",
  "output",
  "workflowInvocation",
  "idempotentInvocation",
  "completeAwakeable",
  "checkpoint",
  "listLedInvocations",
  "describeInvocation",
  "invocationLogs",
  "invocationAction",
  "resumeInvocation",
  "restartRequest",
  "getState",
  "patchState",
  "sqlRowsPage",
] as const;

export type PeerMethod = (typeof PEER_METHODS)[number];

/** The most arguments any peer method takes. */
export const MAX_PEER_ARGS = 3;

export function isPeerMethod(value: unknown): value is PeerMethod {
  return typeof value === "string" && (PEER_METHODS as readonly string[]).includes(value);
}
