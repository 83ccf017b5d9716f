/**
 * The first thing the checkpoint endpoint does with a request: check its attempt credential against
 * the key and the partition's current leadership, before the rest of the body is decoded. A refusal
 * changes nothing; only what passes here reaches the log.
 */
import { isInvocationId, partitionOfInvocationId, STALE_ATTEMPT_CODE } from "@capstan/sdk/protocol";
import { RuntimeError } from "../runtime-error";
import type { AttemptClaims, AttemptCredentials } from "./attempt-credentials";

/** A credential the runtime issued, unexpired, for this invocation: who the checkpoint may act for. */
export type VerifiedAttempt = Readonly<AttemptClaims>;

/** 401 for a credential the runtime never issued (forged, tampered, moved to another invocation). */
export const CHECKPOINT_UNAUTHORIZED = "CHECKPOINT_UNAUTHORIZED";
/** 401 for a genuine credential past its expiry. */
export const CHECKPOINT_CREDENTIAL_EXPIRED = "CHECKPOINT_CREDENTIAL_EXPIRED";

/**
 * @param epochOf the leadership epoch this node holds for a partition (undefined: not led here).
 * @example
 * const attempt = authenticateAttempt(credentials, (p) => processors[p]?.epoch, body.invocationId, body.attemptToken, now);
 */
export function authenticateAttempt(
  credentials: AttemptCredentials,
  epochOf: (partition: number) => number | undefined,
  invocationId: unknown,
  token: unknown,
  nowMs: number,
): VerifiedAttempt {
  // One answer for every way a credential can be wrong: a forger learns nothing about which field.
  const unauthorized = (): RuntimeError =>
    new RuntimeError(CHECKPOINT_UNAUTHORIZED, "not a valid attempt credential for this invocation");
  // The id's shape first (bounded length): the MAC is never computed over an arbitrary string.
  if (!isInvocationId(invocationId)) throw unauthorized();
  const verified = credentials.verify(token, invocationId, nowMs);
  if (verified === "expired")
    throw new RuntimeError(CHECKPOINT_CREDENTIAL_EXPIRED, "the attempt credential has expired");
  if (verified === "invalid" || partitionOfInvocationId(invocationId) !== verified.partition)
    throw unauthorized();
  // Genuine but issued under another leadership of the partition: superseded, like an old attempt.
  if (epochOf(verified.partition) !== verified.epoch)
    throw new RuntimeError(STALE_ATTEMPT_CODE, "the attempt credential is from a previous leadership");
  return verified;
}
